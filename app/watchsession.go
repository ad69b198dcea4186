package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
)

// WatchSession is the editor's Watch toggle: the build context watched,
// each burst of saves rebuilt, and (keep running) the container replaced.
type WatchSession struct {
	watcher *Watcher
	rebuild *Rebuilder
	cancel  context.CancelFunc

	mu   sync.Mutex
	last *RebuildResult
}

// WatchOptions are the toggle's settings.
type WatchOptions struct {
	Build       BuildRequest
	KeepRunning bool
	Ports       string // "8080:8080", for the kept container
	Debounce    time.Duration
	OnEvent     func(engine.BuildEvent)
	OnResult    func(RebuildResult)
}

// StartWatch starts watching the editor's context; it builds once at once.
func StartWatch(ctx context.Context, builder engine.Builder, containers ContainerEngine, e *Editor, o WatchOptions) (*WatchSession, error) {
	dir, path := e.ContextDir(), e.Path()
	if dir == "" || path == "" {
		return nil, fmt.Errorf("save the Dockerfile in the folder to watch first: %w", engine.ErrInvalidArgument)
	}
	rel, _ := filepath.Rel(dir, path)
	opts := engine.BuildOptions{ContextDir: dir, Dockerfile: rel, Target: strings.TrimSpace(o.Build.Target)}
	tag := strings.TrimSpace(o.Build.Tag)
	if tag == "" {
		tag = SuggestTag(dir)
	}
	opts.Tags = []string{tag}
	s := &WatchSession{}
	r := &Rebuilder{Builder: builder, Containers: containers, Build: opts, OnEvent: o.OnEvent}
	if o.KeepRunning {
		spec, err := ParseRunOptions(RunOptions{Image: tag, Name: strings.NewReplacer(":", "-", "/", "-").Replace(tag), Ports: o.Ports})
		if err != nil {
			return nil, err
		}
		r.Run = &spec
	}
	r.OnResult = func(res RebuildResult) {
		s.mu.Lock()
		s.last = &res
		s.mu.Unlock()
		if o.OnResult != nil {
			o.OnResult(res)
		}
	}
	w, err := NewWatcher(dir, rel, o.Debounce)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s.watcher, s.rebuild, s.cancel = w, r, cancel
	r.Trigger(ctx, nil)
	go w.Run(ctx, func(paths []string) { r.Trigger(ctx, paths) }, nil)
	return s, nil
}

// Stop stops watching; a container it keeps running stays.
func (s *WatchSession) Stop() {
	s.cancel()
	s.watcher.Close()
}

// Container is the container kept running, if any.
func (s *WatchSession) Container() string { return s.rebuild.Container() }

// Status is the line the editor shows: files watched, the last result.
func (s *WatchSession) Status() string {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	out := fmt.Sprintf("Watching %d files", s.watcher.Files())
	if last == nil {
		return out + " · building…"
	}
	when := last.Started.Format("15:04:05")
	if last.Err != nil {
		return fmt.Sprintf("%s · last build failed at %s: %s", out, when, Explain(last.Err))
	}
	if last.Grew != "" {
		return fmt.Sprintf("%s · last build ok at %s (%.2fs) · %s", out, when, last.Duration.Seconds(), last.Grew)
	}
	return fmt.Sprintf("%s · last build ok at %s (%.2fs)", out, when, last.Duration.Seconds())
}
