package build

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/overlayfs"
	"github.com/berth-dev/berth/engine/runtime"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/docker/go-units"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// runMounts is what a RUN's --mount flags put in its step, made only when
// the step runs (never for a cache hit): the mounts, the environment they
// add (a secret's env=, SSH_AUTH_SOCK), and what ends them.
type runMounts struct {
	mounts  []runtime.StepMount
	env     []string
	release func()
}

// planMounts reads a RUN's --mount flags: what of them goes into the
// step's cache key (a bound context path's files, a cache mount's id and
// place; never a cache's contents or a secret's value), and how to make
// them when the step runs.
func (bd *build) planMounts(st *stage, c *instructions.RunCommand, o *op) (func() (*runMounts, error), error) {
	mounts := instructions.GetMounts(c)
	if len(mounts) == 0 {
		return nil, nil
	}
	var makers []func(*runMounts) error
	sshCount := 0
	for _, m := range mounts {
		target := m.Target
		if target != "" && !path.IsAbs(target) {
			target = path.Join("/", st.cfg.Config.WorkingDir, target)
		}
		if target == "" && (m.Type == instructions.MountTypeCache || m.Type == instructions.MountTypeTmpfs || m.Type == instructions.MountTypeBind) {
			return nil, fmt.Errorf("RUN --mount=type=%s needs a target: %w", m.Type, engine.ErrInvalidArgument)
		}
		switch m.Type {
		case instructions.MountTypeCache:
			if m.From != "" {
				return nil, fmt.Errorf("RUN --mount=type=cache,from=%s (a cache seeded from a stage) is not supported by this builder: %w", m.From, engine.ErrNotSupported)
			}
			id := cmp.Or(m.CacheID, target)
			o.key = append(o.key, "mount cache", id, target, strconv.FormatBool(m.ReadOnly), string(m.CacheSharing), fileInfo(m))
			makers = append(makers, func(rm *runMounts) error { return bd.cacheMount(rm, m, id, target) })
		case instructions.MountTypeTmpfs:
			o.key = append(o.key, "mount tmpfs", target, strconv.FormatInt(m.SizeLimit, 10))
			makers = append(makers, func(rm *runMounts) error {
				rm.mounts = append(rm.mounts, runtime.StepMount{Target: target, Tmpfs: true, TmpfsSize: m.SizeLimit})
				return nil
			})
		case instructions.MountTypeBind:
			mk, err := bd.planBind(st, m, target, o)
			if err != nil {
				return nil, err
			}
			makers = append(makers, mk)
		case instructions.MountTypeSecret:
			id := cmp.Or(m.CacheID, path.Base(target))
			if id == "" || id == "/" || id == "." {
				return nil, fmt.Errorf("RUN --mount=type=secret needs an id: %w", engine.ErrInvalidArgument)
			}
			if target == "" && m.Env == nil {
				target = "/run/secrets/" + id
			}
			env := ""
			if m.Env != nil {
				env = *m.Env
			}
			o.key = append(o.key, "mount secret", id, target, env, fileInfo(m))
			makers = append(makers, func(rm *runMounts) error { return bd.secretMount(rm, m, id, target, env) })
		case instructions.MountTypeSSH:
			id := cmp.Or(m.CacheID, "default")
			if target == "" {
				target = fmt.Sprintf("/run/buildkit/ssh_agent.%d", sshCount)
			}
			first := sshCount == 0
			sshCount++
			o.key = append(o.key, "mount ssh", id, target)
			makers = append(makers, func(rm *runMounts) error { return bd.sshMount(rm, m, id, target, first) })
		default:
			return nil, fmt.Errorf("RUN --mount=type=%s is not supported by this builder: %w", m.Type, engine.ErrNotSupported)
		}
	}
	return func() (*runMounts, error) {
		rm := &runMounts{release: func() {}}
		for _, mk := range makers {
			if err := mk(rm); err != nil {
				rm.release()
				return nil, err
			}
		}
		return rm, nil
	}, nil
}

// fileInfo is a mount's owner and mode, for the cache key.
func fileInfo(m *instructions.Mount) string {
	show := func(p *uint64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatUint(*p, 8)
	}
	return show(m.UID) + ":" + show(m.GID) + ":" + show(m.Mode)
}

// setOwner gives p the owner and mode a mount's uid=, gid= and mode= ask
// for: root's, and mode, when they say nothing.
func setOwner(p string, m *instructions.Mount, mode os.FileMode) error {
	uid, gid := 0, 0
	if m.UID != nil {
		uid = int(*m.UID)
	}
	if m.GID != nil {
		gid = int(*m.GID)
	}
	if m.Mode != nil {
		mode = os.FileMode(*m.Mode)
	}
	if err := os.Chown(p, uid, gid); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

// then adds release to what rm ends, last made first ended.
func (rm *runMounts) then(release func()) {
	prev := rm.release
	rm.release = func() { release(); prev() }
}

// cacheLocks serialize the users of a cache mount shared as "locked" or
// "private" (Berth keeps one copy of each cache, so private waits too).
var cacheLocks sync.Map // id → *sync.Mutex

// cacheMount is RUN --mount=type=cache: a folder kept between builds
// (pip's, npm's, apt's downloads), whose contents never touch the cache
// key. The build log says how much an earlier build left there.
func (bd *build) cacheMount(rm *runMounts, m *instructions.Mount, id, target string) error {
	dir := filepath.Join(bd.b.dir, "cache-mounts", fmt.Sprintf("%x", sha256.Sum256([]byte(id))))
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err == nil {
		if err := setOwner(dir, m, 0o755); err != nil {
			return fmt.Errorf("cache mount %s: %w", target, err)
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cache mount %s: %w", target, err)
	} else if size, files, all := treeSize(dir, maxCountedFiles); files > 0 {
		atLeast := ""
		if !all {
			atLeast = "at least "
		}
		bd.emit(engine.BuildEvent{Kind: engine.BuildMessage, Output: fmt.Sprintf("cache mount %s: %s%s in %d files from earlier builds", target, atLeast, units.HumanSize(float64(size)), files)})
	}
	if m.CacheSharing == instructions.MountSharingLocked || m.CacheSharing == instructions.MountSharingPrivate {
		mu, _ := cacheLocks.LoadOrStore(dir, &sync.Mutex{})
		mu.(*sync.Mutex).Lock()
		rm.then(mu.(*sync.Mutex).Unlock)
	}
	rm.mounts = append(rm.mounts, runtime.StepMount{Source: dir, Target: target, Writable: !m.ReadOnly})
	return nil
}

// maxCountedFiles bounds the walk that reports a cache mount's contents:
// a big npm or pip cache is not walked whole before every step.
const maxCountedFiles = 20000

// treeSize is the bytes and the number of regular files under dir, up to
// limit files; all says whether that was all of them.
func treeSize(dir string, limit int) (size int64, files int, all bool) {
	all = true
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if files == limit {
				all = false
				return filepath.SkipAll
			}
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
				files++
			}
		}
		return nil
	})
	return size, files, all
}

// planBind is RUN --mount=type=bind: a path of the context, of an earlier
// stage or of an image, read-only unless rw (then the step writes on a
// copy, and its writes are dropped). What a context path holds goes into
// the key, as for COPY.
func (bd *build) planBind(st *stage, m *instructions.Mount, target string, o *op) (func(*runMounts) error, error) {
	src := cmp.Or(m.Source, ".")
	o.key = append(o.key, "mount bind", src, target, strconv.FormatBool(m.ReadOnly))
	if m.From == "" {
		return bd.bindFolder(bd.opts.ContextDir, src, target, m.ReadOnly, o)
	}
	if nc := bd.opts.NamedContexts[m.From]; nc.Dir != "" {
		return bd.bindFolder(nc.Dir, src, target, m.ReadOnly, o)
	}
	layers, k, err := bd.stageOrImageLayers(st, m.From)
	if err != nil {
		return nil, fmt.Errorf("RUN --mount=from=%s: %w", m.From, err)
	}
	o.key = append(o.key, k...)
	return func(rm *runMounts) error {
		mnt, err := os.MkdirTemp(filepath.Join(bd.b.dir, "mnt"), "bind-")
		if err != nil {
			return err
		}
		if err := overlayfs.Mount(mnt, bd.lowerDirs(layers), "", ""); err != nil {
			os.Remove(mnt)
			return err
		}
		rm.then(func() { unmount(mnt); os.Remove(mnt) })
		real, err := securejoin.SecureJoin(mnt, src)
		if err != nil {
			return err
		}
		return bindInto(rm, bd, real, target, m.ReadOnly)
	}, nil
}

// bindFolder binds a path of a folder (the context, or a named one) at
// target; what it holds goes into the key, as for COPY.
func (bd *build) bindFolder(root, src, target string, readOnly bool, o *op) (func(*runMounts) error, error) {
	real, err := securejoin.SecureJoin(root, src)
	if err != nil {
		return nil, fmt.Errorf("RUN --mount=type=bind,source=%s: %w", src, err)
	}
	rel, _ := filepath.Rel(root, real)
	if o.inputFiles == nil {
		o.inputFiles = map[string]string{}
	}
	ignore := bd.ignore
	if root != bd.opts.ContextDir {
		ignore = nil
	}
	h, err := hashTree(bd.ctx, root, rel, filepath.ToSlash(rel), ignore, nil, o.inputFiles)
	if err != nil {
		return nil, fmt.Errorf("RUN --mount=type=bind,source=%s: %w", src, err)
	}
	o.key = append(o.key, h)
	return func(rm *runMounts) error { return bindInto(rm, bd, real, target, readOnly) }, nil
}

// bindInto binds real at target, or, for a writable bind, a copy of it.
func bindInto(rm *runMounts, bd *build, real, target string, readOnly bool) error {
	if _, err := os.Stat(real); err != nil {
		return fmt.Errorf("RUN --mount=type=bind: the source is not there: %w", engine.ErrInvalidArgument)
	}
	if !readOnly {
		tmp, err := os.MkdirTemp(filepath.Join(bd.b.dir, "contexts"), "rw-bind-")
		if err != nil {
			return err
		}
		rm.then(func() { os.RemoveAll(tmp) })
		copy := filepath.Join(tmp, "src")
		if out, err := exec.CommandContext(bd.ctx, "cp", "-a", real, copy).CombinedOutput(); err != nil {
			return fmt.Errorf("RUN --mount=type=bind,rw: copy the source: %v: %s", err, out)
		}
		real = copy
	}
	rm.mounts = append(rm.mounts, runtime.StepMount{Source: real, Target: target, Writable: !readOnly})
	return nil
}

// secretMount is RUN --mount=type=secret: the client's secret as a file
// (read-only, 0400 unless mode says otherwise) and/or an environment
// variable, in the step only: never in the key, a layer or the history.
func (bd *build) secretMount(rm *runMounts, m *instructions.Mount, id, target, env string) error {
	var data []byte
	err := fmt.Errorf("no secret %q was given: %w", id, engine.ErrNotFound)
	if bd.opts.Secret != nil {
		data, err = bd.opts.Secret(bd.ctx, id)
	}
	if errors.Is(err, engine.ErrNotFound) {
		if m.Required {
			return fmt.Errorf("the build needs the secret %q: give it with docker build --secret id=%s,src=FILE: %w", id, id, engine.ErrInvalidArgument)
		}
		return nil // an optional secret left out: no file, no variable
	}
	if err != nil {
		return fmt.Errorf("secret %q: %w", id, err)
	}
	if env != "" {
		rm.env = append(rm.env, env+"="+string(data))
	}
	if target == "" {
		return nil
	}
	dir, err := os.MkdirTemp(filepath.Join(bd.b.dir, "contexts"), "secret-")
	if err != nil {
		return err
	}
	rm.then(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return err
	}
	if err := setOwner(file, m, 0o400); err != nil {
		return err
	}
	rm.mounts = append(rm.mounts, runtime.StepMount{Source: file, Target: target})
	return nil
}

// sshMount is RUN --mount=type=ssh: the client's SSH agent, forwarded,
// as a socket at target; the first one is SSH_AUTH_SOCK.
func (bd *build) sshMount(rm *runMounts, m *instructions.Mount, id, target string, first bool) error {
	err := fmt.Errorf("no SSH agent %q is forwarded: %w", id, engine.ErrNotFound)
	var socket string
	var release func()
	if bd.opts.SSH != nil {
		socket, release, err = bd.opts.SSH(bd.ctx, id)
	}
	if errors.Is(err, engine.ErrNotFound) {
		if m.Required {
			return fmt.Errorf("the build needs an SSH agent: forward yours with docker build --ssh %s: %w", id, engine.ErrInvalidArgument)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("ssh agent %q: %w", id, err)
	}
	rm.then(release)
	rm.mounts = append(rm.mounts, runtime.StepMount{Source: socket, Target: target, Writable: true})
	if first {
		rm.env = append(rm.env, "SSH_AUTH_SOCK="+target)
	}
	return nil
}
