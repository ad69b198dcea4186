package runtime

import (
	"fmt"

	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// Claim makes this process the engine of dataRoot and runDir, refusing
// when another berthd holds them, and ends what a previous berthd left
// when it was killed: the processes of build steps and containers (no
// container outlives the engine that ran it), their mounts, cgroups and
// runtime state. It runs before anything else opens the data root, so
// that the store's recovery never removes the directories of a mount
// still in use. Nothing outside dataRoot and runDir is touched, except the
// engine's own cgroups ("<cgroup>/berth/<id>", cgroup "/" for a rootful
// engine, the delegated one for a rootless one, "" for none). release
// gives the claim up.
func Claim(dataRoot, runDir, cgroup string) (release func(), err error) {
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(runDir, "berthd.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("another berthd runs with %s (%s is locked): %w", runDir, lock.Name(), engine.ErrConflict)
	}
	reconcile(dataRoot, runDir, cgroup)
	return func() { lock.Close() }, nil
}

func reconcile(dataRoot, runDir, cgroup string) {
	// The engine's own: what libcontainer recorded, the build steps' and
	// the containers' folders. Nothing else is touched (another engine on
	// this host has other ones).
	ids := map[string]bool{}
	stateRoot := filepath.Join(runDir, "runc")
	for _, dir := range []string{stateRoot, filepath.Join(runDir, "build"), filepath.Join(dataRoot, "containers")} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			ids[e.Name()] = true
		}
	}
	for id := range ids {
		if lc, err := libcontainer.Load(stateRoot, id); err == nil {
			lc.Signal(unix.SIGKILL)
			lc.Destroy() // its cgroups and state too
		}
		os.RemoveAll(filepath.Join(stateRoot, id))
	}
	if cgroup != "" {
		killCgroups(cgroup, ids)
	}
	unmountUnder(dataRoot, runDir)
	steps, _ := os.ReadDir(filepath.Join(runDir, "build"))
	for _, e := range steps {
		os.RemoveAll(filepath.Join(runDir, "build", e.Name()))
	}
}

// killCgroups kills what is left in the cgroups under parent of the given
// containers and build steps (processes whose state libcontainer lost) and
// removes them.
func killCgroups(parent string, ids map[string]bool) {
	for _, mnt := range cgroupMounts() {
		for id := range ids {
			cg := filepath.Join(mnt, parent, "berth", id)
			procs, err := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(procs)) {
				if pid, err := strconv.Atoi(f); err == nil {
					unix.Kill(pid, unix.SIGKILL)
				}
			}
			for i := 0; i < 50 && unix.Rmdir(cg) == unix.EBUSY; i++ {
				unix.Nanosleep(&unix.Timespec{Nsec: 20e6}, nil) // the killed processes leave
			}
		}
	}
}

// cgroupMounts are the cgroup file systems mounted on this host (v1's
// controllers, or v2's one).
func cgroupMounts() []string {
	var out []string
	eachMount(func(point, fstype string) {
		if fstype == "cgroup" || fstype == "cgroup2" {
			out = append(out, point)
		}
	})
	return out
}

// unmountUnder unmounts everything mounted below the given directories,
// deepest first.
func unmountUnder(dirs ...string) {
	var points []string
	eachMount(func(point, _ string) {
		for _, d := range dirs {
			if d != "" && strings.HasPrefix(point, filepath.Clean(d)+"/") {
				points = append(points, point)
			}
		}
	})
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		unix.Unmount(p, unix.MNT_DETACH)
	}
}

// eachMount calls fn with each mount point of this mount namespace and
// its file system type.
func eachMount(fn func(point, fstype string)) {
	// Read whole: an overlay's line (its lower folders) can pass a
	// Scanner's 64 KiB limit, which ended the walk early and hid the
	// mounts after it.
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		// id parent major:minor root point opts [optional...] - fstype source superopts
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if len(fields) < 5 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		fn(unescapeMount(fields[4]), fields[sep+1])
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
