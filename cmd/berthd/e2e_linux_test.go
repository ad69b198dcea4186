package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/enginetest"
)

// berthdBinary is built once by TestMain for the end-to-end tests.
var berthdBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berthd-e2e-")
	if err != nil {
		panic(err)
	}
	berthdBinary = filepath.Join(dir, "berthd")
	if out, err := exec.Command("go", "build", "-o", berthdBinary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var daemonSeq atomic.Int32

// testDaemon is a berthd on a temporary socket, data root and bridge.
type testDaemon struct {
	t                                      *testing.T
	dir, sock, dataRoot, bridge, bip, host string
	args                                   []string
	cmd                                    *exec.Cmd
	cancel                                 context.CancelFunc
}

// daemon starts berthd; it is stopped when the test ends.
func daemon(t *testing.T, args ...string) (host, dataRoot string) {
	d := startDaemon(t, args...)
	return d.host, d.dataRoot
}

func startDaemon(t *testing.T, args ...string) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	n := daemonSeq.Add(1)
	d := &testDaemon{t: t, dir: dir, sock: filepath.Join(dir, "berth.sock"), dataRoot: filepath.Join(dir, "data"),
		bridge: fmt.Sprintf("bre%d-%d", os.Getpid()%100000, n), bip: fmt.Sprintf("10.%d.%d.1/24", 160+os.Getpid()%60, n%250), args: args}
	d.host = "unix://" + d.sock
	d.start()
	t.Cleanup(func() {
		d.shutdown()
		unmountUnder(d.dir)
		exec.Command("ip", "link", "del", d.bridge).Run()
		exec.Command("iptables", "-D", "FORWARD", "-i", d.bridge, "-o", d.bridge, "-j", "ACCEPT").Run()
	})
	return d
}

func (d *testDaemon) start() {
	d.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.cmd = exec.CommandContext(ctx, berthdBinary, append([]string{"-H", d.host, "--data-root", d.dataRoot,
		"--exec-root", filepath.Join(d.dir, "run"), "--bridge", d.bridge, "--bip", d.bip, "--ip-masq=false"}, d.args...)...)
	log, _ := os.OpenFile(filepath.Join(d.dir, "berthd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	d.cmd.Stdout, d.cmd.Stderr = log, log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("unix", d.sock); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatal("berthd did not start listening")
}

// shutdown ends berthd as a service manager would: SIGTERM, then wait.
func (d *testDaemon) shutdown() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		d.t.Error("berthd did not exit within 20 s of SIGTERM")
		d.cancel()
		<-done
	}
	d.cmd = nil
	if d.t.Failed() {
		out, _ := os.ReadFile(filepath.Join(d.dir, "berthd.log"))
		d.t.Logf("berthd log:\n%s", out)
	}
}

// unmountUnder removes mounts a test's berthd left (after a crash test).
func unmountUnder(dir string) {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			syscall.Unmount(f[4], syscall.MNT_DETACH)
		}
	}
}

// stop ends berthd the hard way: SIGKILL, as a crash would.
func (d *testDaemon) stop() {
	if d.cmd == nil {
		return
	}
	d.cancel()
	d.cmd.Wait()
	d.cmd = nil
	if d.t.Failed() {
		out, _ := os.ReadFile(filepath.Join(d.dir, "berthd.log"))
		d.t.Logf("berthd log:\n%s", out)
	}
}

type cli struct {
	t      *testing.T
	host   string
	config string
	as     *enginetest.Person // nil: the test's own user
	env    []string           // more of docker's environment
}

// with is c with more environment variables for docker.
func (c *cli) with(env ...string) *cli {
	d := *c
	d.env = append(slices.Clone(c.env), env...)
	return &d
}

func dockerCLI(t *testing.T, host string) *cli {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("the docker CLI is not installed: end-to-end tests drive berthd with it")
	}
	return &cli{t: t, host: host, config: t.TempDir()}
}

// run runs docker and returns its combined output and whether it succeeded.
func (c *cli) run(args ...string) (string, bool) {
	c.t.Helper()
	// A command that hangs fails its test instead of the whole run.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = os.Environ()
	if c.as != nil {
		cmd = c.as.Command(ctx, "docker", args...)
	}
	cmd.Env = append(cmd.Env, "DOCKER_HOST="+c.host, "DOCKER_CONFIG="+c.config, "DOCKER_CLI_HINTS=false")
	cmd.Env = append(cmd.Env, c.env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out) + "\n(docker did not finish in 3 minutes)", false
	}
	return string(out), err == nil
}

// ok runs docker and fails the test unless it succeeds and prints every want.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, ok := c.run(args...)
	if !ok {
		c.t.Fatalf("docker %s failed:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func (c *cli) fails(wantInOutput string, args ...string) {
	c.t.Helper()
	out, ok := c.run(args...)
	if ok || !strings.Contains(out, wantInOutput) {
		c.t.Errorf("docker %s: succeeded=%v, output:\n%s\nwant failure mentioning %q", strings.Join(args, " "), ok, out, wantInOutput)
	}
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

func TestDockerCLIImageLifecycle(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	img := enginetest.Busybox(t)
	reg.Push(t, img, "library/busybox:latest")
	cfgName, _ := img.ConfigName()
	wantID := cfgName.String()

	host, _ := daemon(t)
	d := dockerCLI(t, host)
	start := time.Now()

	out := d.ok("version")
	mustContain(t, "version", out, "Berth Engine", "API version:")

	src := reg.Host + "/library/busybox"
	out = d.ok("pull", src)
	mustContain(t, "pull", out, "Pull complete", "Digest: sha256:", "Status: Downloaded newer image for "+src+":latest")
	out = d.ok("pull", src)
	mustContain(t, "pull again", out, "Status: Image is up to date")

	out = d.ok("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	mustContain(t, "images", out, src+":latest "+wantID)
	if id := strings.TrimSpace(d.ok("inspect", "--format", "{{.Id}}", src)); id != wantID {
		t.Errorf("inspect ID = %s, want %s", id, wantID)
	}
	out = d.ok("history", src)
	mustContain(t, "history", out, `CMD ["sh"]`, "ADD file:busybox-static")

	// Tag and push into a second repository; the layer is skipped the second time.
	target := reg.Host + "/team/bb:v1"
	d.ok("tag", src, target)
	out = d.ok("push", target)
	digest := regexp.MustCompile(`v1: digest: (sha256:[0-9a-f]{64}) size: \d+`).FindStringSubmatch(out)
	if digest == nil {
		t.Fatalf("push printed no digest:\n%s", out)
	}
	out = d.ok("search", reg.Host+"/team")
	mustContain(t, "search", out, reg.Host+"/team/bb")

	// Remove both names: the second removal deletes the image.
	out = d.ok("rmi", target)
	mustContain(t, "rmi target", out, "Untagged: "+target)
	out = d.ok("rmi", src)
	mustContain(t, "rmi last name", out, "Deleted: "+wantID)
	if out := d.ok("images", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("images after rmi: %q", out)
	}

	// Pull again by digest.
	byDigest := reg.Host + "/team/bb@" + digest[1]
	d.ok("pull", byDigest)
	if id := strings.TrimSpace(d.ok("inspect", "--format", "{{.Id}}", byDigest)); id != wantID {
		t.Errorf("pulled by digest: ID %s, want %s", id, wantID)
	}

	// Save, remove, load: the same image comes back under its name.
	d.ok("tag", byDigest, "saved/bb:1")
	archive := filepath.Join(t.TempDir(), "bb.tar")
	d.ok("save", "-o", archive, "saved/bb:1")
	d.ok("rmi", "-f", wantID)
	out = d.ok("load", "-i", archive)
	mustContain(t, "load", out, "Loaded image: saved/bb:1")
	if id := strings.TrimSpace(d.ok("inspect", "--format", "{{.Id}}", "saved/bb:1")); id != wantID {
		t.Errorf("loaded ID %s, want %s", id, wantID)
	}

	// Bad input: clear errors, nothing changes.
	d.fails("invalid reference format", "pull", "Not/A Name")
	d.fails("not found", "pull", src+":nope")
	d.fails("No such image", "rmi", "nothing-here")
	d.fails("cannot reach the registry", "pull", "127.0.0.1:1/nothing:latest")
	if out := d.ok("images", "--format", "{{.Repository}}:{{.Tag}}"); strings.TrimSpace(out) != "saved/bb:1" {
		t.Errorf("images after failed commands:\n%s", out)
	}

	// Everything above is in the event log.
	since := start.Add(-time.Second).Unix()
	out = d.ok("events", "--since", itoa(since), "--until", itoa(time.Now().Unix()+1), "--filter", "type=image")
	mustContain(t, "events", out, "image pull "+src+":latest", "image push "+target, "image untag", "image delete "+wantID, "image load saved/bb:1")
}

func TestDockerCLIRejectsLyingRegistryAndKeepsStoreClean(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	host, dataRoot := daemon(t)
	d := dockerCLI(t, host)
	reg.CorruptBlobs.Store(true)
	d.fails("does not match its digest", "pull", reg.Host+"/library/busybox")
	blobs, _ := os.ReadDir(filepath.Join(dataRoot, "images", "blobs", "sha256"))
	if len(blobs) != 0 {
		t.Errorf("%d blobs kept from a lying registry", len(blobs))
	}
	reg.CorruptBlobs.Store(false)
	d.ok("pull", reg.Host+"/library/busybox")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A root engine's socket belongs to a group whose members reach it
// without sudo (Docker's docker group); a group named that does not exist
// is an error that says how to make it.
func TestSocketGroup(t *testing.T) {
	const group = "berth-e2e-sock"
	if _, err := user.LookupGroup(group); err != nil {
		if out, err := exec.Command("groupadd", "--system", group).CombinedOutput(); err != nil {
			t.Skipf("groupadd %s: %v %s (CI is root and can)", group, err, out)
		}
		t.Cleanup(func() { exec.Command("groupdel", group).Run() })
	}
	g, _ := user.LookupGroup(group)
	d := startDaemon(t, "--group", group)
	fi, err := os.Stat(d.sock)
	if err != nil {
		t.Fatal(err)
	}
	if gid := fi.Sys().(*syscall.Stat_t).Gid; strconv.Itoa(int(gid)) != g.Gid || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket group %d mode %v, want %s and 0660", gid, fi.Mode().Perm(), g.Gid)
	}
	dir := t.TempDir()
	out, err := exec.Command(berthdBinary, "-H", "unix://"+filepath.Join(dir, "s.sock"), "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "run"), "--group", "no-such-berth-group").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "groupadd --system no-such-berth-group") {
		t.Errorf("a missing group: %v %s", err, out)
	}
}

// docker login against a registry that asks for an account (Docker Hub's
// token flow, then a registry's basic auth): a wrong password is refused
// in words, the right one lets pull and push through, logout ends it.
func TestDockerLogin(t *testing.T) {
	d := startDaemon(t)
	for _, bearer := range []bool{true, false} {
		reg := enginetest.StartRegistry(t)
		reg.Push(t, enginetest.Busybox(t), "private/busybox:latest")
		reg.RequireLogin(enginetest.Login{User: "me", Password: "s3cret", Bearer: bearer})
		c := dockerCLI(t, d.host)
		private := reg.Host + "/private/busybox:latest"
		c.fails("refused the user name and password", "login", "-u", "me", "-p", "wrong", reg.Host)
		c.fails("access denied", "pull", private)
		mustContain(t, "login", c.ok("login", "-u", "me", "-p", "s3cret", reg.Host), "Login Succeeded")
		c.ok("pull", "-q", private)
		c.ok("tag", private, reg.Host+"/me/copy:v1")
		c.ok("push", reg.Host+"/me/copy:v1")
		c.ok("logout", reg.Host)
		c.fails("access denied", "pull", reg.Host+"/me/copy:v1")
		c.ok("rmi", private, reg.Host+"/me/copy:v1")
	}
	// Swarm commands hear what a dockerd outside a swarm says.
	dockerCLI(t, d.host).fails("not a swarm manager", "node", "ls")
}

// docker-py (the Python library most tools are built on) through its
// common container flows; each check names what dockerd does.
func TestDockerPy(t *testing.T) {
	if err := exec.Command("python3", "-c", "import docker").Run(); err != nil {
		t.Skip("docker-py is not installed (Debian's python3-docker; packaging/dev/setup.sh test installs it)")
	}
	d := startDaemon(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	ref := reg.Host + "/library/busybox:latest"
	dockerCLI(t, d.host).ok("pull", "-q", ref)
	reg.RequireLogin(enginetest.Login{User: "py", Password: "s3cret", Bearer: true}) // push (and pull) after docker-py's login
	out, err := exec.Command("python3", filepath.Join("testdata", "dockerpy_flows.py"), d.host, ref, reg.Host, "py", "s3cret").CombinedOutput()
	if err != nil || !strings.HasSuffix(string(out), "OK\n") {
		t.Fatalf("docker-py: %v\n%s", err, out)
	}
}

// docker volume: create with labels, ls with filters, inspect, a volume a
// container holds is refused removal, prune takes anonymous volumes and,
// with -a, named ones too; what a container wrote stays in its volume.
func TestDockerVolumes(t *testing.T) {
	d, c, bb := daemonWithBusybox(t)

	c.ok("volume", "create", "--label", "team=web", "data")
	c.ok("volume", "create", "scratch")
	mustContain(t, "volume ls", c.ok("volume", "ls", "--format", "{{.Driver}} {{.Name}}"), "local data", "local scratch")
	if out := c.ok("volume", "ls", "-q", "--filter", "label=team=web"); out != "data\n" {
		t.Errorf("volume ls --filter label: %q", out)
	}
	mustContain(t, "volume inspect", c.ok("volume", "inspect", "data"), `"team": "web"`, `"Driver": "local"`, filepath.Join(d.dataRoot, "volumes", "data", "_data"))
	c.fails("no such volume", "volume", "inspect", "nothing")

	c.ok("run", "--name", "writer", "-v", "data:/d", "-v", "/anon", bb, "sh", "-c", "echo kept > /d/f")
	if out := c.ok("run", "--rm", "-v", "data:/d", bb, "cat", "/d/f"); out != "kept\n" {
		t.Errorf("a volume's file seen by the next container: %q", out)
	}
	c.fails("volume is in use", "volume", "rm", "data")
	if out := c.ok("volume", "ls", "-q", "--filter", "dangling=true"); out != "scratch\n" {
		t.Errorf("dangling volumes while writer exists: %q", out)
	}
	c.ok("rm", "writer") // its anonymous volume stays, as with dockerd (no -v)
	mustContain(t, "prune", c.ok("volume", "prune", "-f"), "Total reclaimed space")
	if out := c.ok("volume", "ls", "-q"); out != "data\nscratch\n" {
		t.Errorf("after prune (anonymous only): %q", out)
	}
	c.ok("volume", "rm", "scratch")
	c.ok("volume", "prune", "-a", "-f")
	if out := c.ok("volume", "ls", "-q"); out != "" {
		t.Errorf("after prune -a: %q", out)
	}
	c.fails("no such volume", "volume", "rm", "data")
}

// docker network: the bridge, host and none are listed and inspected as
// dockerd's (the bridge with its subnet and the containers on it);
// networks of one's own are made, joined and removed, and their
// containers find each other by name and alias; docker system prune goes
// through.
func TestDockerNetworks(t *testing.T) {
	d, c, bb := daemonWithBusybox(t)
	if out := c.ok("network", "ls", "--format", "{{.Name}} {{.Driver}}"); out != "bridge bridge\nhost host\nnone null\n" {
		t.Errorf("network ls: %q", out)
	}
	c.ok("run", "-d", "--name", "sleeper", bb, "sleep", "300")
	ip := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "sleeper"))
	subnet, _, _ := strings.Cut(d.bip, "/")
	subnet = subnet[:strings.LastIndex(subnet, ".")] + ".0/24"
	mustContain(t, "network inspect bridge", c.ok("network", "inspect", "bridge"), `"Subnet": "`+subnet+`"`, `"Name": "sleeper"`, ip+"/")
	if id := c.ok("inspect", "-f", "{{.NetworkSettings.Networks.bridge.NetworkID}}", "sleeper"); !strings.HasPrefix(c.ok("network", "inspect", "-f", "{{.Id}}", "bridge"), strings.TrimSpace(id)) {
		t.Errorf("the container's network ID %q is not the bridge's", id)
	}
	c.fails("pre-defined network", "network", "rm", "bridge")

	// A network of one's own: its containers reach each other by name and
	// by alias (its DNS server), names outside it stay unknown.
	c.ok("network", "create", "--label", "app=demo", "mine")
	mustContain(t, "network ls", c.ok("network", "ls", "--filter", "label=app=demo", "--format", "{{.Name}} {{.Driver}}"), "mine bridge")
	c.fails("already exists", "network", "create", "mine")
	c.ok("run", "-d", "--name", "web", "--network", "mine", "--network-alias", "www", bb, "httpd", "-f", "-p", "8080", "-h", "/etc")
	webIP := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.Networks.mine.IPAddress}}", "web"))
	if net.ParseIP(webIP) == nil {
		t.Fatalf("web's address on mine: %q", webIP)
	}
	for _, name := range []string{"web", "www"} {
		mustContain(t, "nslookup "+name+" on mine", c.ok("run", "--rm", "--network", "mine", bb, "nslookup", name), webIP)
	}
	if out, ok := c.run("run", "--rm", bb, "nslookup", "web"); ok && strings.Contains(out, webIP) {
		t.Errorf("a container on the engine's bridge resolved web:\n%s", out)
	}
	c.ok("network", "connect", "--alias", "napper", "mine", "sleeper")
	c.ok("exec", "sleeper", "ping", "-c", "1", "-W", "3", webIP) // its second interface, on mine
	mustContain(t, "nslookup napper on mine", c.ok("run", "--rm", "--network", "mine", bb, "nslookup", "napper"), "Address")
	mustContain(t, "network inspect mine", c.ok("network", "inspect", "mine"), `"Name": "web"`, `"Name": "sleeper"`, `"app": "demo"`)
	c.fails("active endpoints", "network", "rm", "mine")
	c.ok("network", "disconnect", "mine", "sleeper")
	if _, ok := c.run("exec", "sleeper", "ping", "-c", "1", "-W", "1", webIP); ok {
		t.Error("sleeper still reaches web after leaving mine")
	}
	c.ok("rm", "-f", "web")
	c.ok("network", "rm", "mine")
	c.ok("network", "create", "spare")
	mustContain(t, "network prune", c.ok("network", "prune", "-f"), "spare")
	c.fails("not found", "network", "inspect", "nothing")
	c.ok("rm", "-f", "sleeper")
	mustContain(t, "system prune", c.ok("system", "prune", "-f"), "Total reclaimed space")
}

// docker top lists a container's processes; docker diff what it changed
// in its image's files (added, changed, deleted), as dockerd's do.
func TestDockerTopAndDiff(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	c.ok("run", "-d", "--name", "busy", bb, "sh", "-c", "mkdir /made && echo x > /made/f && rm /bin/vi && echo y >> /etc/passwd && exec sleep 300")
	// Wait for the sleep itself: the shell's own command line, which top
	// lists while the shell still runs the commands before it, ends in
	// "sleep 300" too.
	sleeping := func(out string) bool {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasSuffix(line, " sleep 300") && !strings.Contains(line, "sh -c") {
				return true
			}
		}
		return false
	}
	for i := 0; ; i++ {
		out := c.ok("top", "busy")
		if sleeping(out) && strings.Contains(out, "PID") && strings.Contains(out, "CMD") {
			break
		}
		if i == 50 {
			t.Fatalf("docker top:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	diff := c.ok("diff", "busy")
	mustContain(t, "docker diff", diff, "A /made\n", "A /made/f\n", "D /bin/vi\n", "C /etc/passwd\n", "C /etc\n")
	c.fails("is not running", "top", c.ok("create", bb, "true")[:12])
	c.ok("rm", "-f", "busy")
}

// Health checks run: --health-cmd (and an image's HEALTHCHECK, which the
// run's flags override) turn a container healthy once its check passes,
// unhealthy after retries failures, in inspect, docker ps and events.
func TestDockerHealthChecks(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	health := func(name string) string {
		return strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Health.Status}}", name))
	}
	waitHealth := func(name, want string) {
		t.Helper()
		for i := 0; i < 100; i++ {
			if health(name) == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s never became %s (is %s):\n%s", name, want, health(name), c.ok("inspect", "-f", "{{json .State.Health}}", name))
	}
	c.ok("run", "-d", "--name", "good", "--health-cmd", "test -f /tmp/ready", "--health-interval", "200ms", "--health-retries", "2", bb,
		"sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 300")
	if got := health("good"); got != "starting" {
		t.Errorf("right after start: %q, want starting", got)
	}
	waitHealth("good", "healthy")
	mustContain(t, "docker ps", c.ok("ps", "--format", "{{.Names}} {{.Status}}"), "(healthy)")

	// An image's HEALTHCHECK runs too; a failing one ends unhealthy.
	ctx := filepath.Join(t.TempDir(), "ctx")
	os.MkdirAll(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+bb+"\nHEALTHCHECK --interval=200ms --retries=2 CMD false\nCMD [\"sleep\", \"300\"]\n"), 0o644)
	c.ok("build", "-q", "-t", "sick", ctx)
	c.ok("run", "-d", "--name", "sick", "sick")
	waitHealth("sick", "unhealthy")
	if out := c.ok("inspect", "-f", "{{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}}", "sick"); !strings.HasSuffix(strings.TrimSpace(out), " 1") {
		t.Errorf("the failing check's record: %q", out)
	}
	// --no-healthcheck turns the image's off.
	c.ok("run", "-d", "--name", "quiet", "--no-healthcheck", "sick")
	if out := c.ok("inspect", "-f", "{{.State.Health}}", "quiet"); strings.TrimSpace(out) != "<nil>" {
		t.Errorf("--no-healthcheck: health %q", out)
	}
	c.ok("rm", "-f", "good", "sick", "quiet")
}

// docker system df: images (a layer two images share counted once),
// containers with what they wrote, volumes with their files, the build
// cache; -v lists each.
func TestDockerSystemDF(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	ctx := filepath.Join(t.TempDir(), "ctx")
	os.MkdirAll(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+bb+"\nRUN head -c 300000 /dev/zero > /big\n"), 0o644)
	c.ok("build", "-q", "-t", "big", ctx)
	c.ok("volume", "create", "data")
	c.ok("run", "--name", "writer", "-v", "data:/d", bb, "sh", "-c", "head -c 200000 /dev/zero > /d/f; head -c 100000 /dev/zero > /w")
	out := c.ok("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Size}}")
	for _, want := range []string{"Images 2 ", "Containers 1 100kB", "Local Volumes 1 200kB", "Build Cache 1 300kB"} {
		if !strings.Contains(out, want) {
			t.Errorf("system df lacks %q:\n%s", want, out)
		}
	}
	mustContain(t, "system df -v", c.ok("system", "df", "-v"), "writer", "data", "big", "1.982MB") // busybox's layer, shared by both images
	c.ok("rm", "writer")
}

// docker commit: an image of what a container changed (a file added, one
// deleted), which runs as its own; of a running container too; --change
// is refused in words.
func TestDockerCommit(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	c.ok("run", "--name", "maker", "-e", "GREETING=hi", bb, "sh", "-c", "echo made > /hello; rm /bin/vi")
	c.ok("commit", "-a", "me", "-m", "added hello", "maker", "snap:v1")
	if out := c.ok("run", "--rm", "snap:v1", "sh", "-c", "cat /hello; echo $GREETING; test -e /bin/vi || echo no-vi; test -e /etc/hostname && echo has-hostname"); out != "made\nhi\nno-vi\nhas-hostname\n" {
		t.Errorf("the committed image runs with %q", out)
	}
	mustContain(t, "history", c.ok("history", "--no-trunc", "snap:v1"), "added hello")
	c.ok("run", "-d", "--name", "live", bb, "sh", "-c", "echo live > /live; exec sleep 300")
	for i := 0; ; i++ { // until it has written its file
		if out, ok := c.run("exec", "live", "cat", "/live"); ok && out == "live\n" {
			break
		}
		if i == 100 {
			t.Fatal("the running container never wrote /live")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.ok("commit", "live", "snap:live")
	if out := c.ok("run", "--rm", "snap:live", "cat", "/live"); out != "live\n" {
		t.Errorf("a running container's commit: %q", out)
	}
	c.fails("--change is not supported", "commit", "--change", "CMD [\"true\"]", "maker", "snap:v2")
	c.ok("rm", "-f", "maker", "live")
}

// docker export, then docker import: a container's whole file system out
// as a tar, and back in as an image that runs; a crafted archive that
// leaves its root is refused as a pulled layer is.
func TestDockerExportImport(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	c.ok("run", "--name", "src", bb, "sh", "-c", "echo exported > /mark")
	tarPath := filepath.Join(t.TempDir(), "fs.tar")
	c.ok("export", "-o", tarPath, "src")
	if fi, err := os.Stat(tarPath); err != nil || fi.Size() < 100_000 {
		t.Fatalf("export wrote %v %v", fi, err)
	}
	mustContain(t, "import", c.ok("import", "-m", "from export", tarPath, "flat:v1"), "sha256:")
	if out := c.ok("run", "--rm", "flat:v1", "/bin/cat", "/mark"); out != "exported\n" {
		t.Errorf("the imported image runs with %q", out)
	}
	mustContain(t, "history", c.ok("history", "--no-trunc", "flat:v1"), "from export")
	c.fails("--change is not supported", "import", "--change", "CMD [\"sh\"]", tarPath, "flat:v2")

	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	tw.WriteHeader(&tar.Header{Name: "../../../../../../../tmp/berth-import-escape", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	evilPath := filepath.Join(t.TempDir(), "evil.tar")
	os.WriteFile(evilPath, evil.Bytes(), 0o644)
	c.fails("unsafe layer", "import", evilPath, "evil:v1")
	if _, err := os.Stat("/tmp/berth-import-escape"); err == nil {
		os.Remove("/tmp/berth-import-escape")
		t.Error("an imported archive wrote outside its root")
	}
	c.ok("rm", "src")
}

// An engine that fails to start after setting up its network (here: a
// host address already taken) takes it down again: no bridge, no
// prepared namespace mounted, no veth left.
func TestFailedStartLeavesNoNetwork(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("berthd's network needs root")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	bridge := fmt.Sprintf("brf%d", os.Getpid()%100000)
	out, err := exec.Command(berthdBinary, "-H", "unix://"+filepath.Join(dir, "s.sock"), "-H", "tcp://"+taken.Addr().String(),
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "run"), "--bridge", bridge, "--bip", "10.199.3.1/24", "--ip-masq=false").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "address already in use") {
		t.Fatalf("berthd on a taken address: %v\n%s", err, out)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), dir) {
		t.Errorf("mounts left under %s", dir)
		unmountUnder(dir)
	}
	if links, _ := exec.Command("ip", "-o", "link", "show", "master", bridge).CombinedOutput(); strings.Contains(string(links), "@") {
		t.Errorf("veths left on %s:\n%s", bridge, links)
	}
	if exec.Command("ip", "link", "show", bridge).Run() == nil {
		t.Errorf("the bridge %s was left", bridge)
		exec.Command("ip", "link", "del", bridge).Run()
	}
}

// daemonWithBusybox is a berthd of the test's own with busybox pulled
// from a loopback registry, and the docker CLI pointed at it.
func daemonWithBusybox(t *testing.T) (*testDaemon, *cli, string) {
	t.Helper()
	d := startDaemon(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	c := dockerCLI(t, d.host)
	bb := reg.Host + "/library/busybox:latest"
	c.ok("pull", "-q", bb)
	return d, c, bb
}

// --add-host, --dns (with --dns-search and --dns-option) and --link reach
// the container's /etc/hosts and /etc/resolv.conf as with dockerd.
func TestDockerRunHostsAndDNS(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	out := c.ok("run", "--rm", "--add-host", "db.local:10.1.2.3", "--add-host", "host.docker.internal:host-gateway",
		"--dns", "9.9.9.9", "--dns-search", "example.org", "--dns-option", "ndots:2", bb, "sh", "-c", "cat /etc/hosts /etc/resolv.conf")
	mustContain(t, "/etc/hosts and /etc/resolv.conf", out, "10.1.2.3\tdb.local", "\thost.docker.internal", "nameserver 9.9.9.9", "search example.org", "options ndots:2")
	if strings.Contains(out, "host-gateway") {
		t.Errorf("host-gateway was written as it is, not as the engine's host:\n%s", out)
	}
	c.ok("run", "-d", "--name", "db", bb, "sleep", "300")
	dbIP := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "db"))
	mustContain(t, "--link", c.ok("run", "--rm", "--link", "db:database", bb, "cat", "/etc/hosts"), dbIP+"\tdatabase db")
	c.fails("cannot link to nothere", "run", "--rm", "--link", "nothere:x", bb, "true")
	c.fails("add-host", "run", "--rm", "--add-host", "bad", bb, "true")
	c.ok("rm", "-f", "db")
}

// docker update: a running container's memory limit changes in its cgroup
// at once, and the new limits and restart policy are kept; what Berth does
// not do is refused by name.
func TestDockerUpdate(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	c.ok("run", "-d", "--name", "upd", "-m", "64m", bb, "sleep", "300")
	c.ok("update", "-m", "128m", "--cpus", "0.5", "--restart", "on-failure:3", "upd")
	mustContain(t, "inspect after update", c.ok("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "upd"),
		"134217728 500000000 on-failure:3")
	pid := strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Pid}}", "upd"))
	if limit := memoryLimit(t, pid); limit != "134217728" {
		t.Errorf("the running container's cgroup memory limit is %q, want 128 MiB", limit)
	}
	c.fails("--cpu-shares", "update", "--cpu-shares", "512", "upd")
	c.ok("rm", "-f", "upd")
}

// memoryLimit reads the memory limit of the cgroup process pid is in
// (cgroup v1's memory controller, or v2's unified tree).
func memoryLimit(t *testing.T, pid string) string {
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		file := ""
		switch {
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			file = filepath.Join("/sys/fs/cgroup/memory", f[2], "memory.limit_in_bytes")
		case f[0] == "0" && f[1] == "":
			file = filepath.Join("/sys/fs/cgroup", f[2], "memory.max")
		}
		if b, err := os.ReadFile(file); file != "" && err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("no memory cgroup for process %s:\n%s", pid, data)
	return ""
}

// docker volume create --opt: a tmpfs volume (its files in memory, shared
// by the containers that mount it) and one bound to a folder of the host,
// whose files outlive the volume.
func TestDockerVolumeOptions(t *testing.T) {
	_, c, bb := daemonWithBusybox(t)
	c.ok("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=16m", "scratch")
	mustContain(t, "a tmpfs volume's mount", c.ok("run", "--rm", "-v", "scratch:/s", bb, "sh", "-c", "echo x > /s/f && grep ' /s ' /proc/mounts"), "tmpfs")
	if out := c.ok("run", "--rm", "-v", "scratch:/s", bb, "cat", "/s/f"); out != "x\n" {
		t.Errorf("a second container on the tmpfs volume read %q", out)
	}
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "keep"), []byte("mine\n"), 0o644)
	c.ok("volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device="+host, "bound")
	mustContain(t, "volume inspect bound", c.ok("volume", "inspect", "bound"), `"device": "`+host+`"`)
	if out := c.ok("run", "--rm", "-v", "bound:/b", bb, "sh", "-c", "cat /b/keep && echo new > /b/added"); out != "mine\n" {
		t.Errorf("the bound volume showed %q", out)
	}
	c.ok("volume", "rm", "bound", "scratch")
	for _, f := range []string{"keep", "added"} {
		if _, err := os.Stat(filepath.Join(host, f)); err != nil {
			t.Errorf("removing the volume took the bound folder's %s with it: %v", f, err)
		}
	}
	c.fails("device must be an existing folder", "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=/nonexistent", "bad")
	c.fails("local driver", "volume", "create", "--opt", "type=nfs", "bad")
}

// A network of one's own outlives the engine: after a clean restart and
// after a crash, it is there, its restart-always container comes back on
// it (after a clean stop it used not to come back at all), and its name
// resolves again.
func TestNetworksOutliveTheEngine(t *testing.T) {
	d, c, bb := daemonWithBusybox(t)
	c.ok("network", "create", "keep")
	c.ok("run", "-d", "--name", "svc", "--restart", "always", "--network", "keep", bb, "sleep", "300")
	for name, end := range map[string]func(){"a clean stop": d.shutdown, "a crash": d.stop} {
		end()
		d.start()
		running := false
		for deadline := time.Now().Add(20 * time.Second); !running && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, _ := c.run("inspect", "-f", "{{.State.Running}}", "svc")
			running = strings.TrimSpace(out) == "true"
		}
		if !running {
			out, _ := c.run("inspect", "-f", "{{.State.Status}} {{.State.Error}}", "svc")
			t.Fatalf("after %s, the restart-always container is not running again: %s", name, out)
		}
		ip := strings.TrimSpace(c.ok("inspect", "-f", "{{.NetworkSettings.Networks.keep.IPAddress}}", "svc"))
		mustContain(t, "nslookup svc after "+name, c.ok("run", "--rm", "--network", "keep", bb, "nslookup", "svc"), ip)
	}
	c.ok("rm", "-f", "svc")
	c.ok("network", "rm", "keep")
}
