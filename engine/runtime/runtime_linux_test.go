package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

var bridgeSeq atomic.Int32

// testBridge gives each test runtime a bridge and subnet of its own, so
// test packages running at the same time never share addresses.
func testBridge() (name, bip string) {
	n := bridgeSeq.Add(1)
	return fmt.Sprintf("brt%d-%d", os.Getpid()%100000, n), fmt.Sprintf("10.%d.%d.1/24", 90+os.Getpid()%60, n%250)
}

type env struct {
	rt     *Runtime
	store  *store.Store
	data   string
	runDir string
}

func newEnv(t *testing.T) *env { return newEnvTB(t) }

func newEnvTB(t testing.TB) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("containers need root (namespaces, mounts, cgroups)")
	}
	data, run := t.TempDir(), t.TempDir()
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Put(context.Background(), enginetest.Busybox(t), store.PutOptions{Names: []string{"busybox"}}); err != nil {
		t.Fatal(err)
	}
	bridge, bip := testBridge()
	rt, err := New(data, st, WithRunDir(run), WithBridge(bridge, bip, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(); rt.net.remove() })
	t.Cleanup(func() {
		list, _ := rt.List(context.Background(), true)
		for _, c := range list {
			rt.Remove(context.Background(), c.ID, true, true)
		}
	})
	return &env{rt: rt, store: st, data: data, runDir: run}
}

// run creates, attaches, starts and waits, like `docker run`.
func (e *env) run(t *testing.T, spec engine.ContainerSpec) (id, stdout, stderr string, code int) {
	t.Helper()
	ctx := context.Background()
	if spec.Image == "" {
		spec.Image = "busybox"
	}
	id, err := e.rt.Create(ctx, spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	var out, errOut enginetest.Buffer
	wait, err := e.rt.Attach(ctx, id, engine.AttachOptions{Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatal(err)
	}
	// As docker run: the wait is registered before the start.
	waitExit, err := e.rt.Wait(ctx, id, "next-exit")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, err = waitExit(); err != nil {
		t.Fatal(err)
	}
	wait()
	return id, out.String(), errOut.String(), code
}

func TestRunExitCodeOutputEnvWorkdir(t *testing.T) {
	e := newEnv(t)
	id, out, errOut, code := e.run(t, engine.ContainerSpec{
		Cmd:        []string{"sh", "-c", `echo "hi $GREETING from $(pwd) as $(id -u):$(id -g) on $(hostname)"; echo oops >&2; exit 3`},
		Env:        []string{"GREETING=hello"},
		WorkingDir: "/tmp",
		User:       "nobody",
	})
	if code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	want := fmt.Sprintf("hi hello from /tmp as 65534:65534 on %s\n", id[:12])
	if out != want || errOut != "oops\n" {
		t.Errorf("stdout %q stderr %q, want %q and %q", out, errOut, want, "oops\n")
	}
	c, _ := e.rt.Inspect(context.Background(), id)
	if c.State.Status != engine.StatusExited || c.State.ExitCode != 3 {
		t.Errorf("state %+v", c.State)
	}
	var logs []string
	e.rt.Logs(context.Background(), id, engine.LogOptions{Stdout: true, Stderr: true, Tail: -1}, func(l engine.LogEntry) error {
		logs = append(logs, l.Stream+":"+string(l.Data))
		return nil
	})
	// stdout and stderr are separate pipes: their relative order is not fixed.
	sort.Strings(logs)
	if strings.Join(logs, "|") != "stderr:oops\n|stdout:"+want {
		t.Errorf("logs %q", logs)
	}
}

func TestIsolationDefaults(t *testing.T) {
	e := newEnv(t)
	_, out, _, code := e.run(t, engine.ContainerSpec{Cmd: []string{"sh", "-c", `
echo pid1=$(cat /proc/1/comm)
grep CapEff /proc/self/status
ls /sys/firmware 2>&1 | wc -l
echo x > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable || echo sysrq-ro
ulimit -n
ip -o link 2>/dev/null | wc -l
`}})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"pid1=sh", "CapEff:\t00000000a80425fb", "sysrq-ro"} {
		if !strings.Contains(out, want) {
			t.Errorf("isolation output lacks %q:\n%s", want, out)
		}
	}
}

func TestMissingCommandIsDockerStyleError(t *testing.T) {
	e := newEnv(t)
	id, err := e.rt.Create(context.Background(), engine.ContainerSpec{Image: "busybox", Cmd: []string{"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	err = e.rt.Start(context.Background(), id)
	if err == nil || !strings.Contains(err.Error(), `exec: "nope": executable file not found in $PATH`) {
		t.Fatalf("Start: %v", err)
	}
	// Nothing half-started: no mount, no namespace, state stays created.
	c, _ := e.rt.Inspect(context.Background(), id)
	if c.State.Status != engine.StatusCreated {
		t.Errorf("status %s after a failed start", c.State.Status)
	}
	// A mount left behind sits at one of the container's own paths (its
	// rootfs); the mount point is field 5 of mountinfo.
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(mounts, []byte(id)) {
		for _, line := range strings.Split(string(mounts), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.Contains(f[4], id) {
				t.Errorf("still mounted after a failed start: %s", line)
			}
		}
	}
}

func TestPublishedPortAndStop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, err := e.rt.Create(ctx, engine.ContainerSpec{
		Image: "busybox",
		// httpd serves /www; the trap makes SIGTERM do nothing, so stop must SIGKILL.
		Cmd:   []string{"sh", "-c", `trap "" TERM; mkdir -p /www; echo served > /www/index.html; httpd -f -p 80 -h /www`},
		Ports: []engine.PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80, Proto: "tcp"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	c, _ := e.rt.Inspect(ctx, id)
	if len(c.Ports) != 1 || c.Ports[0].HostPort == 0 {
		t.Fatalf("ports %+v", c.Ports)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", c.Ports[0].HostPort)
	var body []byte
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(url); err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if string(body) != "served\n" {
		t.Fatalf("GET %s = %q", url, body)
	}
	// A second container cannot take the same host port.
	other, _ := e.rt.Create(ctx, engine.ContainerSpec{Image: "busybox", Cmd: []string{"true"}, Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: c.Ports[0].HostPort, ContainerPort: 80}}})
	if err := e.rt.Start(ctx, other); !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "port is already allocated") {
		t.Errorf("start on a used port: %v", err)
	}
	timeout := 300 * time.Millisecond
	start := time.Now()
	if err := e.rt.Stop(ctx, id, &timeout); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < timeout {
		t.Errorf("stop took %v: SIGTERM should have been ignored", took)
	}
	c, _ = e.rt.Inspect(ctx, id)
	if c.State.ExitCode != 137 {
		t.Errorf("exit code after SIGKILL = %d, want 137", c.State.ExitCode)
	}
	if conn, err := net.Dial("tcp", url[7:len(url)-1]); err == nil {
		conn.Close()
		t.Error("the published port still answers after stop")
	}
}

func TestStateSurvivesRestartOfTheEngine(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := e.rt.Create(ctx, engine.ContainerSpec{Image: "busybox", Name: "survivor", Cmd: []string{"sleep", "60"}})
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	done, _ := e.rt.Create(ctx, engine.ContainerSpec{Image: "busybox", Name: "done", Cmd: []string{"true"}})
	waitDone, _ := e.rt.Wait(ctx, done, "next-exit")
	e.rt.Start(ctx, done)
	waitDone()
	// A new Runtime on the same directories is the engine coming back.
	// The old one lives on in this process (a crashed engine would not):
	// it must have seen its container end, or its clean-up would unmount
	// the new run's file system.
	oldEnded, _ := e.rt.Wait(ctx, id, "not-running")
	e.rt.Close()
	rt2, err := New(e.data, e.store, WithRunDir(e.runDir), WithBridge(e.rt.net.bridge, e.rt.net.gateway.String()+"/24", false))
	if err != nil {
		t.Fatal(err)
	}
	defer rt2.Close()
	oldEnded()
	c, err := rt2.Inspect(ctx, "survivor")
	if err != nil || c.State.Status != engine.StatusExited || c.State.Error == "" {
		t.Errorf("running container after engine restart: %+v, %v", c.State, err)
	}
	if c, err := rt2.Inspect(ctx, "done"); err != nil || c.State.ExitCode != 0 || c.State.Status != engine.StatusExited {
		t.Errorf("exited container after engine restart: %+v, %v", c.State, err)
	}
	// And it can be started again.
	if err := rt2.Start(ctx, "survivor"); err != nil {
		t.Fatal(err)
	}
	rt2.Remove(ctx, "survivor", true, true)
	e.rt = rt2
}

func TestContainersReachEachOtherByIP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	server, _ := e.rt.Create(ctx, engine.ContainerSpec{Image: "busybox", Cmd: []string{"sh", "-c", "echo pong > /tmp/index.html; httpd -f -p 8080 -h /tmp"}})
	if err := e.rt.Start(ctx, server); err != nil {
		t.Fatal(err)
	}
	s, _ := e.rt.Inspect(ctx, server)
	// nc, not wget: Debian's static busybox wget crashes in its resolver.
	_, out, _, code := e.run(t, engine.ContainerSpec{Cmd: []string{"sh", "-c",
		"for i in 1 2 3 4 5 6 7 8 9 10; do echo 'GET / HTTP/1.0' | nc -w 2 " + s.IPAddress + " 8080 | tail -n1 | grep pong && exit 0; sleep 0.1; done; exit 1"}})
	if code != 0 || out != "pong\n" {
		t.Errorf("HTTP from another container = %q, exit %d", out, code)
	}
}

func TestMountsAndVolumes(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	os.WriteFile(host+"/from-host", []byte("host data\n"), 0o644)
	spec := engine.ContainerSpec{
		Cmd: []string{"sh", "-c", "cat /src/from-host; echo written > /data/file; touch /ro/x 2>/dev/null && echo ro-writable || echo ro-refused"},
		Mounts: []engine.Mount{
			{Type: "bind", Source: host, Target: "/src"},
			{Type: "volume", Source: "appdata", Target: "/data"},
			{Type: "bind", Source: host, Target: "/ro", ReadOnly: true},
		},
	}
	_, out, errOut, code := e.run(t, spec)
	if code != 0 || out != "host data\nro-refused\n" {
		t.Fatalf("run = %q %q exit %d", out, errOut, code)
	}
	// The named volume keeps its data for the next container.
	_, out, _, _ = e.run(t, engine.ContainerSpec{Cmd: []string{"cat", "/data/file"}, Mounts: []engine.Mount{{Type: "volume", Source: "appdata", Target: "/data"}}})
	if out != "written\n" {
		t.Errorf("named volume in a second container = %q", out)
	}
}

// A volume's name is a folder under the data root: names that climb out
// of it (or nest) are refused before anything is made; a bind of a single
// file binds the file.
func TestVolumeNamesStayInTheDataRoot(t *testing.T) {
	e := newEnv(t)
	outside := filepath.Join(t.TempDir(), "escape")
	rel, _ := filepath.Rel(filepath.Join(e.data, "volumes"), outside)
	for _, name := range []string{rel, "rel/path", "..", "a"} {
		_, err := e.rt.Create(context.Background(), engine.ContainerSpec{Image: "busybox", Mounts: []engine.Mount{{Type: "volume", Source: name, Target: "/x"}}})
		if !errors.Is(err, engine.ErrInvalidArgument) {
			t.Errorf("volume %q: %v", name, err)
		}
	}
	if _, err := os.Stat(outside); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a volume name made %s outside the data root: %v", outside, err)
	}
	if _, err := e.rt.Create(context.Background(), engine.ContainerSpec{Image: "busybox", Mounts: []engine.Mount{{Type: "tmpfs", Target: "/x"}}}); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("an unsupported mount type: %v", err)
	}
	file := filepath.Join(t.TempDir(), "config.txt")
	os.WriteFile(file, []byte("from a file\n"), 0o644)
	_, out, errOut, code := e.run(t, engine.ContainerSpec{Cmd: []string{"cat", "/etc/app.conf"}, Mounts: []engine.Mount{{Type: "bind", Source: file, Target: "/etc/app.conf", ReadOnly: true}}})
	if code != 0 || out != "from a file\n" {
		t.Fatalf("a bound file: %q %q exit %d", out, errOut, code)
	}
}

func TestRestartPolicyOnFailure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := e.rt.Create(ctx, engine.ContainerSpec{Image: "busybox", Cmd: []string{"sh", "-c", "exit 1"},
		Restart: engine.RestartPolicy{Name: "on-failure", MaxRetries: 2}})
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, _ := e.rt.Inspect(ctx, id)
		if c.RestartCount == 2 && c.State.Status == engine.StatusExited {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, _ := e.rt.Inspect(ctx, id)
	t.Errorf("after on-failure:2, restarts=%d status=%s; want 2 restarts then exited", c.RestartCount, c.State.Status)
}

func TestLimitsAndNoNewPrivileges(t *testing.T) {
	e := newEnv(t)
	_, out, _, code := e.run(t, engine.ContainerSpec{
		Cmd:             []string{"sh", "-c", "grep NoNewPrivs /proc/self/status; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"},
		Memory:          64 << 20,
		NoNewPrivileges: true,
	})
	if code != 0 || !strings.Contains(out, "NoNewPrivs:\t1") || !strings.Contains(out, fmt.Sprint(64<<20)) {
		t.Errorf("limits = %q, exit %d", out, code)
	}
}

func TestDeviceNodesInALayerAreNeutralised(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("device nodes need root")
	}
	// A layer that ships /evil/disk as the block device holding the host's
	// root filesystem, and /evil/mem as the memory device (1:1): the
	// device cgroup must deny both inside the container.
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	major, minor := int64(unix.Major(st.Dev)), int64(unix.Minor(st.Dev))
	hostDisk := fmt.Sprintf("/tmp/hostdisk-%d", os.Getpid())
	if err := unix.Mknod(hostDisk, unix.S_IFBLK|0o600, int(st.Dev)); err == nil {
		f, err := os.Open(hostDisk)
		os.Remove(hostDisk)
		if err != nil {
			t.Skipf("the host's root device %d:%d cannot be read even on the host (%v): nothing to prove", major, minor, err)
		}
		f.Close()
	}
	e := newEnv(t)
	ctx := context.Background()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "evil/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "evil/mem", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 1})
	tw.WriteHeader(&tar.Header{Name: "evil/disk", Typeflag: tar.TypeBlock, Mode: 0o666, Devmajor: major, Devminor: minor})
	tw.Close()
	layer, err := tarball.LayerFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(enginetest.Busybox(t), layer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Put(ctx, img, store.PutOptions{Names: []string{"evil:latest"}}); err != nil {
		t.Fatal(err)
	}
	_, out, errOut, code := e.run(t, engine.ContainerSpec{Image: "evil", Cmd: []string{"sh", "-c",
		"head -c1 /evil/mem >/dev/null 2>&1 && echo mem-readable; head -c1 /evil/disk >/dev/null 2>&1 && echo disk-readable; echo checked"}})
	if code != 0 || out != "checked\n" {
		t.Errorf("device nodes from a layer: stdout %q stderr %q exit %d; want both denied", out, errOut, code)
	}
}

func TestTTY(t *testing.T) {
	e := newEnv(t)
	_, out, _, code := e.run(t, engine.ContainerSpec{Tty: true, ConsoleHeight: 30, ConsoleWidth: 100,
		Cmd: []string{"sh", "-c", "tty; stty size; echo $TERM"}})
	if code != 0 || out != "/dev/pts/0\r\n30 100\r\nxterm\r\n" {
		t.Errorf("tty run = %q, exit %d", out, code)
	}
}

// Debian's static busybox has no UDP server to run in a container, so the
// relay is tested against a UDP echo server on loopback: the container side
// is the same bridge plumbing the TCP tests exercise.
func TestUDPProxyRelaysBothWays(t *testing.T) {
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			echo.WriteTo(append([]byte("echo:"), buf[:n]...), from)
		}
	}()
	proxies, bound, err := listenPorts([]engine.PortBinding{{HostIP: "127.0.0.1", ContainerPort: echo.LocalAddr().(*net.UDPAddr).Port, Proto: "udp"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	proxies[0].serve("127.0.0.1", bound[0].ContainerPort, (&network{}).dial)
	defer proxies[0].close()
	for _, client := range []string{"a", "b"} { // two clients, two flows
		conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", bound[0].HostPort))
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte(client))
		buf := make([]byte, 100)
		n, err := conn.Read(buf)
		conn.Close()
		if err != nil || string(buf[:n]) != "echo:"+client {
			t.Errorf("client %s got %q, %v", client, buf[:n], err)
		}
	}
	if _, _, err := listenPorts([]engine.PortBinding{{ContainerPort: 1, Proto: "sctp"}}, false); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("sctp publish: %v, want a clear refusal", err)
	}
}

// In a VM the host IP a port names belongs to the user's computer: the
// engine listens on every address and still reports the named one.
func TestPortsOnAnyAddress(t *testing.T) {
	for _, tc := range []struct {
		anyAddress bool
		wantIP     string // where the listener is
	}{{false, "127.0.0.1"}, {true, "::"}} {
		proxies, bound, err := listenPorts([]engine.PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}}, tc.anyAddress)
		if err != nil {
			t.Fatal(err)
		}
		got := proxies[0].ln.Addr().(*net.TCPAddr).IP.String()
		proxies[0].close()
		if got != tc.wantIP {
			t.Errorf("anyAddress=%v: listens on %s, want %s", tc.anyAddress, got, tc.wantIP)
		}
		if bound[0].HostIP != "127.0.0.1" || bound[0].HostPort == 0 {
			t.Errorf("anyAddress=%v: reports %+v, want the named IP and the chosen port", tc.anyAddress, bound[0])
		}
	}
}

// In a VM a missing bind source outside the shared folders is refused
// (docker run -v would make an empty folder in the VM); on a Linux host
// every source goes.
func TestCheckShared(t *testing.T) {
	existing := t.TempDir()
	for _, tc := range []struct {
		shared []string
		source string
		ok     bool
	}{
		{nil, "/Users/jo/site", true},
		{[]string{"/Users/jo"}, "/Users/jo/site", true},
		{[]string{"/Users/jo"}, "/Users/jo", true},
		{[]string{"/Users/jo"}, "/Users/joe/site", false},
		{[]string{"/Users/jo"}, "/opt/data", false},
		{[]string{}, "/Users/jo/site", false},
		{[]string{}, existing, true}, // the VM's own
	} {
		rt := &Runtime{sharedFolders: tc.shared}
		err := rt.checkShared(tc.source)
		if (err == nil) != tc.ok {
			t.Errorf("shared %q, source %s: %v, want ok=%v", tc.shared, tc.source, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, engine.ErrInvalidArgument) || !strings.Contains(err.Error(), "[vm]")) {
			t.Errorf("source %s: %v, want an invalid-argument error naming the setting", tc.source, err)
		}
	}
}

// A container's MAC follows from its address, as Docker's does, so a
// container that takes over a released address (a replaced one) keeps the
// host's neighbour entry for it valid.
func TestContainerMACFollowsItsAddress(t *testing.T) {
	if got := macFor(net.ParseIP("10.88.0.7")).String(); got != "02:42:0a:58:00:07" {
		t.Errorf("macFor(10.88.0.7) = %s", got)
	}
	e := newEnv(t)
	ctx := context.Background()
	id, _ := e.rt.Create(ctx, engine.ContainerSpec{Image: "busybox", Cmd: []string{"sleep", "100"}})
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	defer e.rt.Remove(ctx, id, true, true)
	c, _ := e.rt.Inspect(ctx, id)
	if want := macFor(net.ParseIP(c.IPAddress)).String(); c.MacAddress != want {
		t.Errorf("container at %s has MAC %s, want %s", c.IPAddress, c.MacAddress, want)
	}
}
