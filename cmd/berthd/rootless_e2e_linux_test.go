package main

import (
	"archive/tar"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/enginetest"
)

// dockerAs is the docker CLI as the person.
func dockerAs(t *testing.T, p *enginetest.Person, host string) *cli {
	c := dockerCLI(t, host)
	c.config = p.Mkdir(t, filepath.Join(p.Runtime, "docker-config"))
	c.as = p
	return c
}

// The tutorial, as an ordinary user against the engine berthd starts for
// them: no root, no flags.
func TestRootlessEngineForAnOrdinaryUser(t *testing.T) {
	p := enginetest.OrdinaryUser(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	reg.Push(t, enginetest.Python(t), "library/python:3.11-slim")
	host := p.StartBerthd(t, berthdBinary)
	c := dockerAs(t, p, host)

	// This test's person has no cgroup delegated to them: docker info
	// says containers run without limits, and a limit does not stop a run.
	mustContain(t, "docker info", c.ok("info"), "rootless", "containers run without memory, CPU and process-count limits")
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("pull", "-q", reg.Host+"/library/python:3.11-slim")
	c.ok("tag", reg.Host+"/library/python:3.11-slim", "python:3.11-slim")
	mustContain(t, "docker images", c.ok("images"), reg.Host+"/library/busybox", "python")

	if out := c.ok("run", "--rm", "-m", "64m", "--pids-limit", "20", reg.Host+"/library/busybox", "echo", "ran"); out != "ran\n" {
		t.Errorf("a run with limits and no cgroup to apply them: %q", out)
	}

	// Images hold files of many owners: they keep them.
	if out := c.ok("run", "--rm", "--user", "1000:1000", reg.Host+"/library/busybox", "sh", "-c", "id -u; touch /tmp/mine; stat -c %u /tmp/mine"); out != "1000\n1000\n" {
		t.Errorf("a container's user 1000: %q", out)
	}

	// build -t and -f of the Python sample app.
	app := filepath.Join(p.Mkdir(t, filepath.Join(p.Runtime, "apps")), "pyhello")
	p.CopyTree(t, filepath.Join("..", "..", "testdata", "apps", "pyhello"), app)
	c.ok("build", "-t", "me/pyhello:v1", app)
	dockerfile, _ := os.ReadFile(filepath.Join(app, "Dockerfile"))
	os.WriteFile(filepath.Join(app, "Dockerfile.dev"), append(dockerfile, []byte("ENV MODE=dev\n")...), 0o644)
	mustContain(t, "build -f", c.ok("build", "-f", filepath.Join(app, "Dockerfile.dev"), "-t", "me/pyhello:dev", app), "Successfully tagged me/pyhello:dev")
	// A rebuild after an edit says which step reran, and why.
	appPy := filepath.Join(app, "app.py")
	src, _ := os.ReadFile(appPy)
	os.WriteFile(appPy, append(src, []byte("# edited\n")...), 0o644)
	rebuilt := c.ok("build", "-t", "me/pyhello:v1", app)
	mustContain(t, "rebuild after an edit", rebuilt, "Using cache", " ---> Reran because app.py changed, and Dockerfile.dev was added (COPY . ., line 7)")
	os.WriteFile(appPy, src, 0o644)
	c.ok("build", "-t", "me/pyhello:v1", app)

	// The same tutorial build with buildx beside the CLI, as every current
	// Docker install has it: through BuildKit's API, rootless too.
	if buildx := os.Getenv("BERTH_TEST_BUILDX"); buildx != "" {
		plugins := p.Mkdir(t, filepath.Join(c.config, "cli-plugins"))
		os.Symlink(buildx, filepath.Join(plugins, "docker-buildx"))
		bx := c.with("DOCKER_BUILDKIT=1")
		mustContain(t, "a rootless build through buildx", bx.ok("build", "--progress=plain", "-t", "me/pyhello:bx", app), "using docker driver", "naming to me/pyhello:bx done")
		if out := bx.ok("run", "--rm", "me/pyhello:bx", "python3", "-c", "print(6*7)"); out != "42\n" {
			t.Errorf("the image buildx built rootless: %q", out)
		}
	} else {
		t.Log("no buildx plugin (BERTH_TEST_BUILDX): the rootless build through buildx is left out")
	}

	// run -d -p: the port answers on the host.
	// run -d -p on loopback and on every address; UDP too.
	port, anyPort, udpPort := strconv.Itoa(enginetest.FreePort(t)), strconv.Itoa(enginetest.FreePort(t)), enginetest.FreePort(t)
	c.ok("run", "-d", "--name", "web", "-p", "127.0.0.1:"+port+":8000", "-p", anyPort+":8000", "me/pyhello:v1")
	for _, url := range []string{"http://127.0.0.1:" + port + "/", "http://" + net.JoinHostPort(nonLoopbackAddress(t), anyPort) + "/"} {
		if body := httpGet(t, url); body == "" {
			t.Errorf("the published port %s answered nothing", url)
		}
	}
	c.ok("run", "-d", "--name", "udp", "-p", strconv.Itoa(udpPort)+":9000/udp", "python:3.11-slim", "python3", "-c",
		"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('', 9000))\nwhile True:\n    d, a = s.recvfrom(100)\n    s.sendto(b'echo:' + d, a)")
	if got := udpEcho(t, "127.0.0.1:"+strconv.Itoa(udpPort), "ping"); got != "echo:ping" {
		t.Errorf("the published UDP port answered %q", got)
	}
	c.ok("rm", "-f", "udp")
	mustContain(t, "logs", c.ok("logs", "web"), "listening on port 8000")
	if out := c.ok("exec", "web", "python3", "-c", "print(6*7)"); out != "42\n" {
		t.Errorf("exec: %q", out)
	}
	c.ok("stop", "-t", "1", "web")
	c.ok("rm", "web")

	// A network of one's own works rootless too: its bridge and DNS server
	// live in the engine's namespace.
	bb := reg.Host + "/library/busybox"
	c.ok("network", "create", "proj")
	c.ok("run", "-d", "--name", "db", "--network", "proj", bb, "sleep", "300")
	dbIP := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.Networks.proj.IPAddress}}", "db"))
	mustContain(t, "nslookup db on proj, rootless", c.ok("run", "--rm", "--network", "proj", bb, "nslookup", "db"), dbIP)
	c.ok("rm", "-f", "db")
	c.ok("network", "rm", "proj")

	// tag, push, rmi, save and load.
	c.ok("tag", "me/pyhello:v1", reg.Host+"/me/pyhello:v1")
	c.ok("push", reg.Host+"/me/pyhello:v1")
	tarPath := filepath.Join(p.Runtime, "apps", "pyhello.tar")
	c.ok("save", "-o", tarPath, "me/pyhello:v1")
	c.ok("rmi", "me/pyhello:v1", reg.Host+"/me/pyhello:v1", "me/pyhello:dev")
	mustContain(t, "load", c.ok("load", "-i", tarPath), "me/pyhello:v1")
	c.ok("rmi", "me/pyhello:v1")
	c.ok("pull", "-q", reg.Host+"/me/pyhello:v1")

	// A layer that tries to leave its root is refused as for root.
	marker := filepath.Join(os.TempDir(), "berth-rootless-escape-"+strconv.Itoa(os.Getpid()))
	for name, entries := range map[string]func(tw *tar.Writer){
		"dotdot": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "../../../../../../.." + marker, Typeflag: tar.TypeReg, Mode: 0o644})
		},
		"through symlink": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: filepath.Dir(marker)})
			tw.WriteHeader(&tar.Header{Name: "evil/" + filepath.Base(marker), Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
			tw.Write([]byte("pwn"))
		},
	} {
		reg.Push(t, enginetest.LayerImage(t, entries), "evil/"+strings.ReplaceAll(name, " ", "-")+":latest")
		c.fails("unsafe layer", "pull", reg.Host+"/evil/"+strings.ReplaceAll(name, " ", "-"))
		if _, err := os.Lstat(marker); err == nil {
			os.Remove(marker)
			t.Errorf("%s: a layer wrote %s outside its root", name, marker)
		}
	}
}

// Where the system delegates a cgroup to the person (here by hand, as an
// administrator would; systemd's Delegate=yes on cgroup v2), the rootless
// engine's containers have their limits, and docker info does not warn.
func TestRootlessEngineLimitsInADelegatedCgroup(t *testing.T) {
	p := enginetest.OrdinaryUser(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	path, dirs := p.DelegateCgroup(t)
	c := dockerAs(t, p, p.StartBerthdIn(t, dirs, berthdBinary))
	bb := reg.Host + "/library/busybox"
	c.ok("pull", "-q", bb)
	if info := c.ok("info"); strings.Contains(info, "without memory") || strings.Contains(info, "no memory") {
		t.Errorf("docker info warns of limits the delegated cgroup gives:\n%s", info)
	}

	id := strings.TrimSpace(c.ok("run", "-d", "-m", "64m", "--pids-limit", "20", "--cpus", "0.5", bb, "sleep", "300"))
	limit := func(v1Controller, v1File, v2File string) string {
		t.Helper()
		for _, f := range []string{filepath.Join("/sys/fs/cgroup", v1Controller, path, "berth", id, v1File), filepath.Join("/sys/fs/cgroup", path, "berth", id, v2File)} {
			if b, err := os.ReadFile(f); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
		t.Errorf("the container has no %s or %s under the delegated cgroup %s", v1File, v2File, path)
		return ""
	}
	if got := limit("memory", "memory.limit_in_bytes", "memory.max"); got != "67108864" {
		t.Errorf("memory limit %q, want 67108864", got)
	}
	if got := limit("pids", "pids.max", "pids.max"); got != "20" {
		t.Errorf("pids limit %q, want 20", got)
	}
	if got := limit("cpu", "cpu.cfs_quota_us", "cpu.max"); got != "50000" && got != "50000 100000" {
		t.Errorf("CPU quota %q, want 50000 of 100000", got)
	}
	mustContain(t, "docker stats", c.ok("stats", "--no-stream", "--format", "{{.MemUsage}}", id), "/ 64MiB")
	c.ok("update", "-m", "128m", id)
	if got := limit("memory", "memory.limit_in_bytes", "memory.max"); got != "134217728" {
		t.Errorf("memory limit after docker update %q, want 134217728", got)
	}
	c.ok("rm", "-f", id)
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "berth", id)); err == nil {
			t.Errorf("the removed container's cgroup %s is left", filepath.Join(dir, "berth", id))
		}
	}

	// The process-count limit holds: the sixth sleep cannot be forked.
	out, _ := c.run("run", "--rm", "--pids-limit", "5", bb, "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo started")
	mustContain(t, "a run past its process-count limit", out, "can't fork")
}

// The rootless engine's containers reach the outside world through pasta,
// and a build's RUN step too. The outside here is a server on this
// machine's loopback, which pasta offers the namespace at its gateway's
// address (the host's own default gateway), as rootless Docker's
// slirp4netns does at 10.0.2.2: the whole way out, without the internet.
func TestRootlessContainersReachOut(t *testing.T) {
	p := enginetest.OrdinaryUser(t)
	gw := defaultGateway(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "outside\n") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + net.JoinHostPort(gw, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)) + "/" // for messages

	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	host := p.StartBerthd(t, berthdBinary)
	c := dockerAs(t, p, host)
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("tag", reg.Host+"/library/busybox", "busybox")
	// nc, not wget: Debian's static busybox's wget crashes in its resolver.
	// stdin stays open a while: nc half-closes at its end, and Debian 12's
	// pasta (2023-03) then never passes on the server's close, where HTTP
	// clients (curl, pip, apt) do not half-close.
	get := "(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 2) | nc " + gw + " " + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	mustContain(t, "a container fetching "+url, c.ok("run", "--rm", "busybox", "sh", "-c", get), "200 OK", "outside")
	mustContain(t, "resolv.conf", c.ok("run", "--rm", "busybox", "cat", "/etc/resolv.conf"), "nameserver 169.254.1.1")
	if names, err := net.LookupHost("deb.debian.org"); err == nil && len(names) > 0 {
		mustContain(t, "a name through pasta's relay", c.ok("run", "--rm", "busybox", "nslookup", "deb.debian.org"), names[0])
	} else {
		t.Log("this machine resolves no names: the DNS relay is not tried")
	}
	ctxDir := p.Mkdir(t, filepath.Join(p.Runtime, "reach"))
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM busybox\nRUN "+get+" > /fetched\nCMD [\"cat\", \"/fetched\"]\n"), 0o644)
	c.ok("build", "-t", "reach", ctxDir)
	mustContain(t, "a build step fetching "+url, c.ok("run", "--rm", "reach"), "200 OK", "outside")
}

// defaultGateway is this machine's default IPv4 gateway.
func defaultGateway(t *testing.T) string {
	data, _ := os.ReadFile("/proc/net/route")
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "00000000" {
			v, err := strconv.ParseUint(f[2], 16, 32)
			if err == nil && v != 0 {
				return net.IPv4(byte(v), byte(v>>8), byte(v>>16), byte(v>>24)).String()
			}
		}
	}
	t.Skip("this machine has no default route: pasta offers no gateway to reach it by")
	return ""
}

// nonLoopbackAddress is an address of this machine other than loopback,
// where a port published on every address answers too.
func nonLoopbackAddress(t *testing.T) string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	t.Log("this machine has no address but loopback: the every-address port is tried there")
	return "127.0.0.1"
}

// udpEcho sends msg to addr until a reply comes (the server may still be
// starting) and returns it.
func udpEcho(t *testing.T, addr, msg string) string {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 100)
	for range 50 {
		conn.Write([]byte(msg))
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := conn.Read(buf); err == nil {
			return string(buf[:n])
		}
	}
	return ""
}

// httpGet fetches url, retrying while the server starts.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%s never answered", url)
	return ""
}

// On a kernel that lets no user namespace mount overlayfs, a rootless
// engine mounts layers with fuse-overlayfs; the driver is chosen here so
// this kernel takes that path. Layers made from what fuse-overlayfs writes
// keep a deleted file deleted and an emptied folder empty, through a
// registry too, and a running container writes as usual.
func TestRootlessEngineOnFuseOverlayfs(t *testing.T) {
	if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
		t.Skip("fuse-overlayfs is not installed (packaging/dev/setup.sh test installs it)")
	}
	fi, err := os.Stat("/dev/fuse")
	if err != nil {
		t.Skipf("this machine has no /dev/fuse: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o006 != 0o006 { // a desktop's udev makes it 0666; CI's container does not
		if err := os.Chmod("/dev/fuse", perm|0o666); err != nil {
			t.Skipf("/dev/fuse is %v and cannot be opened to the person: %v", perm, err)
		}
		t.Cleanup(func() { os.Chmod("/dev/fuse", perm) })
	}
	p := enginetest.OrdinaryUser(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	bb := reg.Host + "/library/busybox"
	c := dockerAs(t, p, p.StartBerthd(t, berthdBinary, "--storage-driver", "fuse-overlayfs"))
	mustContain(t, "docker info", c.ok("info"), "Storage Driver: fuse-overlayfs")
	c.ok("pull", "-q", bb)

	app := p.Mkdir(t, filepath.Join(p.Mkdir(t, filepath.Join(p.Runtime, "apps")), "fusey"))
	os.WriteFile(filepath.Join(app, "Dockerfile"), []byte("FROM "+bb+"\n"+
		"RUN mkdir -p /data/old && echo old > /data/old/f && echo keep > /etc/keep\n"+
		"RUN rm /etc/keep && rm -rf /data && mkdir /data && echo new > /data/new\n"), 0o644)
	c.ok("build", "-t", reg.Host+"/me/fusey", app)
	check := func(how string) {
		t.Helper()
		out := c.ok("run", "--rm", reg.Host+"/me/fusey", "sh", "-c", "ls -A /data; test -e /etc/keep && echo kept || echo gone")
		if out != "new\ngone\n" {
			t.Errorf("%s: /data and /etc/keep read %q, want only /data/new and no /etc/keep", how, out)
		}
	}
	check("built")
	c.ok("push", reg.Host+"/me/fusey")
	c.ok("rmi", reg.Host+"/me/fusey")
	c.ok("image", "prune", "-f")
	c.ok("pull", "-q", reg.Host+"/me/fusey")
	check("pushed and pulled again")

	c.ok("run", "-d", "--name", "writer", bb, "sleep", "300")
	if out := c.ok("exec", "writer", "sh", "-c", "echo hi > /tmp/w && rm /bin/ls && cat /tmp/w"); out != "hi\n" {
		t.Errorf("a write in a running container: %q", out)
	}
	mustContain(t, "docker diff", c.ok("diff", "writer"), "A /tmp/w", "D /bin/ls")
	fuseServers := func() int {
		out, _ := exec.Command("pgrep", "-u", strconv.Itoa(p.UID), "-x", "fuse-overlayfs").Output()
		return len(strings.Fields(string(out)))
	}
	if fuseServers() == 0 {
		t.Error("no fuse-overlayfs of the person's serves the running container's file system")
	}
	c.ok("rm", "-f", "writer")
	for deadline := time.Now().Add(10 * time.Second); fuseServers() > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d fuse-overlayfs processes outlive the container: its mount was left behind", fuseServers())
		}
	}
}
