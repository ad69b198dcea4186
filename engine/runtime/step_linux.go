package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine/overlayfs"
	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// stepMountPoints are the paths the runtime mounts over; when the image
// lacks them the mount makes them in the upper directory, and RunStep takes
// them out again so they do not end up in the layer (as BuildKit does).
var stepMountPoints = []string{"/proc", "/dev", "/sys", "/etc", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}

// RunStep runs one build step to its end and returns its exit code.
// Cancelling ctx kills the step; nothing of it keeps running.
func (rt *Runtime) RunStep(ctx context.Context, st Step) (code int, err error) {
	id := "build-" + newID()[:20]
	dir := filepath.Join(filepath.Dir(rt.stateRoot), "build", id)
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o700); err != nil {
		return -1, fmt.Errorf("build step: %w", err)
	}
	defer os.RemoveAll(dir)
	lower := make([]string, 0, len(st.Layers)+1)
	for i := len(st.Layers) - 1; i >= 0; i-- {
		p := rt.images.LayerPath(st.Layers[i])
		if _, err := os.Stat(p); err != nil {
			return -1, fmt.Errorf("build step: layer %s is missing from the store", st.Layers[i])
		}
		lower = append(lower, p)
	}
	if len(lower) == 0 {
		empty := filepath.Join(dir, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			return -1, err
		}
		lower = append(lower, empty)
	}
	if err := overlayfs.Mount(rootfs, lower, st.UpperDir, st.WorkDir); err != nil {
		return -1, err
	}
	defer unix.Unmount(rootfs, unix.MNT_DETACH)
	missing := map[string]bool{}
	for _, p := range stepMountPoints {
		if _, err := os.Lstat(filepath.Join(rootfs, p)); err != nil {
			missing[p] = true
		}
	}
	defer removeMountStubs(st.UpperDir, missing)

	u, err := resolveUser(rootfs, st.User)
	if err != nil {
		return -1, err
	}
	rec := &record{Env: st.Env, Cwd: st.Cwd}
	rec.ID = id
	rec.Path, rec.Args = st.Args[0], st.Args[1:]
	if err := rt.writeEtcFiles(dir, rec); err != nil {
		return -1, err
	}
	netnsPath := ""
	if !st.NoNetwork {
		ns, err := rt.net.take()
		if err != nil {
			return -1, fmt.Errorf("build step network: %w", err)
		}
		defer rt.net.discard(ns)
		netnsPath = rt.net.nsPath(ns.id)
		rec.IPAddress = ns.ip.String()
		if err := rt.writeHosts(dir, rec, false); err != nil {
			return -1, err
		}
	}
	spec, err := buildSpec(rec, rootfs, netnsPath, dir, u, false)
	if err != nil {
		return -1, err
	}
	for _, m := range st.Mounts {
		spec.Mounts = append(spec.Mounts, stepMountSpec(m))
	}
	config, err := rt.containerConfig(id, spec)
	if err != nil {
		return -1, fmt.Errorf("build step config: %w", err)
	}
	lc, err := libcontainer.Create(rt.stateRoot, id, config)
	if err != nil {
		return -1, fmt.Errorf("build step: %w", err)
	}
	defer lc.Destroy()

	var copiers sync.WaitGroup
	var childEnds []*os.File
	proc := &libcontainer.Process{Args: st.Args, Env: st.Env, Cwd: rec.Cwd, UID: u.UID, GID: u.GID, AdditionalGroups: u.Groups, Init: true, Rlimits: processRlimits(spec)}
	for _, out := range []struct {
		w   io.Writer
		set func(*os.File)
	}{{st.Stdout, func(f *os.File) { proc.Stdout = f }}, {st.Stderr, func(f *os.File) { proc.Stderr = f }}} {
		pr, pw, err := os.Pipe()
		if err != nil {
			return -1, err
		}
		out.set(pw)
		childEnds = append(childEnds, pw)
		copiers.Add(1)
		go func(w io.Writer) {
			defer copiers.Done()
			defer pr.Close()
			io.Copy(orDiscard(w), pr)
		}(out.w)
	}
	release, err := rt.launch(ctx)
	if err == nil {
		err = runInit(lc, proc, filepath.Join(rt.stateRoot, id))
		release()
	}
	for _, f := range childEnds {
		f.Close()
	}
	if err != nil {
		copiers.Wait()
		return -1, startError(err)
	}
	waited := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			proc.Signal(unix.SIGKILL)
		case <-waited:
		}
	}()
	ps, _ := waitProcess(proc)
	close(waited)
	done := make(chan struct{})
	go func() { copiers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		// A background child still holds the output; Destroy kills it.
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	return exitCode(ps), nil
}

// removeMountStubs deletes the empty files and directories that mounting
// made in upper, deepest first, and then the directories that only held
// them: copied up for the stubs, they are no change of the step's.
func removeMountStubs(upper string, missing map[string]bool) {
	var paths []string
	for p := range missing {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	parents := map[string]bool{}
	for _, p := range paths {
		full := filepath.Join(upper, p)
		fi, err := os.Lstat(full)
		if err != nil {
			continue
		}
		if fi.IsDir() || fi.Size() == 0 {
			if os.Remove(full) == nil { // fails, as it should, on a directory the step filled
				for d := filepath.Dir(p); d != "/"; d = filepath.Dir(d) {
					parents[d] = true
				}
			}
		}
	}
	var dirs []string
	for d := range parents {
		if !missing[d] {
			dirs = append(dirs, d)
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		full := filepath.Join(upper, d)
		if v, _ := unix.Lgetxattr(full, overlayfs.OpaqueXattr(), make([]byte, 1)); v > 0 {
			continue
		}
		os.Remove(full) // only when empty
	}
}

// stepMountSpec is a build step's mount as the OCI spec has it.
func stepMountSpec(m StepMount) specs.Mount {
	if m.Tmpfs {
		opts := []string{"nosuid", "nodev", "mode=1777"}
		if m.TmpfsSize > 0 {
			opts = append(opts, "size="+strconv.FormatInt(m.TmpfsSize, 10))
		}
		return specs.Mount{Destination: m.Target, Type: "tmpfs", Source: "tmpfs", Options: opts}
	}
	access := "ro"
	if m.Writable {
		access = "rw"
	}
	return specs.Mount{Destination: m.Target, Type: "bind", Source: m.Source, Options: []string{"rbind", "rprivate", access}}
}
