package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
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
}

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

	mu        sync.Mutex
	lastSizes map[string]int64 // the last good build's layer bytes, by step
	running   bool
	again     bool
	paths     []string
	container string
	idle      chan struct{}
}

// Trigger starts a rebuild, or queues one if a build is running.
func (r *Rebuilder) Trigger(ctx context.Context, paths []string) {
	r.mu.Lock()
	r.paths = append(r.paths, paths...)
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
		paths := r.paths
		r.paths, r.again = nil, false
		r.mu.Unlock()

		res := r.once(ctx, paths)
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

func (r *Rebuilder) once(ctx context.Context, paths []string) RebuildResult {
	res := RebuildResult{Started: time.Now(), Paths: paths}
	sizes := map[string]int64{}
	var order []string
	ev := func(e engine.BuildEvent) {
		if e.Kind == engine.BuildStepDone || e.Kind == engine.BuildStepCached {
			key := fmt.Sprintf("%s, line %d", e.Instruction, e.Line)
			if _, seen := sizes[key]; !seen {
				order = append(order, key)
			}
			sizes[key] = e.LayerSize
		}
		if r.OnEvent != nil {
			r.OnEvent(e)
		}
	}
	built, err := r.Builder.Build(ctx, r.Build, ev)
	if err == nil {
		r.mu.Lock()
		res.Grew = grewBy(r.lastSizes, sizes, order, cmp.Or(r.SizeGuard, DefaultSizeGuard))
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
	if r.Run != nil && r.Containers != nil {
		id, err := r.replace(ctx, built.ImageID)
		res.Container, res.Err = id, err
	}
	res.Duration = time.Since(res.Started)
	return res
}

// replace swaps the running container for one from image: the old one
// goes first (its ports and name are needed), killed rather than stopped,
// as a development loop wants the new code answering at once.
func (r *Rebuilder) replace(ctx context.Context, image string) (string, error) {
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
	id, err := r.Containers.Create(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("run the new image: %w", err)
	}
	if err := r.Containers.Start(ctx, id); err != nil {
		r.Containers.Remove(ctx, id, true, false)
		return "", fmt.Errorf("run the new image: %w", err)
	}
	r.mu.Lock()
	r.container = id
	r.mu.Unlock()
	return id, nil
}

// grewBy names the step that grew the image most when, all steps
// together, it grew by more than guard since the last build: "+40MB: RUN
// pip install …, line 7". A step new to this build counts whole.
func grewBy(last, now map[string]int64, order []string, guard int64) string {
	if last == nil {
		return ""
	}
	var total, before int64
	for _, n := range now {
		total += n
	}
	for _, n := range last {
		before += n
	}
	if total-before <= guard {
		return ""
	}
	most, mostBy := "", int64(0)
	for _, key := range order {
		if by := now[key] - last[key]; by > mostBy {
			most, mostBy = key, by
		}
	}
	return fmt.Sprintf("+%s: %s (the image grew by %s since the last build)", HumanSize(mostBy), most, HumanSize(total-before))
}
