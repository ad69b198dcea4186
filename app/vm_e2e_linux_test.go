package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/vm"
)

// The app's VM mode end to end, under emulation: settings choose
// engine = "vm"; the first use unpacks the packaged image with progress;
// the VM boots; through the helper's socket the app pulls from a loopback
// registry the guest reaches, builds, runs a container with a published
// port that answers on the host's 127.0.0.1; the VM is killed as a crash
// would and comes back by itself with its images; it stops cleanly.
func TestVMEngineFromSettings(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("QEMU is not installed (packaging/dev/setup.sh test installs qemu-system-x86)")
	}
	if testing.Short() {
		t.Skip("-short: booting the VM under emulation takes a while")
	}
	work := t.TempDir()
	archive := filepath.Join(work, vm.ImageArchive)
	mk := exec.Command("go", "run", "./packaging/vm/mkimage", "-out", filepath.Join(work, "image"), "-archive", archive,
		"-cache", filepath.Join(os.TempDir(), "berth-vm-cache"))
	mk.Dir = ".."
	if out, err := mk.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "apt-get download") {
			t.Skipf("the pinned Debian packages cannot be downloaded (update packaging/vm/packages.txt): %s", out)
		}
		t.Fatalf("mkimage: %v\n%s", err, out)
	}
	t.Setenv("BERTH_VM_IMAGE", archive)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(work, "cache"))

	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")
	_, regPort, _ := strings.Cut(reg.Host, ":")
	guestReg := "10.0.2.2:" + regPort // the host's loopback, seen from the guest
	settingsFile := filepath.Join(work, "settings.toml")
	os.WriteFile(settingsFile, []byte(fmt.Sprintf(`engine = "vm"
insecure_registries = [%q]

[vm]
cpus = 2
memory_mb = 1024
disk_gb = 4
state_dir = %q
`, guestReg, filepath.Join(work, "vm-state"))), 0o644)
	s, warnings, err := LoadSettings(settingsFile)
	if err != nil || len(warnings) > 0 || s.Engine != "vm" {
		t.Fatalf("settings: %+v %v %v", s, warnings, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var steps []string
	start := time.Now()
	core, err := Open(ctx, s, func(step string, f float64) { steps = append(steps, fmt.Sprintf("%s %.2f", step, f)) })
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	v := core.VM().(*VM)
	t.Logf("image unpacked and engine ready in %v (TCG, first boot)", time.Since(start).Round(time.Millisecond))
	if len(steps) < 3 || !strings.HasPrefix(steps[0], "Unpacking") || !strings.HasSuffix(steps[len(steps)-2], "1.00") || !strings.HasPrefix(steps[len(steps)-1], "Starting") {
		t.Errorf("progress: %q", steps)
	}
	if st := v.Status(); st.State != "running" {
		t.Fatalf("status %+v", st)
	}
	if fi, err := os.Stat(filepath.Join(work, "vm-state", "engine.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the engine socket: %v %v", fi, err)
	}

	c := core.Engine
	if _, err := c.Registry.Pull(ctx, guestReg+"/library/busybox:1.36", nil, nil); err != nil {
		t.Fatalf("pull in the VM: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+guestReg+"/library/busybox:1.36\nRUN mkdir /www && echo built in the VM > /www/index.html\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"), 0o644)
	if _, err := c.Builder.Build(ctx, engine.BuildOptions{ContextDir: dir, Tags: []string{"vmapp"}}, nil); err != nil {
		t.Fatalf("build in the VM: %v", err)
	}
	hostPort := freeTCPPort(t)
	cc := c.Containers
	id, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Ports: []engine.PortBinding{{HostPort: hostPort, ContainerPort: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, id); err != nil {
		t.Fatalf("run in the VM: %v", err)
	}
	if body := getWithRetry(t, fmt.Sprintf("http://127.0.0.1:%d/", hostPort)); body != "built in the VM\n" {
		t.Fatalf("the container in the VM answered %q on the host", body)
	}

	// The welcome tour's offline starter, as a Mac or Windows makes it:
	// from the busybox in the VM's image, built and run in the VM.
	project, err := WriteStarterSample(ctx, t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Builder.Build(ctx, engine.BuildOptions{ContextDir: project, Tags: []string{StarterTag}}, nil); err != nil {
		t.Fatalf("build the starter in the VM: %v", err)
	}
	starterPort := freeTCPPort(t)
	sid, err := cc.Create(ctx, engine.ContainerSpec{Image: StarterTag, Ports: []engine.PortBinding{{HostPort: starterPort, ContainerPort: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, sid); err != nil {
		t.Fatalf("run the starter in the VM: %v", err)
	}
	if body := getWithRetry(t, fmt.Sprintf("http://127.0.0.1:%d/", starterPort)); !strings.Contains(body, "Hello from Berth") {
		t.Fatalf("the starter in the VM answered %q", body)
	}
	cc.Remove(ctx, sid, true, false)

	// A crash: the VM comes back by itself, behind the same socket, with
	// the images it had (the data disk survives an unclean stop).
	states := make(chan VMStatus, 16)
	core.OnStatus(func(st Status) { // the Core supervises its VM
		if st.VM != nil {
			states <- *st.VM
		}
	})
	v.Crash()
	var seen []string
	for st := range states {
		seen = append(seen, string(st.State))
		if st.State == "running" {
			break
		}
		if len(seen) > 5 {
			t.Fatalf("states %v, last %+v", seen, st)
		}
	}
	if strings.Join(seen, ",") != "failed,starting,running" {
		t.Fatalf("states after a crash: %v", seen)
	}
	if _, err := c.Images.Inspect(ctx, "vmapp"); err != nil {
		t.Fatalf("the image built before the crash: %v", err)
	}

	// A published port another program holds on this computer: the
	// status bar says so, in words a beginner can act on.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	id2, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: busyPort, ContainerPort: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, id2); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-states:
		if st.State != "running" || !strings.Contains(st.Line(), fmt.Sprintf("port 127.0.0.1:%d is in use by another program", busyPort)) {
			t.Errorf("a taken host port is reported as %+v (%q)", st, st.Line())
		}
	case <-time.After(30 * time.Second):
		t.Error("a taken host port was not reported")
	}
	grace := time.Second // httpd as PID 1 ignores SIGTERM
	cc.Stop(ctx, id2, &grace)

	// What berth vm status/stop and the terminal commands see: served
	// while the app holds it; after the app lets go (keep_running) it
	// runs unserved, commands say how to serve it, and an idle VM stops.
	if st, err := ProbeVM(ctx, s); err != nil || !st.Running || !st.Served || st.Socket != core.Info().Address {
		t.Fatalf("probe while served: %+v %v", st, err)
	}
	if _, err := StopIdleVM(ctx, s); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("stopping a VM the app serves: %v", err)
	}
	if c2, err := Open(ctx, s, nil, WithoutVMBoot()); err != nil {
		t.Fatalf("a terminal command's connection: %v", err)
	} else if _, err := c2.Engine.Images.Inspect(ctx, "vmapp"); err != nil {
		t.Fatalf("through it: %v", err)
	}
	// A second app (or the app while berth vm start serves the VM) uses
	// the served engine and leaves the VM to whoever serves it.
	core2, err := Open(ctx, s, nil)
	if err != nil {
		t.Fatalf("connect while another Berth serves the VM: %v", err)
	}
	v2 := core2.VM()
	if _, err := core2.Engine.Images.Inspect(ctx, "vmapp"); err != nil || v2.Status().State != "running" || !strings.Contains(v2.Status().Line(), "berth vm start") {
		t.Fatalf("the second connection: %v, %+v", err, v2.Status())
	}
	core2.Close()
	if st, err := ProbeVM(ctx, s); err != nil || !st.Served {
		t.Fatalf("the second app's Stop stopped a VM it does not serve: %+v %v", st, err)
	}
	v.Detach()
	if st := v2.Status(); st.State != "failed" || !strings.Contains(st.Reason, "no longer serves") {
		t.Errorf("the second app after the first let go: %+v", st)
	}
	if st, err := ProbeVM(ctx, s); err != nil || !st.Running || st.Served {
		t.Fatalf("probe after Detach: %+v %v", st, err)
	}
	if _, err := Open(ctx, s, nil, WithoutVMBoot()); err == nil || !strings.Contains(err.Error(), "berth vm start") {
		t.Fatalf("a terminal command without a served VM: %v", err)
	}
	if stopped, err := StopIdleVM(ctx, s); err != nil || !stopped {
		t.Fatalf("stopping the idle VM: %v %v", stopped, err)
	}
	if st, err := ProbeVM(ctx, s); err != nil || st.Running {
		t.Fatalf("probe after stop: %+v %v", st, err)
	}
	console, _ := os.ReadFile(filepath.Join(work, "vm-state", "console.log"))
	if !strings.Contains(string(console), "berthd ended") {
		t.Errorf("the VM did not stop through its init:\n%s", console)
	}
}

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func getWithRetry(t *testing.T, url string) string {
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing answers on %s", url)
	return ""
}
