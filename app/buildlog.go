package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
)

// StepState is how a build step stands.
type StepState string

const (
	StepRunning StepState = "running"
	StepCached  StepState = "CACHED"
	StepDone    StepState = "done"
	StepFailed  StepState = "failed"
)

// BuildStep is one row of the build log.
type BuildStep struct {
	Number      int
	Instruction string
	Line        int
	State       StepState
	Duration    time.Duration
	LayerSize   int64
	Output      string
	// Reason is why the step reran rather than come from the cache.
	Reason string
	// Biggest are the largest files the step's layer holds; Layer is the
	// layer's diff ID ("" for a step that changed only metadata).
	Biggest []engine.PathSize
	Layer   string
}

// Added says what a finished step added, for the line it starts on:
// "Made a 3MB layer in 1.2s; biggest: /big (3MB), /d/mid (90kB)"; "" for
// a step that made no layer.
func (s BuildStep) Added() string {
	if s.Layer == "" || s.State != StepDone && s.State != StepCached {
		return ""
	}
	out := "Made a " + HumanSize(s.LayerSize) + " layer in " + s.Duration.Round(time.Millisecond).String()
	if s.State == StepCached {
		out = "Took its " + HumanSize(s.LayerSize) + " layer from the cache"
	}
	if len(s.Biggest) > 0 {
		parts := make([]string, len(s.Biggest))
		for i, b := range s.Biggest {
			parts[i] = fmt.Sprintf("%s (%s)", b.Path, HumanSize(b.Size))
		}
		out += "; biggest: " + strings.Join(parts, ", ")
	}
	return out
}

// BuildLog collects a build's events for the build log panel.
type BuildLog struct {
	mu       sync.Mutex
	steps    []BuildStep
	messages []string
	result   engine.BuildResult
	err      error
	running  bool
	cancel   context.CancelFunc
	watchers observers
	// lines are the Dockerfile lines that made the layers of every build
	// this log saw, by diff ID: they outlive the build's steps.
	lines map[string]int
	// reorder is a reorder fix waiting for a build that shows what it
	// saves; saved says so, for the build that did.
	reorder *reorderFix
	saved   string
}

// reorderFix is the quick fix that copies the dependency files and
// installs before COPY . .: lines first to last after the rewrite, the
// last being the COPY . . .
type reorderFix struct {
	first, last int
	ran         map[int]time.Duration // each step's time when it last ran
	builds      int
}

// reorderBuilds is how many builds a reorder fix waits for one that reran
// the code's COPY (the one that shows the saving) before it stops asking.
const reorderBuilds = 5

// FixApplied tells the log that the editor applied d's fix: after the
// cache-order fix, the builds that follow measure what it saves.
func (l *BuildLog) FixApplied(d engine.Diagnostic) {
	if d.Rule != "CopyAllBeforeInstall" || d.Fix == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reorder = &reorderFix{first: d.Fix.Line, last: d.Fix.Line + strings.Count(d.Fix.Text, "\n"), ran: map[int]time.Duration{}}
}

// Saved says what the cache-order fix saved in the last build, "" when
// that build shows nothing yet: "The reordered Dockerfile saved 12.3s: …".
func (l *BuildLog) Saved() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.saved
}

// Finish ends a build the log followed (Build calls it; Watch's builds
// call it from their result): the cache-order fix's saving is measured
// from the steps' times. The first build after the fix runs every step in
// the new order and records their times; a later one that reran the code's
// COPY with the installs before it cached saved what those installs took.
func (l *BuildLog) Finish(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.saved = ""
	r := l.reorder
	if r == nil || err != nil {
		return
	}
	r.builds++
	var saved time.Duration
	var cached []string
	codeReran := false
	for _, s := range l.steps {
		switch {
		case s.Line < r.first || s.Line > r.last:
		case s.State == StepDone && s.Line == r.last:
			codeReran = true
		case s.State == StepDone:
			r.ran[s.Line] = s.Duration
		case s.State == StepCached:
			if d, ok := r.ran[s.Line]; ok {
				saved += d
				cached = append(cached, s.Instruction)
			}
		}
	}
	switch {
	case codeReran && len(cached) > 0:
		l.saved = fmt.Sprintf("The reordered Dockerfile saved %s on this build: %s came from the cache while the code's COPY reran (their time when they last ran)",
			saved.Round(time.Millisecond), strings.Join(cached, " and "))
		l.reorder = nil
	case r.builds >= reorderBuilds:
		l.reorder = nil
	}
}

// ForgetLines forgets which lines made which layers, when the editor
// opens another Dockerfile.
func (l *BuildLog) ForgetLines() {
	l.mu.Lock()
	l.lines = nil
	l.mu.Unlock()
}

// LineOfLayer is the Dockerfile line whose step made the layer with diff
// ID diffID, in a build this log saw.
func (l *BuildLog) LineOfLayer(diffID string) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ln, ok := l.lines[diffID]
	return ln, ok
}

// OnChange registers fn to run after every update (on the build's goroutine).
func (l *BuildLog) OnChange(fn func()) { l.watchers.add(fn) }

func (l *BuildLog) changed() { l.watchers.notify() }

// Apply takes one build event.
func (l *BuildLog) Apply(ev engine.BuildEvent) {
	l.mu.Lock()
	switch ev.Kind {
	case engine.BuildStepStarted:
		if ev.Step == 1 { // a new build (Watch's builds come only as events)
			l.steps, l.messages = nil, nil
		}
		l.steps = append(l.steps, BuildStep{Number: ev.Step, Instruction: ev.Instruction, Line: ev.Line, State: StepRunning})
	case engine.BuildStepOutput:
		if s := l.step(ev.Step); s != nil {
			s.Output += ev.Output
		}
	case engine.BuildStepRerun:
		if s := l.step(ev.Step); s != nil {
			s.Reason = ev.Output
		}
	case engine.BuildStepCached, engine.BuildStepDone, engine.BuildStepFailed:
		if s := l.step(ev.Step); s != nil {
			s.State = map[engine.BuildEventKind]StepState{engine.BuildStepCached: StepCached, engine.BuildStepDone: StepDone, engine.BuildStepFailed: StepFailed}[ev.Kind]
			s.Duration, s.LayerSize, s.Biggest, s.Layer = ev.Duration, ev.LayerSize, ev.Biggest, ev.Layer
			if ev.Layer != "" && ev.Line > 0 {
				if l.lines == nil {
					l.lines = map[string]int{}
				}
				l.lines[ev.Layer] = ev.Line
			}
			if ev.Kind == engine.BuildStepFailed && !strings.Contains(s.Output, ev.Output) {
				s.Output += ev.Output + "\n"
			}
		}
	case engine.BuildWarning:
		l.messages = append(l.messages, "warning: "+ev.Output)
	case engine.BuildMessage:
		l.messages = append(l.messages, strings.TrimRight(ev.Output, "\n"))
	}
	l.mu.Unlock()
	l.changed()
}

func (l *BuildLog) step(n int) *BuildStep {
	for i := len(l.steps) - 1; i >= 0; i-- {
		if l.steps[i].Number == n {
			return &l.steps[i]
		}
	}
	return nil
}

// Snapshot is the log to draw.
func (l *BuildLog) Snapshot() (steps []BuildStep, messages []string, running bool, result engine.BuildResult, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]BuildStep(nil), l.steps...), append([]string(nil), l.messages...), l.running, l.result, l.err
}

// FailedLine is the Dockerfile line of the step that failed, or 0.
func (l *BuildLog) FailedLine() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var se *engine.BuildStepError
	if errors.As(l.err, &se) && se.Line > 0 {
		return se.Line
	}
	for _, s := range l.steps {
		if s.State == StepFailed {
			return s.Line
		}
	}
	return 0
}

// Cancel stops the running build.
func (l *BuildLog) Cancel() {
	l.mu.Lock()
	c := l.cancel
	l.mu.Unlock()
	if c != nil {
		c()
	}
}

// BuildRequest is the Build button's form.
type BuildRequest struct {
	Tag       string
	BuildArgs string // NAME=value, separated by commas or new lines
	Target    string
	NoCache   bool
}

// Build builds the editor's Dockerfile in its context (saving it first)
// and fills the log. It blocks until the build ends; Cancel stops it.
func (l *BuildLog) Build(ctx context.Context, b engine.Builder, e *Editor, req BuildRequest) (engine.BuildResult, error) {
	if e.Dirty() {
		if err := e.Save(""); err != nil {
			return engine.BuildResult{}, err
		}
	}
	opts := engine.BuildOptions{ContextDir: e.ContextDir(), Target: strings.TrimSpace(req.Target), NoCache: req.NoCache}
	if opts.ContextDir == "" {
		return engine.BuildResult{}, fmt.Errorf("save the Dockerfile in the folder you want to build first: %w", engine.ErrInvalidArgument)
	}
	if rel, err := filepath.Rel(opts.ContextDir, e.Path()); err == nil {
		opts.Dockerfile = rel
	}
	if t := strings.TrimSpace(req.Tag); t != "" {
		opts.Tags = []string{t}
	}
	for _, line := range strings.FieldsFunc(req.BuildArgs, func(r rune) bool { return r == '\n' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return engine.BuildResult{}, fmt.Errorf("build argument %q: write NAME=value, separated by commas: %w", line, engine.ErrInvalidArgument)
		}
		if opts.BuildArgs == nil {
			opts.BuildArgs = map[string]*string{}
		}
		opts.BuildArgs[k] = &v
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.mu.Lock()
	l.steps, l.messages, l.err, l.result, l.running, l.cancel = nil, nil, nil, engine.BuildResult{}, true, cancel
	l.mu.Unlock()
	l.changed()
	res, err := b.Build(ctx, opts, l.Apply)
	l.mu.Lock()
	l.running, l.cancel, l.result, l.err = false, nil, res, err
	if errors.Is(err, context.Canceled) {
		for i := range l.steps {
			if l.steps[i].State == StepRunning {
				l.steps[i].State = StepFailed
				l.steps[i].Output += "cancelled\n"
			}
		}
	}
	l.mu.Unlock()
	l.Finish(err)
	l.changed()
	return res, err
}
