package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerfile"
	"github.com/berth-dev/berth/engine/dockerignore"
)

// Editor holds the Dockerfile being edited: its text, the diagnostics of
// the latest text (computed after a short pause in typing, never on the
// typing goroutine), and the build context it belongs to.
type Editor struct {
	Debounce time.Duration

	mu          sync.Mutex
	path        string // the Dockerfile; "" for a new one
	dir         string // the build context
	text        string
	saved       string
	result      *dockerfile.Result
	timer       *time.Timer
	gen         int
	onAnalyzed  observers
	onFileState observers

	// analyzer re-validates incrementally (only the edited instruction
	// is parsed again); amu serialises its use by the timer and by
	// AnalyzeNow.
	amu      sync.Mutex
	analyzer *dockerfile.Analyzer
}

// analyze runs the validator over text.
func (e *Editor) analyze(text string) *dockerfile.Result {
	e.amu.Lock()
	defer e.amu.Unlock()
	if e.analyzer == nil {
		e.analyzer = new(dockerfile.Analyzer)
	}
	return e.analyzer.Analyze([]byte(text))
}

// contextOptions are what the validator knows of the build context in
// dir: its .dockerignore (CopyIgnoredFile) and a .hadolint.yaml there.
// Either may be missing or broken; the build reports a broken one.
func contextOptions(dir, file string) dockerfile.Options {
	var opts dockerfile.Options
	opts.Ignore, _ = dockerignore.Read(dir, file)
	if cfg, err := dockerfileConfig(dir); err == nil {
		opts.Config = cfg
	}
	return opts
}

// NewEditor makes an editor holding text (a new, unsaved Dockerfile).
func NewEditor(text string) *Editor {
	e := &Editor{Debounce: 150 * time.Millisecond, text: text, saved: text}
	e.result = e.analyze(text)
	return e
}

// Open loads a Dockerfile, or the Dockerfile in a folder (the folder
// becomes the build context). A leading ~ is the home folder.
func (e *Editor) Open(path string) error {
	path = ExpandHome(path)
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	file, dir := path, filepath.Dir(path)
	if fi.IsDir() {
		dir, file = path, filepath.Join(path, "Dockerfile")
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) && fi.IsDir() {
		data, err = nil, nil // a folder with no Dockerfile yet: start one
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	e.amu.Lock()
	e.analyzer = &dockerfile.Analyzer{Options: contextOptions(dir, filepath.Base(file))}
	e.amu.Unlock()
	res := e.analyze(string(data))
	e.mu.Lock()
	e.path, e.dir, e.text, e.saved = file, dir, string(data), string(data)
	e.result = res
	e.gen++
	e.mu.Unlock()
	e.notify(true)
	return nil
}

// Path is the Dockerfile's path and ContextDir the build context.
func (e *Editor) Path() string       { e.mu.Lock(); defer e.mu.Unlock(); return e.path }
func (e *Editor) ContextDir() string { e.mu.Lock(); defer e.mu.Unlock(); return e.dir }
func (e *Editor) Text() string       { e.mu.Lock(); defer e.mu.Unlock(); return e.text }

// Dirty reports unsaved changes.
func (e *Editor) Dirty() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.text != e.saved }

// OnAnalyzed registers fn to run (on a timer goroutine) when new
// diagnostics are ready; OnFileState when the file is opened or saved.
func (e *Editor) OnAnalyzed(fn func())  { e.onAnalyzed.add(fn) }
func (e *Editor) OnFileState(fn func()) { e.onFileState.add(fn) }

func (e *Editor) notify(file bool) {
	e.onAnalyzed.notify()
	if file {
		e.onFileState.notify()
	}
}

// SetText takes the editor's text after a keystroke; the analysis runs
// once typing pauses for Debounce. Only the newest text's result is kept.
func (e *Editor) SetText(text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if text == e.text {
		return
	}
	e.text = text
	e.gen++
	gen := e.gen
	if e.timer != nil {
		e.timer.Stop()
	}
	e.timer = time.AfterFunc(e.Debounce, func() {
		res := e.analyze(text)
		e.mu.Lock()
		if gen != e.gen {
			e.mu.Unlock()
			return // the user typed on: a newer analysis is coming
		}
		e.result = res
		e.mu.Unlock()
		e.notify(false)
	})
}

// AnalyzeNow runs the analysis at once (tests, Save, Build).
func (e *Editor) AnalyzeNow() *dockerfile.Result {
	e.mu.Lock()
	if e.timer != nil {
		e.timer.Stop()
	}
	text := e.text
	e.gen++
	e.mu.Unlock()
	res := e.analyze(text)
	e.mu.Lock()
	e.result = res
	e.mu.Unlock()
	e.notify(false)
	return res
}

// Result is the latest analysis.
func (e *Editor) Result() *dockerfile.Result { e.mu.Lock(); defer e.mu.Unlock(); return e.result }

// ApplyFix rewrites the lines a diagnostic's fix names.
func (e *Editor) ApplyFix(f *engine.Fix) {
	if f == nil {
		return
	}
	lines := strings.Split(e.Text(), "\n")
	if f.Line < 1 || f.EndLine > len(lines) || f.EndLine < f.Line {
		return
	}
	out := append(append(append([]string{}, lines[:f.Line-1]...), strings.Split(f.Text, "\n")...), lines[f.EndLine:]...)
	e.SetText(strings.Join(out, "\n"))
	e.AnalyzeNow()
}

// Note is the side note for the instruction on line ln: what it does and
// what it does to the image's layers.
func (e *Editor) Note(ln int) string {
	res := e.Result()
	s, ok := res.StepAt(ln)
	if !ok {
		return ""
	}
	ex, _ := dockerfile.Explain(s.Keyword)
	return fmt.Sprintf("%s — %s\n\nThis line %s.\n\n%s", s.Keyword, ex.Summary, s.Note(), ex.Text)
}

// Save writes the text to the Dockerfile (to path when it has none yet).
func (e *Editor) Save(path string) error {
	e.mu.Lock()
	if path == "" {
		path = e.path
	}
	text := e.text
	e.mu.Unlock()
	if path == "" {
		return fmt.Errorf("choose where to save the Dockerfile: %w", engine.ErrInvalidArgument)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	e.mu.Lock()
	e.path, e.saved = path, text
	if e.dir == "" {
		e.dir = filepath.Dir(path)
	}
	e.mu.Unlock()
	e.notify(true)
	return nil
}
