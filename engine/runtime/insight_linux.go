package runtime

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/layers"
	"golang.org/x/sys/unix"
)

// Top lists the container's processes, found as the descendants of its
// first process (cgroups may be absent: a rootless engine may have none).
func (rt *Runtime) Top(ctx context.Context, name string) (engine.ProcessList, error) {
	c, err := rt.find(name)
	if err != nil {
		return engine.ProcessList{}, err
	}
	c.mu.Lock()
	running, pid := c.running, c.rec.State.Pid
	c.mu.Unlock()
	if !running || pid <= 0 {
		return engine.ProcessList{}, conflict("Container %s is not running", c.rec.ID[:12])
	}
	list := engine.ProcessList{Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}}
	for _, p := range descendants(pid) {
		list.Processes = append(list.Processes, p.row())
	}
	return list, nil
}

// proc is what /proc says of one process.
type proc struct {
	pid, ppid int
	uid       string
	start     time.Time
	cpu       time.Duration
	cmd       string
}

func (p proc) row() []string {
	cpu := int(p.cpu.Seconds())
	return []string{p.uid, strconv.Itoa(p.pid), strconv.Itoa(p.ppid), "0", p.start.Format("15:04"), "?",
		fmt.Sprintf("%02d:%02d:%02d", cpu/3600, cpu/60%60, cpu%60), p.cmd}
}

// descendants are root and the processes under it, by PID.
func descendants(root int) []proc {
	entries, _ := os.ReadDir("/proc")
	all := map[int]proc{}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			all[pid] = p
			children[p.ppid] = append(children[p.ppid], pid)
		}
	}
	var out []proc
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if p, ok := all[pid]; ok {
			out = append(out, p)
			queue = append(queue, children[pid]...)
		}
	}
	slices.SortFunc(out, func(a, b proc) int { return a.pid - b.pid })
	return out
}

var bootTime = func() time.Time {
	data, _ := os.ReadFile("/proc/stat")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil {
				return time.Unix(s, 0)
			}
		}
	}
	return time.Time{}
}()

const clockTicks = 100 // USER_HZ on Linux

func readProc(pid int) (proc, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return proc{}, false
	}
	// The command in parentheses may hold spaces and parentheses itself.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return proc{}, false
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 20 {
		return proc{}, false
	}
	p := proc{pid: pid}
	p.ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	started, _ := strconv.ParseInt(f[19], 10, 64)
	p.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	p.start = bootTime.Add(time.Duration(started) * time.Second / clockTicks)
	var st unix.Stat_t
	if unix.Stat(dir, &st) == nil {
		p.uid = strconv.Itoa(int(st.Uid))
	}
	if cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(cmdline) > 0 {
		p.cmd = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	} else {
		p.cmd = "[" + string(stat[bytes.IndexByte(stat, '(')+1:end]) + "]"
	}
	return p, true
}

// Changes lists what the container changed in its image's files: its
// writable layer read against the image's layers (engine/layers), as
// `docker diff` shows it.
func (rt *Runtime) Changes(ctx context.Context, name string) ([]engine.FileChange, error) {
	c, err := rt.find(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	layerIDs, dir := slices.Clone(c.rec.Layers), c.dir
	c.mu.Unlock()
	var inputs []layers.LayerInput
	for _, id := range layerIDs {
		entries, err := layers.EntriesFromDir(rt.images.LayerPath(id))
		if err != nil {
			return nil, fmt.Errorf("changes of %s: layer %s: %w", name, id, err)
		}
		inputs = append(inputs, layers.LayerInput{DiffID: id, Entries: entries})
	}
	upper, err := layers.EntriesFromDir(filepath.Join(dir, "upper"))
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", name, err)
	}
	inputs = append(inputs, layers.LayerInput{Entries: upper})
	analysis := layers.Analyze(inputs)
	mine := analysis.Layers[len(analysis.Layers)-1]
	kinds := map[string]int{}
	for _, ch := range mine.Changes {
		if runtimeFiles[ch.Path] {
			continue // the engine's, written for every container: dockerd's are mounts and never listed
		}
		kinds["/"+ch.Path] = map[layers.Change]int{layers.Modified: 0, layers.Added: 1, layers.Removed: 2}[ch.Change]
		// A change inside a directory changes the directory, as dockerd
		// lists it ("C /etc" above "C /etc/passwd").
		for dir := path.Dir("/" + ch.Path); dir != "/"; dir = path.Dir(dir) {
			if _, ok := kinds[dir]; !ok {
				kinds[dir] = 0
			}
		}
	}
	out := []engine.FileChange{}
	for _, p := range slices.Sorted(maps.Keys(kinds)) {
		out = append(out, engine.FileChange{Path: p, Kind: kinds[p]})
	}
	return out, nil
}

// runtimeFiles are the files the engine writes into every container.
var runtimeFiles = map[string]bool{"etc/hostname": true, "etc/hosts": true, "etc/resolv.conf": true}

// CopyChanges copies what the container changed (its writable layer, in
// the store's overlayfs form: whiteouts as 0/0 devices, opaque
// directories by xattr) into dst, an empty directory, for docker commit.
// A running container is copied as it runs.
func (rt *Runtime) CopyChanges(ctx context.Context, name, dst string) (engine.Container, error) {
	c, err := rt.find(name)
	if err != nil {
		return engine.Container{}, err
	}
	v := c.view()
	// cp -a keeps owners, modes, times, hard links, device nodes and
	// extended attributes (the opaque markers) as they are.
	if out, err := exec.CommandContext(ctx, "cp", "-a", filepath.Join(c.dir, "upper")+"/.", dst).CombinedOutput(); err != nil {
		return engine.Container{}, fmt.Errorf("copy the changes of %s: %v: %s", v.Name, err, bytes.TrimSpace(out))
	}
	for f := range runtimeFiles { // the engine's, not the container's
		os.Remove(filepath.Join(dst, f))
	}
	return v, nil
}
