package app

import (
	"cmp"
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

	mu       sync.Mutex
	last     *RebuildResult // the last build
	lastSync *RebuildResult // the last hot sync, if any
}

// SyncDebounce is how long Watch waits for quiet before a hot sync. An
// editor's save (write, or write-to-temp then rename) is over within a
// millisecond, and a sync is cheap (a burst cut in two syncs twice, and a
// burst that touches the Dockerfile is rebuilt anyway), so it need not
// wait the 150 ms a rebuild does.
const SyncDebounce = 10 * time.Millisecond

// WatchOptions are the toggle's settings.
type WatchOptions struct {
	Build       BuildRequest
	KeepRunning bool
	Ports       string // "8080:8080", for the kept container
	Debounce    time.Duration
	// Sync copies saved files into the kept container when it can,
	// instead of rebuilding first (KeepRunning only).
	Sync     *SyncOptions
	OnEvent  func(engine.BuildEvent)
	OnResult func(RebuildResult)
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
		r.Sync = o.Sync
	}
	r.OnResult = func(res RebuildResult) {
		s.mu.Lock()
		if res.Synced != nil {
			s.lastSync = &res
		} else {
			s.last = &res
		}
		s.mu.Unlock()
		if o.OnResult != nil {
			o.OnResult(res)
		}
	}
	debounce := o.Debounce
	if r.Sync != nil {
		debounce = min(cmp.Or(debounce, SyncDebounce), SyncDebounce)
	}
	w, err := NewWatcher(dir, rel, debounce)
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
	last, synced := s.last, s.lastSync
	s.mu.Unlock()
	out := fmt.Sprintf("Watching %d files", s.watcher.Files())
	if synced != nil && (last == nil || synced.Started.After(last.Started)) {
		out += " · " + syncLine(*synced) + " · updating the image…"
		return out
	}
	if last == nil {
		return out + " · building…"
	}
	when := last.Started.Format("15:04:05")
	if last.Err != nil {
		return fmt.Sprintf("%s · last build failed at %s: %s", out, when, Explain(last.Err))
	}
	if synced != nil {
		out += " · " + syncLine(*synced)
	}
	what := "last build ok"
	if last.Background {
		what = "image up to date"
	}
	out = fmt.Sprintf("%s · %s at %s (%.2fs)", out, what, when, last.Duration.Seconds())
	if last.Grew != "" {
		out += " · " + last.Grew
	}
	if last.NotSynced != "" {
		out += " · " + last.NotSynced
	}
	return out
}

// syncLine says what a hot sync did: "synced app.py at 15:04:05 in 31ms, restarted".
func syncLine(r RebuildResult) string {
	names := make([]string, len(r.Paths))
	for i, p := range r.Paths {
		names[i] = filepath.Base(p)
	}
	line := fmt.Sprintf("synced %s at %s in %s", strings.Join(names, ", "), r.Started.Format("15:04:05"), r.Duration.Round(time.Millisecond))
	if r.Err != nil {
		return line + ", but " + Explain(r.Err)
	}
	if r.Restarted {
		line += ", restarted"
	}
	return line
}
