package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// dockerDefaults is what testdata/probe reports in a container Docker
// (25 and later) runs with its defaults: the syscalls its seccomp profile
// blocks fail with EPERM, 14 capabilities, masked and read-only /proc
// paths, a network of its own.
var dockerDefaults = map[string]string{
	"add_key": "EPERM", "keyctl": "EPERM", "bpf": "EPERM", "setns": "EPERM", "io_uring_setup": "EPERM",
	"personality-0x400000": "EPERM", "unshare-user": "EPERM", "unshare-mount": "EPERM", "mount": "EPERM",
	"reboot": "EPERM", "clock_settime": "EPERM", "caps": "14", "seccomp-mode": "2",
	"proc-timer_list": "0 bytes", "proc-sys-write": "EROFS", "root-write": "ok", "interfaces": "eth0,lo",
}

// The same isolation probe, run in a Berth container, agrees with
// Docker's reference results, by default and with each option that
// changes them (and an option that asks for less gets less).
func TestIsolationMatchesDocker(t *testing.T) {
	if !SeccompEnabled {
		if os.Getenv("CI") != "" {
			t.Fatal("the engine is built without seccomp: the tests run with -tags seccomp (and libseccomp-dev)")
		}
		t.Skip("built without seccomp (go test -tags seccomp, with libseccomp-dev): the default profile cannot be checked")
	}
	e := newEnv(t)
	e.addProbe(t)
	hostCaps := readCaps(t)
	for _, tc := range []struct {
		name string
		sec  engine.Security
		net  string
		want map[string]string
	}{
		{"defaults", engine.Security{}, "", dockerDefaults},
		{"cap-drop ALL", engine.Security{CapDrop: []string{"ALL"}}, "", map[string]string{"caps": "0", "seccomp-mode": "2", "mount": "EPERM"}},
		{"cap-add SYS_ADMIN", engine.Security{CapAdd: []string{"SYS_ADMIN"}}, "", map[string]string{"caps": "15", "seccomp-mode": "2", "unshare-mount": "ok"}},
		{"privileged", engine.Security{Privileged: true}, "", map[string]string{"caps": hostCaps, "seccomp-mode": "0", "mount": "ok", "proc-sys-write": "ok", "proc-timer_list": "16 bytes"}},
		{"seccomp unconfined", engine.Security{Seccomp: "unconfined"}, "", map[string]string{"seccomp-mode": "0", "caps": "14", "mount": "EPERM", "personality-0x400000": "ok"}},
		{"read-only", engine.Security{ReadOnly: true}, "", map[string]string{"root-write": "EROFS", "seccomp-mode": "2"}},
		{"ulimit", engine.Security{Ulimits: []engine.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}}}, "", map[string]string{"nofile-hard": "200"}},
		{"pids-limit", engine.Security{PidsLimit: 50}, "", map[string]string{"pids-max": "50"}},
		{"network none", engine.Security{}, "none", map[string]string{"interfaces": "lo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, errOut, code := e.run(t, engine.ContainerSpec{Image: "probe", Cmd: []string{"/probe"}, Env: []string{"BERTH_PROBE=in-a-container"}, Security: tc.sec, Network: tc.net})
			if code != 0 {
				t.Fatalf("probe exit %d: %s", code, errOut)
			}
			got := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				k, v, _ := strings.Cut(line, "=")
				got[k] = v
			}
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s: %s, Docker gives %s", k, got[k], want)
				}
			}
		})
	}
	// Options that cannot work are refused at create, not at start.
	for _, sec := range []engine.Security{{CapAdd: []string{"CAP_BOGUS"}}, {Ulimits: []engine.Ulimit{{Name: "bogus", Soft: 1, Hard: 1}}}, {Seccomp: "{not json"}} {
		id, err := e.rt.Create(context.Background(), engine.ContainerSpec{Image: "probe", Cmd: []string{"/probe"}, Security: sec})
		if err == nil {
			err = e.rt.Start(context.Background(), id)
		}
		if err == nil {
			t.Errorf("%+v was accepted", sec)
		}
	}
}

// addProbe stores an image of busybox with testdata/probe at /probe.
func (e *env) addProbe(t *testing.T) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "probe")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "probe", Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg})
	tw.Write(data)
	tw.Close()
	layer, err := tarball.LayerFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(enginetest.Busybox(t), layer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Put(context.Background(), img, store.PutOptions{Names: []string{"probe"}}); err != nil {
		t.Fatal(err)
	}
}

// readCaps counts the engine's own effective capabilities: a privileged
// container gets them all.
func readCaps(t *testing.T) string {
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return strconv.Itoa(bits.OnesCount64(caps))
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return ""
}
