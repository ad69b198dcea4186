package app

import (
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
}

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

	mu        sync.Mutex
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
	ev := r.OnEvent
	if ev == nil {
		ev = func(engine.BuildEvent) {}
	}
	built, err := r.Builder.Build(ctx, r.Build, ev)
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
