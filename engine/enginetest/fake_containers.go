package enginetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
)

// The fake's containers: records that change state when told to. A
// started container "writes" Fake.Output and uses a little CPU and memory.

func (f *Fake) container(name string) (*fakeContainer, error) {
	if c, ok := f.containers[name]; ok {
		return c, nil
	}
	for id, c := range f.containers {
		if c.c.Name == name || len(name) >= 4 && strings.HasPrefix(id, name) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no such container: %s: %w", name, engine.ErrNotFound)
}

// Create implements engine.Containers.
func (f *Fake) Create(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	f.mu.Lock()
	imageID, _, err := f.resolve(spec.Image)
	if err != nil {
		f.mu.Unlock()
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	id := hex.EncodeToString(b)
	if spec.Name == "" {
		f.seq++
		spec.Name = fmt.Sprintf("fake_%d", f.seq)
	}
	for _, c := range f.containers {
		if c.c.Name == spec.Name {
			f.mu.Unlock()
			return "", fmt.Errorf("the name %q is in use: %w", spec.Name, engine.ErrConflict)
		}
	}
	ports := slices.Clone(spec.Ports)
	for i := range ports {
		if ports[i].HostPort == 0 {
			ports[i].HostPort = 32768 + len(f.order)
		}
		if ports[i].Proto == "" {
			ports[i].Proto = "tcp"
		}
	}
	f.containers[id] = &fakeContainer{c: engine.Container{ID: id, Name: spec.Name, Image: spec.Image, ImageID: imageID, Created: time.Now(), Spec: spec, Ports: ports,
		State: engine.ContainerState{Status: engine.StatusCreated}}}
	f.order = append(f.order, id)
	f.mu.Unlock()
	f.publish("container", "create", id, map[string]string{"name": spec.Name})
	return id, nil
}

func (f *Fake) setState(name, action string, change func(*engine.ContainerState)) error {
	f.mu.Lock()
	c, err := f.container(name)
	if err == nil {
		change(&c.c.State)
	}
	f.mu.Unlock()
	if err == nil {
		f.publish("container", action, c.c.ID, map[string]string{"name": c.c.Name})
	}
	return err
}

// Start implements engine.Containers.
func (f *Fake) Start(ctx context.Context, name string) error {
	return f.setState(name, "start", func(s *engine.ContainerState) {
		if s.Status != engine.StatusRunning {
			*s = engine.ContainerState{Status: engine.StatusRunning, Pid: 4242, StartedAt: time.Now()}
		}
	})
}

// Stop implements engine.Containers: the process exits at once (137, as
// a process that ignored SIGTERM).
func (f *Fake) Stop(ctx context.Context, name string, timeout *time.Duration) error {
	return f.setState(name, "die", func(s *engine.ContainerState) {
		if s.Status == engine.StatusRunning {
			s.Status, s.ExitCode, s.Pid, s.FinishedAt = engine.StatusExited, 137, 0, time.Now()
		}
	})
}

// Kill implements engine.Containers.
func (f *Fake) Kill(ctx context.Context, name, signal string) error { return f.Stop(ctx, name, nil) }

// Wait implements engine.Containers: the condition is checked once.
func (f *Fake) Wait(ctx context.Context, name, condition string) (func() (int, error), error) {
	f.mu.Lock()
	c, err := f.container(name)
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return func() (int, error) { return c.c.State.ExitCode, nil }, nil
}

// RemoveContainer is engine.Containers' Remove.
func (f *Fake) RemoveContainer(ctx context.Context, name string, force, volumes bool) error {
	f.mu.Lock()
	c, err := f.container(name)
	if err == nil && c.c.State.Status == engine.StatusRunning && !force {
		err = fmt.Errorf("container %s is running: stop it first: %w", c.c.Name, engine.ErrConflict)
	}
	if err == nil {
		delete(f.containers, c.c.ID)
		f.order = slices.DeleteFunc(f.order, func(id string) bool { return id == c.c.ID })
	}
	f.mu.Unlock()
	if err == nil {
		f.publish("container", "destroy", c.c.ID, map[string]string{"name": c.c.Name})
	}
	return err
}

// ListContainers is engine.ContainerViews' List (the Fake's own List is
// the images').
func (f *Fake) ListContainers(ctx context.Context, all bool) ([]engine.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.Container
	for _, id := range slices.Backward(f.order) {
		c := f.containers[id].c
		if all || c.State.Status == engine.StatusRunning {
			out = append(out, c)
		}
	}
	return out, nil
}

// InspectContainer is engine.ContainerViews' Inspect.
func (f *Fake) InspectContainer(ctx context.Context, name string) (engine.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.container(name)
	if err != nil {
		return engine.Container{}, err
	}
	return c.c, nil
}

// Logs implements engine.ContainerViews: a started container wrote
// Fake.Output; following ends with ctx.
func (f *Fake) Logs(ctx context.Context, name string, opts engine.LogOptions, fn func(engine.LogEntry) error) error {
	f.mu.Lock()
	c, err := f.container(name)
	var lines []string
	if err == nil && !c.c.State.StartedAt.IsZero() {
		lines = slices.Clone(f.Output)
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := fn(engine.LogEntry{Stream: "stdout", Time: time.Now(), Data: []byte(l + "\n")}); err != nil {
			return err
		}
	}
	if opts.Follow {
		<-ctx.Done()
	}
	return nil
}

// Stats implements engine.ContainerViews: a running container has used
// 10 ms of CPU per second it ran, and 4 MiB.
func (f *Fake) Stats(ctx context.Context, name string) (engine.ContainerStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.container(name)
	if err != nil {
		return engine.ContainerStats{}, err
	}
	if c.c.State.Status != engine.StatusRunning {
		return engine.ContainerStats{}, nil
	}
	up := time.Since(c.c.State.StartedAt)
	return engine.ContainerStats{Read: time.Now(), CPUTotal: uint64(up / 100), SystemCPU: uint64(time.Now().UnixNano()), OnlineCPUs: 1, MemoryUsage: 4 << 20, MemoryLimit: 1 << 30, PIDs: 1}, nil
}

// Restart implements engine.ContainerControls.
func (f *Fake) Restart(ctx context.Context, name string, timeout *time.Duration) error {
	if err := f.Stop(ctx, name, timeout); err != nil {
		return err
	}
	return f.Start(ctx, name)
}

// Pause implements engine.ContainerControls.
func (f *Fake) Pause(ctx context.Context, name string) error {
	return f.setState(name, "pause", func(s *engine.ContainerState) { s.Status = engine.StatusPaused })
}

// Unpause implements engine.ContainerControls.
func (f *Fake) Unpause(ctx context.Context, name string) error {
	return f.setState(name, "unpause", func(s *engine.ContainerState) { s.Status = engine.StatusRunning })
}

// Rename implements engine.ContainerControls.
func (f *Fake) Rename(ctx context.Context, name, newName string) error {
	f.mu.Lock()
	c, err := f.container(name)
	if err == nil {
		c.c.Name = newName
	}
	f.mu.Unlock()
	return err
}

// PruneContainers is engine.ContainerControls' Prune.
func (f *Fake) PruneContainers(ctx context.Context) ([]string, error) { return nil, nil }

// Containers is the fake's container roles under the engine's names.
func (f *Fake) Containers() FakeContainers { return FakeContainers{f} }

// FakeContainers is the Fake as engine.Containers, ContainerViews and
// ContainerControls.
type FakeContainers struct{ *Fake }

func (c FakeContainers) List(ctx context.Context, all bool) ([]engine.Container, error) {
	return c.ListContainers(ctx, all)
}
func (c FakeContainers) Inspect(ctx context.Context, name string) (engine.Container, error) {
	return c.InspectContainer(ctx, name)
}
func (c FakeContainers) Remove(ctx context.Context, name string, force, volumes bool) error {
	return c.RemoveContainer(ctx, name, force, volumes)
}
func (c FakeContainers) Prune(ctx context.Context) ([]string, error) { return c.PruneContainers(ctx) }

// Interface guards.
var (
	_ engine.Images            = (*Fake)(nil)
	_ engine.Registry          = (*Fake)(nil)
	_ engine.Archives          = (*Fake)(nil)
	_ engine.Events            = (*Fake)(nil)
	_ engine.Builder           = (*Fake)(nil)
	_ engine.Containers        = FakeContainers{}
	_ engine.ContainerViews    = FakeContainers{}
	_ engine.ContainerControls = FakeContainers{}
)
