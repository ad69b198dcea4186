package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/human"
)

// ContainerEngine is what the containers panel needs from the engine.
type ContainerEngine interface {
	engine.Containers
	engine.ContainerViews
	engine.ContainerControls
}

// Containers holds the containers panel's state.
type Containers struct {
	eng ContainerEngine

	mu       sync.Mutex
	list     []engine.Container
	showAll  bool
	err      error
	watchers observers
}

// Engine is the engine the state drives.
func (s *Containers) Engine() ContainerEngine { return s.eng }

// NewContainers makes the containers panel's state.
func NewContainers(eng ContainerEngine) *Containers {
	return &Containers{eng: eng, showAll: true}
}

// OnChange registers fn to run after the list changes.
func (s *Containers) OnChange(fn func()) { s.watchers.add(fn) }

func (s *Containers) changed() { s.watchers.notify() }

// Refresh reloads the list.
func (s *Containers) Refresh(ctx context.Context) error {
	list, err := s.eng.List(ctx, true)
	s.mu.Lock()
	if err == nil {
		s.list = list
	}
	s.err = err
	s.mu.Unlock()
	s.changed()
	return err
}

// SetShowAll shows stopped containers too (docker ps -a) or only running ones.
func (s *Containers) SetShowAll(on bool) {
	s.mu.Lock()
	s.showAll = on
	s.mu.Unlock()
	s.changed()
}

// List is the containers to show, running ones first, then newest first.
func (s *Containers) List() []engine.Container {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.Container
	for _, c := range s.list {
		if s.showAll || c.State.Status == engine.StatusRunning {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := out[i].State.Status == engine.StatusRunning, out[j].State.Status == engine.StatusRunning
		if ri != rj {
			return ri
		}
		return out[i].Created.After(out[j].Created)
	})
	return out
}

// RunOptions are the Run dialog's fields.
type RunOptions struct {
	Image   string
	Name    string
	Ports   string // "8080:80, 8443:443/tcp"
	Env     string // one KEY=value per line
	Volumes string // one HOST:CONTAINER[:ro] or NAME:CONTAINER per line
	Command string // empty: the image's CMD
}

// ParseRunOptions checks the dialog's text fields and turns them into a
// container spec, with errors a beginner can act on.
func ParseRunOptions(o RunOptions) (engine.ContainerSpec, error) {
	spec := engine.ContainerSpec{Image: strings.TrimSpace(o.Image), Name: strings.TrimSpace(o.Name)}
	if spec.Image == "" {
		return spec, fmt.Errorf("choose an image to run: %w", engine.ErrInvalidArgument)
	}
	for _, p := range strings.FieldsFunc(o.Ports, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		b, err := engine.ParsePortBinding(p)
		if err != nil {
			return spec, fmt.Errorf("%w; write HOST:CONTAINER, e.g. 8080:80 (the app's port inside the container on the right)", err)
		}
		spec.Ports = append(spec.Ports, b)
	}
	for _, line := range strings.Split(o.Env, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if k, _, ok := strings.Cut(line, "="); !ok || k == "" || strings.ContainsAny(k, " \t") {
			return spec, fmt.Errorf("environment %q: write NAME=value, one per line: %w", line, engine.ErrInvalidArgument)
		}
		spec.Env = append(spec.Env, line)
	}
	for _, line := range strings.Split(o.Volumes, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m, err := engine.ParseMountSpec(line)
		if err != nil {
			return spec, fmt.Errorf("%w; write /host/path:/container/path or name:/container/path (add :ro for read-only)", err)
		}
		spec.Mounts = append(spec.Mounts, m)
	}
	if cmd := strings.TrimSpace(o.Command); cmd != "" {
		spec.Cmd = []string{"/bin/sh", "-c", cmd}
	}
	return spec, nil
}

// Run creates and starts a container; it returns the container's ID.
func (s *Containers) Run(ctx context.Context, o RunOptions) (string, error) {
	spec, err := ParseRunOptions(o)
	if err != nil {
		return "", err
	}
	id, err := s.eng.Create(ctx, spec)
	if err != nil {
		return "", err
	}
	if err := s.eng.Start(ctx, id); err != nil {
		s.eng.Remove(ctx, id, true, false)
		s.Refresh(ctx)
		return "", err
	}
	return id, s.Refresh(ctx)
}

// Start, Stop, Restart and Remove act on one container and refresh.
func (s *Containers) Start(ctx context.Context, id string) error {
	return s.after(ctx, s.eng.Start(ctx, id))
}

func (s *Containers) Stop(ctx context.Context, id string) error {
	return s.after(ctx, s.eng.Stop(ctx, id, nil))
}

func (s *Containers) Restart(ctx context.Context, id string) error {
	return s.after(ctx, s.eng.Restart(ctx, id, nil))
}

func (s *Containers) Remove(ctx context.Context, id string) error {
	return s.after(ctx, s.eng.Remove(ctx, id, true, false))
}

func (s *Containers) after(ctx context.Context, err error) error {
	if rerr := s.Refresh(ctx); err == nil {
		err = rerr
	}
	return err
}

// Inspect is a container's details.
func (s *Containers) Inspect(ctx context.Context, id string) (engine.Container, error) {
	return s.eng.Inspect(ctx, id)
}

// Logs sends a container's log lines to fn; following, until it stops.
func (s *Containers) Logs(ctx context.Context, id string, follow bool, fn func(engine.LogEntry)) error {
	return s.eng.Logs(ctx, id, engine.LogOptions{Stdout: true, Stderr: true, Follow: follow, Tail: 1000}, func(e engine.LogEntry) error {
		fn(e)
		return nil
	})
}

// FollowSince follows what a container writes from since on: a restarted
// container's new run, without its earlier output again. The engine's
// bound may be in whole seconds, so entries are checked here too.
func (s *Containers) FollowSince(ctx context.Context, id string, since time.Time, fn func(engine.LogEntry)) error {
	return s.eng.Logs(ctx, id, engine.LogOptions{Stdout: true, Stderr: true, Follow: true, Since: since.Truncate(time.Second), Tail: -1}, func(e engine.LogEntry) error {
		if e.Time.IsZero() || !e.Time.Before(since) {
			fn(e)
		}
		return nil
	})
}

// Usage is a container's CPU (percent of one CPU) and memory, from two samples.
type Usage struct {
	CPUPercent  float64
	MemoryBytes uint64
	MemoryLimit uint64
}

// statsStreamer is an engine that streams a container's resource use
// (the Docker Engine API's stats stream).
type statsStreamer interface {
	StatsStream(ctx context.Context, name string, fn func(engine.ContainerStats)) error
}

// FollowStats reports a running container's CPU and memory use as the
// engine streams it, about once a second, until the container stops or
// ctx ends. An engine without the stream is asked once a second.
func (s *Containers) FollowStats(ctx context.Context, id string, fn func(Usage)) error {
	var prev *engine.ContainerStats
	emit := func(cur engine.ContainerStats) {
		if prev != nil {
			fn(usage(*prev, cur))
		}
		prev = &cur
	}
	if st, ok := s.eng.(statsStreamer); ok {
		return st.StatsStream(ctx, id, emit)
	}
	for {
		cur, err := s.eng.Stats(ctx, id)
		if err != nil {
			return err
		}
		emit(cur)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil
		}
	}
}

// usage is the use between two samples.
func usage(a, b engine.ContainerStats) Usage {
	u := Usage{MemoryBytes: b.MemoryUsage, MemoryLimit: b.MemoryLimit}
	if dsys := float64(b.SystemCPU - a.SystemCPU); dsys > 0 && b.CPUTotal >= a.CPUTotal {
		cpus := float64(b.OnlineCPUs)
		if cpus == 0 {
			cpus = 1
		}
		u.CPUPercent = float64(b.CPUTotal-a.CPUTotal) / dsys * cpus * 100
	}
	return u
}

// HumanSize is bytes as docker writes them: 3B, 512kB, 1.98MB. Every
// panel uses it, so a size reads the same in each.
func HumanSize(n int64) string { return human.Size(n) }

// Age writes how long ago t was: "just now", "5 minutes ago".
func Age(t, now time.Time) string { return human.Age(t, now) }

// StatusText is `docker ps`'s STATUS for a container, at the time now.
func StatusText(c engine.Container, now time.Time) string {
	if c.State.StartedAt.IsZero() && c.StatusText != "" {
		return c.StatusText // an engine that reports only the text
	}
	return human.Status(c.State, now)
}

// URL is the address to open a container's first published port at.
func URL(c engine.Container) string {
	for _, p := range c.Ports {
		if p.Proto == "udp" || p.HostPort == 0 {
			continue
		}
		host := p.HostIP
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		return fmt.Sprintf("http://%s:%d/", host, p.HostPort)
	}
	return ""
}
