package main

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/enginetest"
)

// leftovers is what a berthd's runs leave on the host: processes in its
// cgroups, mounts under its folders, runtime state, build folders, its
// bridge and firewall rule.
type leftovers struct {
	pids, cgroups, mounts, state, steps, veths []string
	bridge, rule                               bool
}

func (d *testDaemon) leftovers(t *testing.T, ids []string) leftovers {
	t.Helper()
	var l leftovers
	controllers, _ := os.ReadDir("/sys/fs/cgroup")
	for _, id := range ids {
		for _, ctl := range []string{"pids", "memory", "freezer", "unified", ""} {
			procs, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctl, "berth", id, "cgroup.procs"))
			if err == nil && strings.TrimSpace(string(procs)) != "" {
				l.pids = append(l.pids, id+": "+strings.Join(strings.Fields(string(procs)), ","))
				break
			}
		}
		for _, ctl := range append(controllers, nil) { // nil: a cgroup2-only host's root
			dir := filepath.Join("/sys/fs/cgroup", "berth", id)
			if ctl != nil {
				dir = filepath.Join("/sys/fs/cgroup", ctl.Name(), "berth", id)
			}
			if _, err := os.Stat(dir); err == nil {
				l.cgroups = append(l.cgroups, dir)
			}
		}
	}
	if out, err := exec.Command("ip", "-o", "link", "show", "type", "veth").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.Contains(line, "master "+d.bridge+" ") {
				l.veths = append(l.veths, strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":"))
			}
		}
	}
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], d.dir+"/") {
			l.mounts = append(l.mounts, f[4])
		}
	}
	for dir, into := range map[string]*[]string{filepath.Join(d.dir, "run", "runc"): &l.state, filepath.Join(d.dir, "run", "build"): &l.steps} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			*into = append(*into, e.Name())
		}
	}
	l.bridge = exec.Command("ip", "link", "show", d.bridge).Run() == nil
	l.rule = exec.Command("iptables", "-C", "FORWARD", "-i", d.bridge, "-o", d.bridge, "-j", "ACCEPT").Run() == nil
	return l
}

// alive says whether a process runs (a zombie, killed and waiting for
// its new parent to reap it, does not).
func alive(pid string) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// containerIDs are the IDs whose cgroups a berthd made: its containers'
// and its build steps'.
func (d *testDaemon) cgroupIDs() []string {
	var ids []string
	for _, dir := range []string{filepath.Join(d.dataRoot, "containers"), filepath.Join(d.dir, "run", "runc"), filepath.Join(d.dir, "run", "build")} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			ids = append(ids, e.Name())
		}
	}
	return ids
}

// A berthd killed while a container runs and a build step runs leaves
// them behind; the next berthd ends them before anything else (their
// processes, mounts, cgroups, runtime state and build folders), and a
// clean stop takes its bridge and firewall rule with it.
func TestCrashLeavesNothingBehind(t *testing.T) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:latest")
	d := startDaemon(t)
	c := dockerCLI(t, d.host)
	c.ok("pull", "-q", reg.Host+"/library/busybox")
	c.ok("run", "-d", "--name", "sleeper", reg.Host+"/library/busybox", "sleep", "300")
	c.ok("run", "--name", "idle", reg.Host+"/library/busybox", "dd", "if=/dev/zero", "of=/big", "bs=1M", "count=32")

	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+reg.Host+"/library/busybox\nRUN sleep 300\n"), 0o644)
	buildCtx, cancelBuild := context.WithCancel(context.Background())
	defer cancelBuild()
	build := exec.CommandContext(buildCtx, "docker", "build", "-t", "slow", ctx)
	build.Env = append(os.Environ(), "DOCKER_HOST="+d.host, "DOCKER_CONFIG="+c.config, "DOCKER_BUILDKIT=0")
	build.Start()
	defer build.Wait()
	var during leftovers
	for i := 0; i < 300; i++ { // the RUN step is under way
		during = d.leftovers(t, d.cgroupIDs())
		if len(during.steps) > 0 && len(during.pids) >= 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(during.steps) == 0 || len(during.pids) < 2 || len(during.mounts) < 2 {
		t.Fatalf("the container and the build step are not both running: %+v", during)
	}
	// Mid-cp: a copy out of the stopped container and one into the
	// running one, both under way.
	copyOut, err := d.rawRequest("GET", "/containers/idle/archive?path=/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer copyOut.Body.Close()
	if _, err := io.ReadFull(copyOut.Body, make([]byte, 64<<10)); err != nil {
		t.Fatalf("the copy out did not start: %v", err)
	}
	inR, inW := io.Pipe()
	defer inW.Close()
	go d.rawRequest("PUT", "/containers/sleeper/archive?path=/tmp", inR)
	tw := tar.NewWriter(inW)
	tw.WriteHeader(&tar.Header{Name: "partial", Typeflag: tar.TypeReg, Size: 1 << 20, Mode: 0o644})
	tw.Write(make([]byte, 64<<10)) // the rest never comes
	ids := d.cgroupIDs()

	d.stop() // kill -9, mid-RUN, mid-cp, a container running
	cancelBuild()
	crashed := d.leftovers(t, ids)
	if len(crashed.pids) < 2 || len(crashed.cgroups) == 0 || len(crashed.mounts) == 0 || len(crashed.state) == 0 || len(crashed.veths) == 0 {
		t.Fatalf("a berthd killed -9 left nothing to clean (the test proves nothing): %+v", crashed)
	}

	d.start() // the next berthd ends what the last one left
	after := d.leftovers(t, ids)
	// The new berthd's own namespace pool (mounts, veths) is not the last one's.
	stale := func(now, then []string) []string {
		return slices.DeleteFunc(slices.Clone(now), func(x string) bool { return !slices.Contains(then, x) })
	}
	if len(after.pids) > 0 || len(after.cgroups) > 0 || len(stale(after.mounts, crashed.mounts)) > 0 || len(stale(after.veths, crashed.veths)) > 0 || len(after.state) > 0 || len(after.steps) > 0 {
		t.Fatalf("after a restart these are left: %+v (mounts of the crashed run: %v, veths: %v)", after, stale(after.mounts, crashed.mounts), stale(after.veths, crashed.veths))
	}
	for _, p := range crashed.pids {
		for _, pid := range strings.Split(strings.SplitN(p, ": ", 2)[1], ",") {
			if n, _ := strconv.Atoi(pid); n > 0 {
				if alive(pid) {
					t.Errorf("process %s of the last berthd still runs", pid)
				}
			}
		}
	}
	if out := c.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}"); !strings.Contains(out, "sleeper Exited (255)") {
		t.Errorf("the crashed container is not recorded as exited: %q", out)
	}

	// Both copied containers are whole: they start, and copy again.
	c.ok("start", "sleeper")
	c.ok("start", "idle")
	c.ok("cp", "idle:/big", t.TempDir())
	d.shutdown() // a clean stop
	stopped := d.leftovers(t, d.cgroupIDs())
	if len(stopped.pids) > 0 || len(stopped.cgroups) > 0 || len(stopped.mounts) > 0 || len(stopped.veths) > 0 || stopped.bridge || stopped.rule {
		t.Fatalf("a clean stop left: %+v", stopped)
	}
}
