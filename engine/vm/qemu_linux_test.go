package vm

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/enginetest"
)

// buildImage builds the VM image with mkimage, or skips when QEMU or the
// pinned packages are missing.
func buildImage(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("QEMU is not installed (packaging/dev/setup.sh test installs qemu-system-x86)")
	}
	if testing.Short() {
		t.Skip("-short: booting the VM under emulation takes a while")
	}
	img := t.TempDir()
	build := exec.Command("go", "run", "./packaging/vm/mkimage", "-out", img, "-cache", filepath.Join(os.TempDir(), "berth-vm-cache"))
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "apt-get download") {
			t.Skipf("the pinned Debian packages cannot be downloaded (update packaging/vm/packages.txt): %s", out)
		}
		t.Fatalf("mkimage: %v\n%s", err, out)
	}
	return img
}

// The whole VM path under emulation (TCG): boot the image mkimage builds,
// pull from a loopback registry the guest reaches through QEMU's network,
// build a Dockerfile sent as a tar stream, run a container with a
// published port, reach it on the host's 127.0.0.1, stop cleanly.
func TestVMUnderEmulation(t *testing.T) {
	img := buildImage(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")
	_, port, _ := strings.Cut(reg.Host, ":")
	guestReg := "10.0.2.2:" + port // the host's loopback, seen from the guest

	// A host folder the VM shares (a space and a comma in its name, as
	// users' folders have).
	shared := filepath.Join(t.TempDir(), "my site, v2")
	os.MkdirAll(shared, 0o755)
	os.WriteFile(filepath.Join(shared, "index.html"), []byte("from the host\n"), 0o644)
	q := NewQEMU(QEMUConfig{Dir: t.TempDir(), Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"),
		Accel: "tcg", DiskGB: 4, EngineFlags: []string{"--insecure-registry=" + guestReg}, Shares: []string{shared}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	portErrors := make(chan string, 4)
	h := &Helper{Driver: q, Socket: filepath.Join(t.TempDir(), "engine.sock"), PortError: func(port string, err error) {
		portErrors <- port + ": " + err.Error()
	}}
	if err := h.Start(ctx); err != nil {
		t.Fatalf("start: %v\n%s", err, q.Status().ConsoleTail)
	}
	t.Logf("engine ready %v after QEMU started (TCG, first boot)", time.Since(start).Round(time.Millisecond))
	defer h.Stop(context.Background())
	if q.Status().State != Running {
		t.Fatalf("status %+v", q.Status())
	}
	// A Ctrl-C meant for the app does not reach QEMU directly.
	if pgid, err := syscall.Getpgid(q.proc.Pid); err != nil || pgid == syscall.Getpgrp() {
		t.Errorf("QEMU's process group %d (%v) is the test's", pgid, err)
	}
	// The app and the docker CLI reach the engine through the helper's socket, which only its user may open.
	if fi, err := os.Stat(h.Socket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v %v", fi, err)
	}
	// The forwarded engine port is open to local users, but the engine
	// speaks TLS and wants the helper's client certificate.
	addr := strings.TrimPrefix(q.EngineAddress(), "tcp://")
	if resp, err := http.Get("http://" + addr + "/_ping"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("the engine answered a client without credentials")
		}
	}
	if conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}); err == nil {
		_, werr := conn.Write([]byte("GET /_ping HTTP/1.0\r\n\r\n"))
		buf := make([]byte, 64)
		n, _ := conn.Read(buf)
		conn.Close()
		if werr == nil && strings.Contains(string(buf[:n]), "200 OK") {
			t.Fatal("the engine answered a TLS client without a certificate")
		}
	}
	c, err := client.New("unix://" + h.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(ctx, guestReg+"/library/busybox:1.36", nil, nil); err != nil {
		t.Fatalf("pull in the VM: %v\n%s", err, q.consoleTail(20))
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+guestReg+"/library/busybox:1.36\nRUN mkdir /www && echo built in the VM > /www/index.html\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"), 0o644)
	if _, err := c.Build(ctx, engine.BuildOptions{ContextDir: dir, Tags: []string{"vmapp"}}, nil); err != nil {
		t.Fatalf("build in the VM: %v\n%s", err, q.consoleTail(20))
	}
	hostPort := freeHostPort(t)
	cc := c.Containers()
	id, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: hostPort, ContainerPort: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, id); err != nil {
		t.Fatalf("run in the VM: %v\n%s", err, q.consoleTail(20))
	}
	// No ForwardPort here: the helper follows the engine's start event.
	if body := getRetrying(fmt.Sprintf("http://127.0.0.1:%d/", hostPort)); body != "built in the VM\n" {
		t.Fatalf("the container in the VM answered %q on the host", body)
	}
	// Its end frees the port on the host for other programs.
	grace := time.Second // httpd as PID 1 ignores SIGTERM
	if err := cc.Stop(ctx, id, &grace); err != nil {
		t.Fatal(err)
	}
	if !eventuallyFree(hostPort) || len(h.Ports()) != 0 {
		t.Fatalf("after the container stopped, host port %d is still held (helper ports %v)", hostPort, h.Ports())
	}
	// A host port another program holds: the container runs in the VM,
	// and the helper says why it cannot be reached on the host.
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hostPort))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := cc.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-portErrors:
		if !strings.Contains(msg, fmt.Sprintf("127.0.0.1:%d", hostPort)) || !strings.Contains(msg, "another program") {
			t.Errorf("port error %q", msg)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the helper did not say the host port is taken")
	}
	cc.Stop(ctx, id, &grace)

	// A bind mount of the shared host folder: the container serves the
	// host's file, sees an edit made on the host, and what it writes
	// appears on the host.
	sitePort := freeHostPort(t)
	site, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Ports: []engine.PortBinding{{HostPort: sitePort, ContainerPort: 8080}},
		Mounts: []engine.Mount{{Type: "bind", Source: shared, Target: "/www"}},
		Cmd:    []string{"sh", "-c", "echo from the container > /www/out.txt && exec httpd -f -p 8080 -h /www"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, site); err != nil {
		t.Fatalf("run with a bind mount of a shared folder: %v", err)
	}
	if body := getRetrying(fmt.Sprintf("http://127.0.0.1:%d/", sitePort)); body != "from the host\n" {
		t.Fatalf("the bind-mounted host folder served %q\n%s", body, q.consoleTail(60))
	}
	os.WriteFile(filepath.Join(shared, "index.html"), []byte("edited on the host\n"), 0o644)
	if body := getRetrying(fmt.Sprintf("http://127.0.0.1:%d/", sitePort)); body != "edited on the host\n" {
		t.Errorf("after an edit on the host the container served %q", body)
	}
	if b, err := os.ReadFile(filepath.Join(shared, "out.txt")); err != nil || string(b) != "from the container\n" {
		t.Errorf("the container's write on the host: %q %v", b, err)
	}
	cc.Remove(ctx, site, true, false)
	// A folder the VM does not share: refused with what to do, rather than
	// an empty folder made inside the VM.
	notShared := filepath.Join(filepath.Dir(shared), "elsewhere")
	if _, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Mounts: []engine.Mount{{Type: "bind", Source: notShared, Target: "/data"}}}); err == nil || !strings.Contains(err.Error(), "not shared") {
		t.Errorf("bind mount of a folder the VM does not share: %v", err)
	}

	// The tutorials' commands, from the stock docker CLI through the
	// helper's socket: run -d -p, the answer on the host, rm -f frees it.
	if docker, err := exec.LookPath("docker"); err != nil {
		t.Log("docker CLI not installed: its part of the tour is not run (packaging/dev/setup.sh test installs docker.io)")
	} else {
		webPort := freeHostPort(t)
		dockerCmd := func(args ...string) string {
			cmd := exec.CommandContext(ctx, docker, append([]string{"-H", SocketAddress(h.Socket)}, args...)...)
			cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("docker %v: %v\n%s", args, err, out)
			}
			return strings.TrimSpace(string(out))
		}
		dockerCmd("run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:8080", webPort), "vmapp")
		if body := getRetrying(fmt.Sprintf("http://127.0.0.1:%d/", webPort)); body != "built in the VM\n" {
			t.Fatalf("docker run -p in the VM answered %q on the host", body)
		}
		if ps := dockerCmd("ps", "--format", "{{.Names}} {{.Ports}}"); !strings.Contains(ps, fmt.Sprintf("web 0.0.0.0:%d->8080/tcp", webPort)) {
			t.Errorf("docker ps: %q", ps)
		}
		dockerCmd("rm", "-f", "web")
		if !eventuallyFree(webPort) {
			t.Errorf("docker rm -f left host port %d held", webPort)
		}
	}

	// The VM keeps the host's time (init follows QEMU's RTC).
	clockID, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Cmd: []string{"date", "+%s"}})
	if err != nil {
		t.Fatal(err)
	}
	waitClock, err := cc.Wait(ctx, clockID, "next-exit")
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, clockID); err != nil {
		t.Fatal(err)
	}
	waitClock()
	var guestTime strings.Builder
	cc.Logs(ctx, clockID, engine.LogOptions{Stdout: true, Tail: -1}, func(e engine.LogEntry) error { guestTime.Write(e.Data); return nil })
	if secs, err := strconv.ParseInt(strings.TrimSpace(guestTime.String()), 10, 64); err != nil || time.Since(time.Unix(secs, 0)).Abs() > 5*time.Second {
		t.Errorf("the VM's clock says %q, the host's %d", guestTime.String(), time.Now().Unix())
	}
	if strings.Contains(q.consoleTail(200), "berth-init: clock:") {
		t.Errorf("init cannot keep the VM's clock:\n%s", q.consoleTail(30))
	}
	cc.Remove(ctx, clockID, true, false)
	// A host's sleep pauses the VM, and its clock with it: paused for 4 s,
	// it is stepped back onto the host's time within seconds.
	if _, err := q.qmp(`{"execute":"stop"}`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	if _, err := q.qmp(`{"execute":"cont"}`); err != nil {
		t.Fatal(err)
	}
	stepped := false
	for i := 0; i < 300 && !stepped; i++ {
		stepped = strings.Contains(q.consoleTail(20), "berth-init: clock stepped by")
		time.Sleep(100 * time.Millisecond)
	}
	if !stepped {
		t.Errorf("after a 4 s pause the VM's clock was not stepped:\n%s", q.consoleTail(10))
	}

	// Containers and build steps reach out of the VM (here: the host's
	// registry through QEMU's network), as RUN apt-get needs.
	fetch := fmt.Sprintf(`printf 'GET /v2/ HTTP/1.0\r\n\r\n' | nc -w 10 10.0.2.2 %s | head -1 | grep -q ' 200 '`, port)
	os.WriteFile(filepath.Join(dir, "Dockerfile.net"), []byte("FROM "+guestReg+"/library/busybox:1.36\nRUN "+fetch+" && echo reached > /net\n"), 0o644)
	if _, err := c.Build(ctx, engine.BuildOptions{ContextDir: dir, Dockerfile: "Dockerfile.net", Tags: []string{"netcheck"}}, nil); err != nil {
		t.Errorf("a build step could not reach the host's registry from the VM: %v", err)
	}
	netID, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Cmd: []string{"sh", "-c", fetch}})
	if err != nil {
		t.Fatal(err)
	}
	waitNet, err := cc.Wait(ctx, netID, "next-exit")
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, netID); err != nil {
		t.Fatal(err)
	}
	if code, err := waitNet(); err != nil || code != 0 {
		t.Errorf("a container could not reach the host's registry from the VM: exit %d %v", code, err)
	}
	cc.Remove(ctx, netID, true, false)

	// Space freed in the VM goes back to the host: a container writes
	// 64 MiB, and once it is removed the sparse disk file shrinks again.
	diskFile := filepath.Join(q.cfg.Dir, "data.img")
	allocated := func() int64 {
		var st syscall.Stat_t
		if err := syscall.Stat(diskFile, &st); err != nil {
			t.Fatal(err)
		}
		return st.Blocks * 512
	}
	writer, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Cmd: []string{"sh", "-c", "dd if=/dev/urandom of=/big bs=1M count=64 2>/dev/null && sync"}})
	if err != nil {
		t.Fatal(err)
	}
	waitWriter, err := cc.Wait(ctx, writer, "next-exit")
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, writer); err != nil {
		t.Fatal(err)
	}
	waitWriter()
	full := allocated()
	if err := cc.Remove(ctx, writer, true, false); err != nil {
		t.Fatal(err)
	}
	var freed int64
	for i := 0; i < 300 && freed < 48<<20; i++ { // ext4 discards at its next commit (5 s)
		time.Sleep(100 * time.Millisecond)
		freed = full - allocated()
	}
	if freed < 48<<20 {
		t.Errorf("removing a container that wrote 64 MiB gave %d MiB back to the host", freed>>20)
	}

	// A UDP port (-p PORT:5353/udp) is forwarded as well: a static echo
	// server built here answers a datagram sent to the host's 127.0.0.1.
	echoDir := t.TempDir()
	os.WriteFile(filepath.Join(echoDir, "main.go"), []byte(udpEcho), 0o644)
	os.WriteFile(filepath.Join(echoDir, "go.mod"), []byte("module echo\n"), 0o644)
	goBuild := exec.Command("go", "build", "-o", "echo", ".")
	goBuild.Dir, goBuild.Env = echoDir, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := goBuild.CombinedOutput(); err != nil {
		t.Fatalf("build the UDP echo: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(echoDir, "Dockerfile"), []byte("FROM scratch\nCOPY echo /echo\nCMD [\"/echo\"]\n"), 0o644)
	if _, err := c.Build(ctx, engine.BuildOptions{ContextDir: echoDir, Tags: []string{"udpecho"}}, nil); err != nil {
		t.Fatalf("build the UDP echo image: %v", err)
	}
	udpPort := freeHostPort(t)
	echoID, err := cc.Create(ctx, engine.ContainerSpec{Image: "udpecho", Ports: []engine.PortBinding{{HostPort: udpPort, ContainerPort: 5353, Proto: "udp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, echoID); err != nil {
		t.Fatal(err)
	}
	var echoed string
	for i := 0; i < 150 && echoed == ""; i++ {
		if conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpPort)); err == nil {
			conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
			conn.Write([]byte("ping"))
			buf := make([]byte, 64)
			if n, err := conn.Read(buf); err == nil {
				echoed = string(buf[:n])
			}
			conn.Close()
		}
		if echoed == "" {
			time.Sleep(200 * time.Millisecond) // (a refused datagram returns at once)
		}
	}
	if echoed != "echo: ping" {
		ct, _ := cc.Inspect(ctx, echoID)
		var errs []string
		for len(portErrors) > 0 {
			errs = append(errs, <-portErrors)
		}
		t.Errorf("the UDP port answered %q (helper ports %v, port errors %q, container %+v %+v)", echoed, h.Ports(), errs, ct.State, ct.Ports)
	}
	cc.Remove(ctx, echoID, true, false)

	// The app quits with keep_running (or crashes) and starts again: the
	// next helper adopts the running VM rather than boot a second QEMU on
	// the locked disk; the container that kept running answers on its
	// port again.
	keepPort := freeHostPort(t)
	keeper, err := cc.Create(ctx, engine.ContainerSpec{Image: "vmapp", Ports: []engine.PortBinding{{HostPort: keepPort, ContainerPort: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, keeper); err != nil {
		t.Fatal(err)
	}
	if body := getRetrying(fmt.Sprintf("http://127.0.0.1:%d/", keepPort)); body != "built in the VM\n" {
		t.Fatalf("the keeper answered %q", body)
	}
	h.Detach()
	if _, err := os.Stat(h.Socket); !os.IsNotExist(err) {
		t.Errorf("the socket after Detach: %v", err)
	}
	q2 := NewQEMU(q.cfg)
	h2 := &Helper{Driver: q2, Socket: filepath.Join(t.TempDir(), "engine.sock")}
	adoptStart := time.Now()
	if err := h2.Start(ctx); err != nil {
		t.Fatalf("start over a running VM: %v\n%s", err, q2.Status().ConsoleTail)
	}
	t.Logf("adopted the running VM in %v", time.Since(adoptStart).Round(time.Millisecond))
	defer h2.Stop(context.Background())
	if q2.proc.Pid != q.proc.Pid {
		t.Fatalf("a second QEMU (pid %d) was started beside %d", q2.proc.Pid, q.proc.Pid)
	}
	c2, err := client.New("unix://" + h2.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if ct, err := c2.Containers().Inspect(ctx, keeper); err != nil || ct.State.Status != engine.StatusRunning {
		t.Fatalf("the keeper after the handover: %+v %v", ct.State, err)
	}
	if body := getRetrying(fmt.Sprintf("http://127.0.0.1:%d/", keepPort)); body != "built in the VM\n" {
		t.Fatalf("after the handover the keeper answered %q", body)
	}
	if ports := h2.Ports(); len(ports) != 1 || ports[0] != fmt.Sprintf(":%d", keepPort) && ports[0] != fmt.Sprint(keepPort) {
		t.Errorf("the new helper's ports: %v", ports)
	}
	c2.Containers().Stop(ctx, keeper, &grace)

	stopStart := time.Now()
	if err := h2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("clean stop in %v", time.Since(stopStart).Round(time.Millisecond))
	if !strings.Contains(q2.consoleTail(40), "berthd ended") {
		t.Errorf("the VM did not stop through its init:\n%s", q2.consoleTail(20))
	}
	if st := q.Status(); st.State == Running {
		t.Errorf("the first driver still says %+v", st)
	}
}

// freeHostPort is a TCP port free on the host's 127.0.0.1 now.
func freeHostPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// getRetrying is the body that url answers with, trying for 30 s (a loaded machine is slow).
func getRetrying(url string) string {
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// eventuallyFree reports whether the host's 127.0.0.1:port can be
// listened on within 30 s.
func eventuallyFree(port int) bool {
	for i := 0; i < 300; i++ {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// udpEcho answers each datagram on port 5353 with "echo: " and the datagram.
const udpEcho = `package main

import "net"

func main() {
	pc, err := net.ListenPacket("udp", ":5353")
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pc.WriteTo(append([]byte("echo: "), buf[:n]...), from)
	}
}
`
