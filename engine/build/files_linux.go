package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/overlayfs"
	"github.com/berth-dev/berth/engine/runtime"
	"github.com/berth-dev/berth/engine/store"
	"golang.org/x/sys/unix"
)

// lowerDirs are a stage's layer directories, top first, for overlayfs.
func (bd *build) lowerDirs(layers []store.Layer) []string { return bd.b.lowerDirs(layers) }

func (b *Builder) lowerDirs(layers []store.Layer) []string {
	out := make([]string, 0, len(layers)+1)
	for i := len(layers) - 1; i >= 0; i-- {
		out = append(out, b.store.LayerPath(layers[i].DiffID))
	}
	if len(out) == 0 {
		out = append(out, filepath.Join(b.dir, "empty"))
		os.MkdirAll(out[0], 0o755)
	}
	return out
}

// WithImageRoot mounts an image's filesystem read-only for fn: what
// docker build --output type=local or type=tar exports.
func (b *Builder) WithImageRoot(ctx context.Context, image string, fn func(root string) error) error {
	_, layers, err := b.store.ConfigFile(image)
	if err != nil {
		return err
	}
	var digests []string
	for _, l := range layers {
		digests = append(digests, l.DiffID, l.Digest)
	}
	defer b.store.Lease(digests...)()
	mnt, err := os.MkdirTemp(filepath.Join(b.dir, "mnt"), "export-")
	if err != nil {
		return err
	}
	defer os.Remove(mnt)
	if err := overlayfs.Mount(mnt, b.lowerDirs(layers), "", ""); err != nil {
		return err
	}
	defer unmount(mnt)
	return fn(mnt)
}

// withRootfs mounts the stage's filesystem with a fresh upper directory,
// lets fn change it, and makes the upper directory the step's layer (nil
// when fn changed nothing).
func (bd *build) withRootfs(st *stage, fn func(root string) error) (*store.Layer, error) {
	upper, err := bd.b.store.TempDir("layer-")
	if err != nil {
		return nil, err
	}
	work, err := bd.b.store.TempDir("work-")
	if err != nil {
		os.RemoveAll(upper)
		return nil, err
	}
	defer os.RemoveAll(work)
	mnt, err := os.MkdirTemp(filepath.Join(bd.b.dir, "mnt"), "rw-")
	if err != nil {
		os.RemoveAll(upper)
		return nil, err
	}
	defer os.Remove(mnt)
	if err := overlayfs.Mount(mnt, bd.lowerDirs(st.layers), upper, work); err != nil {
		os.RemoveAll(upper)
		return nil, err
	}
	err = fn(mnt)
	if uerr := unmount(mnt); err == nil {
		err = uerr
	}
	if err != nil {
		os.RemoveAll(upper)
		return nil, err
	}
	return bd.addLayer(upper)
}

func (bd *build) addLayer(upper string) (*store.Layer, error) {
	l, ok, release, err := bd.b.store.AddLayer(bd.ctx, upper)
	if err != nil || !ok {
		return nil, err
	}
	bd.releases = append(bd.releases, release)
	return &l, nil
}

// withReadOnly mounts layers read-only for fn: a COPY --from source.
func (bd *build) withReadOnly(layers []store.Layer, fn func(root string) error) error {
	mnt, err := os.MkdirTemp(filepath.Join(bd.b.dir, "mnt"), "ro-")
	if err != nil {
		return err
	}
	defer os.Remove(mnt)
	if err := overlayfs.Mount(mnt, bd.lowerDirs(layers), "", ""); err != nil {
		return err
	}
	defer unmount(mnt)
	return fn(mnt)
}

func unmount(p string) error {
	err := unix.Unmount(p, unix.MNT_DETACH)
	if err == unix.EINVAL || err == unix.ENOENT {
		return nil // not mounted
	}
	return err
}

// runStep runs a RUN step in a container and makes its changes a layer.
func (bd *build) runStep(st *stage, step *runtime.Step, ev engine.BuildEvent) (*store.Layer, error) {
	upper, err := bd.b.store.TempDir("layer-")
	if err != nil {
		return nil, err
	}
	work, err := bd.b.store.TempDir("work-")
	if err != nil {
		os.RemoveAll(upper)
		return nil, err
	}
	defer os.RemoveAll(work)
	s := *step
	for _, l := range st.layers {
		s.Layers = append(s.Layers, l.DiffID)
	}
	s.UpperDir, s.WorkDir = upper, work
	out := &outputWriter{emit: bd.emit, ev: ev}
	s.Stdout, s.Stderr = out, out
	code, err := bd.b.run.RunStep(bd.ctx, s)
	out.flush()
	if err == nil && code != 0 {
		err = &engine.BuildStepError{Step: ev.Step, Line: ev.Line, Instruction: ev.Instruction, Command: strings.Join(step.Args, " "), ExitCode: code,
			Err: fmt.Errorf("%s:%d: %s: exit code %d", bd.df.name, ev.Line, ev.Instruction, code)}
	}
	if err != nil {
		os.RemoveAll(upper)
		return nil, err
	}
	pruneMountPoints(upper, step.Mounts)
	return bd.addLayer(upper)
}

// pruneMountPoints removes from a step's upper directory what was made
// only to mount on: an empty file or folder at a mount's target, and the
// folders above it left empty. The image keeps no trace of a secret, a
// cache or a bind (a target that was in the image already is not in the
// upper directory at all).
func pruneMountPoints(upper string, mounts []runtime.StepMount) {
	for _, m := range mounts {
		for p := filepath.Join(upper, m.Target); len(p) > len(upper); p = filepath.Dir(p) {
			if fi, err := os.Lstat(p); err != nil || (fi.Mode().IsRegular() && fi.Size() > 0) || os.Remove(p) != nil {
				break // not there, a file with content, or a folder with something in it
			}
		}
	}
}

// outputWriter sends a RUN's output as events, a line at a time where
// the output has lines.
type outputWriter struct {
	mu   sync.Mutex // stdout and stderr write at once
	emit func(engine.BuildEvent)
	ev   engine.BuildEvent
	buf  []byte
}

func (w *outputWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if i := strings.LastIndexByte(string(w.buf), '\n'); i >= 0 {
		w.send(w.buf[:i+1])
		w.buf = append([]byte(nil), w.buf[i+1:]...)
	} else if len(w.buf) > 4096 {
		w.flushLocked()
	}
	return len(p), nil
}

func (w *outputWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

func (w *outputWriter) flushLocked() {
	if len(w.buf) > 0 {
		w.send(w.buf)
		w.buf = nil
	}
}

func (w *outputWriter) send(b []byte) {
	ev := w.ev
	ev.Kind, ev.Output = engine.BuildStepOutput, string(b)
	w.emit(ev)
}
