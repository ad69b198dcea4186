package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
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
	if err := MountOverlay(rootfs, lower, st.UpperDir, st.WorkDir); err != nil {
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
	if err := writeEtcFiles(dir, rec); err != nil {
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
		if err := writeHosts(dir, rec); err != nil {
			return -1, err
		}
	}
	spec, err := buildSpec(rec, rootfs, netnsPath, dir, u, false)
	if err != nil {
		return -1, err
	}
	for _, m := range st.Mounts {
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: m.Target, Type: "bind", Source: m.Source, Options: []string{"rbind", "rprivate", "ro"}})
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: spec, NoNewKeyring: true})
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

// MountOverlay mounts lower (top first) and upper at target; with no
// upper the mount is read-only. Redirects and metacopy are turned off
// where the kernel knows them, so the upper directory holds whole files
// and plain whiteouts, which is what a layer is.
func MountOverlay(target string, lower []string, upper, work string) error {
	// An image may hold one layer twice (two identical COPY steps make the
	// same layer): overlayfs refuses a lower directory given twice. The
	// top occurrence alone gives the same files (its copy below it is
	// covered by itself).
	seen := map[string]bool{}
	lower = slices.DeleteFunc(slices.Clone(lower), func(l string) bool {
		dup := seen[l]
		seen[l] = true
		return dup
	})
	// Mount options fit in one page; long store paths allow ~40 layers.
	// Past that, go through short symlinks (overlayfs resolves them when
	// mounting; they can go right after), as Docker's overlay2 does.
	if total := len(strings.Join(lower, ":")) + len(upper) + len(work); total > 3000 {
		dir, err := os.MkdirTemp("", "ovl")
		if err != nil {
			return fmt.Errorf("overlay links: %w", err)
		}
		defer os.RemoveAll(dir)
		short := make([]string, len(lower))
		for i, l := range lower {
			short[i] = filepath.Join(dir, strconv.Itoa(i))
			if err := os.Symlink(l, short[i]); err != nil {
				return fmt.Errorf("overlay links: %w", err)
			}
		}
		lower = short
		if upper != "" {
			if err := os.Symlink(upper, filepath.Join(dir, "u")); err != nil {
				return err
			}
			if err := os.Symlink(work, filepath.Join(dir, "w")); err != nil {
				return err
			}
			// The root's mode is set on the real directory below.
			if err := unix.Chmod(upper, 0o755); err != nil {
				return fmt.Errorf("overlay upper directory: %w", err)
			}
			upper, work = filepath.Join(dir, "u"), filepath.Join(dir, "w")
		}
	}
	var err error
	if upper == "" {
		if len(lower) == 1 {
			// overlayfs wants two lower directories when there is no upper.
			if err := unix.Mount(lower[0], target, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("mount %s: %w", lower[0], err)
			}
			return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
		}
		err = unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lower, ":"))
	} else {
		// The root directory's owner and mode come from the upper
		// directory, made private by whoever created it: "/" is root's
		// and 0755, or a non-root user could not even look into it.
		if err := unix.Chmod(upper, 0o755); err != nil {
			return fmt.Errorf("overlay upper directory: %w", err)
		}
		opts := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work
		err = unix.Mount("overlay", target, "overlay", 0, opts+",redirect_dir=off,metacopy=off")
		if errors.Is(err, unix.EINVAL) {
			err = unix.Mount("overlay", target, "overlay", 0, opts)
		}
	}
	if err != nil {
		return fmt.Errorf("mount the build step's filesystem (overlayfs): %w", err)
	}
	return nil
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
		if v, _ := unix.Lgetxattr(full, "trusted.overlay.opaque", make([]byte, 1)); v > 0 {
			continue
		}
		os.Remove(full) // only when empty
	}
}
