package app

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerfile"
)

// RebuildResult is the outcome of one rebuild.
type RebuildResult struct {
	Started   time.Time
	Duration  time.Duration
	ImageID   string
	Container string // the container now running the new image, if any
	Err       error
	Paths     []string // what changed
	// Grew says which line made the image grow past the size guard
	// ("+40MB: RUN pip install …, line 7"); empty when it did not.
	Grew string
	// Synced are the container paths the saved files were copied to
	// instead of a rebuild (Rebuilder.Sync); ImageID is then empty, and a
	// rebuild follows in the background with Background set.
	Synced []string
	// Background: this build only brought the image up to date with files
	// already synced; the container was left running.
	Background bool
	// NotSynced says why a save that could have been synced was rebuilt.
	NotSynced string
	// Restarted: the container's process was restarted after the sync.
	Restarted bool
}

// SyncOptions are Watch's hot sync: saved files that the last COPY of
// the final stage takes (and nothing after it reads) are copied into the
// running container instead of replacing it.
type SyncOptions struct {
	Files FileCopier
	// Restart restarts the container's process after a copy, for servers
	// that read their code once at start.
	Restart bool
	// Images, when set, lets a restart be the process's alone: the kept
	// container runs its command under a supervisor that restarts it on
	// SIGHUP (an image without /bin/sh has its container restarted).
	Images imageInspector
}

// backgroundDelay is how long the image's rebuild waits after a sync.
const backgroundDelay = 250 * time.Millisecond

// DefaultSizeGuard is how much a rebuild may grow the image before Watch
// says which line grew it.
const DefaultSizeGuard = 10 << 20

// Rebuilder rebuilds an image when its context changes and, when asked to
// keep it running, replaces the container from the previous image with
// one from the new image, with the same settings. A change during a build
// queues exactly one more build; a failed build leaves the old container
// running.
type Rebuilder struct {
	Builder    engine.Builder
	Containers ContainerEngine
	Build      engine.BuildOptions
	// Run, when set, keeps a container of the image running (its Image is
	// set to the built image).
	Run *engine.ContainerSpec

	OnEvent  func(engine.BuildEvent) // build progress
	OnResult func(RebuildResult)     // after every rebuild
	// SizeGuard is the growth in bytes past which a rebuild names the line
	// that grew the image (0: DefaultSizeGuard).
	SizeGuard int64
	// Sync, with Run, copies what it can into the container instead of
	// rebuilding first; the image is rebuilt after, in the background.
	Sync *SyncOptions

	mu        sync.Mutex
	lastSizes []stepSize // the last good build's layer bytes, by step
	running   bool
	again     bool
	replace   bool // the next build replaces the container (a change was not synced)
	replacing bool // a build that replaces the container is under way
	// supervised: the kept container's command runs under superviseScript;
	// noShell: the image cannot (no /bin/sh), so do not try again.
	supervised, noShell bool
	paths               []string
	notSynced           string
	container           string
	idle                chan struct{}
}

// Trigger starts a rebuild, or queues one if a build is running. With
// Sync, files it can sync are copied into the container first (the result
// is reported at once) and the rebuild that follows leaves it running.
func (r *Rebuilder) Trigger(ctx context.Context, paths []string) {
	synced := false
	if r.Sync != nil && r.Run != nil && len(paths) > 0 {
		res, ok := r.sync(ctx, paths)
		synced = ok
		if ok && r.OnResult != nil {
			r.OnResult(res)
		}
		if !ok && res.NotSynced != "" {
			r.mu.Lock()
			r.notSynced = res.NotSynced
			r.mu.Unlock()
		}
	}
	r.mu.Lock()
	r.paths = append(r.paths, paths...)
	if !synced {
		r.replace = true
	}
	if r.running {
		r.again = true
		r.mu.Unlock()
		return
	}
	r.running = true
	r.idle = make(chan struct{})
	r.mu.Unlock()
	go r.loop(ctx)
}

// Wait blocks until no build is running or queued.
func (r *Rebuilder) Wait() {
	r.mu.Lock()
	idle := r.idle
	r.mu.Unlock()
	if idle != nil {
		<-idle
	}
}

// Container is the ID of the container the rebuilder keeps running.
func (r *Rebuilder) Container() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.container
}

func (r *Rebuilder) loop(ctx context.Context) {
	for {
		r.mu.Lock()
		paths, replace, notSynced := r.paths, r.replace || r.container == "", r.notSynced
		r.paths, r.again, r.replace, r.notSynced = nil, false, false, ""
		r.mu.Unlock()

		r.mu.Lock()
		r.replacing = replace
		r.mu.Unlock()
		res := r.once(ctx, paths, replace)
		res.NotSynced = notSynced
		r.mu.Lock()
		r.replacing = false
		r.mu.Unlock()
		if r.OnResult != nil {
			r.OnResult(res)
		}
		r.mu.Lock()
		if !r.again || ctx.Err() != nil {
			r.running = false
			close(r.idle)
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}

func (r *Rebuilder) once(ctx context.Context, paths []string, replace bool) RebuildResult {
	if !replace && len(paths) > 0 {
		// After a sync, the restarted process gets the CPU to itself first:
		// what the person waits for is the served change, not the image.
		select {
		case <-time.After(backgroundDelay):
		case <-ctx.Done():
		}
	}
	res := RebuildResult{Started: time.Now(), Paths: paths, Background: !replace}
	var sizes []stepSize
	ev := func(e engine.BuildEvent) {
		if e.Kind == engine.BuildStepDone || e.Kind == engine.BuildStepCached {
			sizes = append(sizes, stepSize{e.Instruction, e.Line, e.LayerSize})
		}
		if r.OnEvent != nil {
			r.OnEvent(e)
		}
	}
	built, err := r.Builder.Build(ctx, r.Build, ev)
	if err == nil {
		r.mu.Lock()
		res.Grew = grewBy(r.lastSizes, sizes, cmp.Or(r.SizeGuard, DefaultSizeGuard))
		r.lastSizes = sizes
		r.mu.Unlock()
	}
	if err != nil {
		res.Err, res.Duration = err, time.Since(res.Started)
		r.mu.Lock()
		res.Container = r.container // the old one keeps running
		r.mu.Unlock()
		return res
	}
	res.ImageID = built.ImageID
	if !replace {
		r.mu.Lock()
		res.Container = r.container
		r.mu.Unlock()
	}
	if replace && r.Run != nil && r.Containers != nil {
		id, err := r.replaceContainer(ctx, built.ImageID)
		res.Container, res.Err = id, err
	}
	res.Duration = time.Since(res.Started)
	return res
}

// replace swaps the running container for one from image: the old one
// goes first (its ports and name are needed), killed rather than stopped,
// as a development loop wants the new code answering at once.
func (r *Rebuilder) replaceContainer(ctx context.Context, image string) (string, error) {
	spec := *r.Run
	spec.Image = image
	r.mu.Lock()
	old := r.container
	r.mu.Unlock()
	if old == "" && spec.Name != "" {
		old = spec.Name // one left by an earlier session of the watcher
	}
	if old != "" {
		if err := r.Containers.Remove(ctx, old, true, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return "", fmt.Errorf("replace the container: %w", err)
		}
	}
	r.mu.Lock()
	trySupervisor := r.Sync != nil && r.Sync.Restart && r.Sync.Images != nil && !r.noShell
	r.mu.Unlock()
	if trySupervisor {
		if detail, err := r.Sync.Images.Inspect(ctx, image); err == nil {
			if sup, ok := supervised(spec, detail.Config); ok {
				if id, err := r.start(ctx, sup); err == nil {
					r.mu.Lock()
					r.container, r.supervised = id, true
					r.mu.Unlock()
					return id, nil
				}
				r.mu.Lock()
				r.noShell = true // most likely no /bin/sh: the plain command is tried next
				r.mu.Unlock()
			}
		}
	}
	id, err := r.start(ctx, spec)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.container, r.supervised = id, false
	r.mu.Unlock()
	return id, nil
}

// start creates and starts a container of spec, removing it again when it
// does not start.
func (r *Rebuilder) start(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	id, err := r.Containers.Create(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("run the new image: %w", err)
	}
	if err := r.Containers.Start(ctx, id); err != nil {
		r.Containers.Remove(ctx, id, true, false)
		return "", fmt.Errorf("run the new image: %w", err)
	}
	return id, nil
}

// stepSize is what one step of a build added.
type stepSize struct {
	instruction string
	line        int
	size        int64
}

// grewBy names the step that grew the image most when, all steps
// together, it grew by more than guard since the last build: "+40MB: RUN
// pip install …, line 7". A step is compared with the last build's step of
// the same instruction, else (an edited line) the one on the same line; a
// step new to this build counts whole.
func grewBy(last, now []stepSize, guard int64) string {
	if last == nil {
		return ""
	}
	var total, before int64
	byText, byLine := map[string]int64{}, map[int]int64{}
	for _, s := range last {
		before += s.size
		byText[s.instruction], byLine[s.line] = s.size, s.size
	}
	for _, s := range now {
		total += s.size
	}
	if total-before <= guard {
		return ""
	}
	var most stepSize
	var mostBy int64
	for _, s := range now {
		prev, ok := byText[s.instruction]
		if !ok {
			prev = byLine[s.line]
		}
		if by := s.size - prev; by > mostBy {
			most, mostBy = s, by
		}
	}
	return fmt.Sprintf("+%s: %s, line %d (the image grew by %s since the last build)", HumanSize(mostBy), most.instruction, most.line, HumanSize(total-before))
}

// sync copies the saved paths into the running container when the
// Dockerfile's plan allows every one of them; ok=false (with NotSynced
// saying why, when there is a reason worth telling) means rebuild.
func (r *Rebuilder) sync(ctx context.Context, paths []string) (res RebuildResult, ok bool) {
	res = RebuildResult{Started: time.Now(), Paths: paths}
	r.mu.Lock()
	id, replacing, supervised := r.container, r.replacing, r.supervised
	r.mu.Unlock()
	if id == "" || replacing {
		return res, false // nothing running yet, or about to be replaced
	}
	name := cmp.Or(r.Build.Dockerfile, "Dockerfile")
	src, err := os.ReadFile(filepath.Join(r.Build.ContextDir, name))
	if err != nil {
		return res, false
	}
	plan, err := dockerfile.PlanSync(src, name, r.Build.Target)
	if err != nil {
		res.NotSynced = "rebuilt, not synced: " + err.Error()
		return res, false
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, rel := range paths {
		dest, err := plan.Target(r.Build.ContextDir, rel)
		if err == nil {
			res.Synced = append(res.Synced, dest)
			err = addToTar(tw, filepath.Join(r.Build.ContextDir, rel), strings.TrimPrefix(dest, "/"))
		}
		if err != nil {
			res.NotSynced = "rebuilt, not synced: " + err.Error()
			return res, false
		}
	}
	if err := tw.Close(); err != nil {
		return res, false
	}
	if err := r.Sync.Files.ExtractArchive(ctx, id, "/", &buf, engine.ExtractOptions{}); err != nil {
		res.NotSynced = "rebuilt, not synced: " + Explain(err)
		return res, false
	}
	if r.Sync.Restart {
		now := time.Duration(0) // a development server has nothing to save
		restart := func() error { return r.Containers.Restart(ctx, id, &now) }
		if supervised {
			restart = func() error { return r.Containers.Kill(ctx, id, "HUP") }
		}
		if err := restart(); err != nil {
			res.Err = fmt.Errorf("restart the container after copying %s: %w", strings.Join(paths, ", "), err)
		}
		res.Restarted = res.Err == nil
	}
	res.Container, res.Duration = id, time.Since(res.Started)
	return res, true
}

// addToTar adds the file at path (a regular file or a symlink) as name,
// owned by root as COPY makes it.
func addToTar(tw *tar.Writer, path, name string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%s was removed", filepath.Base(path))
	}
	link := ""
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a file", filepath.Base(path))
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = name, 0, 0, "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if link != "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(tw, f, hdr.Size)
	return err
}
