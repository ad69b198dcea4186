package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/engine/dockerignore"
	"github.com/fsnotify/fsnotify"
	"github.com/moby/patternmatcher"
)

// Watcher follows a build context and says when it changed: recursively
// (new directories are watched as they appear), ignoring what
// .dockerignore excludes and editors' temporary files, and debounced, so
// a burst of saves (or an editor's write-to-temp-then-rename) is one
// change. It watches directories, not files, so a file replaced by a
// rename is still seen.
type Watcher struct {
	dir        string
	dockerfile string
	debounce   time.Duration
	fs         *fsnotify.Watcher
	ignore     *patternmatcher.PatternMatcher

	mu    sync.Mutex
	dirs  map[string]bool
	files int
}

// WatchLimitError is the kernel refusing more inotify watches.
type WatchLimitError struct {
	Dirs int
	Err  error
}

func (e *WatchLimitError) Error() string {
	return fmt.Sprintf("cannot watch more than %d folders: the system's limit on file watches is reached. Raise it with: sudo sysctl fs.inotify.max_user_watches=524288 (and add it to /etc/sysctl.conf to keep it), or exclude big folders in .dockerignore", e.Dirs)
}

func (e *WatchLimitError) Unwrap() error { return e.Err }

// NewWatcher watches dir, the context of dockerfile (a path inside dir,
// "" for Dockerfile); changes are reported debounce after the last one.
func NewWatcher(dir, dockerfile string, debounce time.Duration) (*Watcher, error) {
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if debounce <= 0 {
		debounce = 150 * time.Millisecond
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	w := &Watcher{dir: dir, dockerfile: dockerfile, debounce: debounce, fs: fw, dirs: map[string]bool{}}
	w.loadIgnore()
	if err := w.addTree(dir); err != nil {
		fw.Close()
		return nil, err
	}
	return w, nil
}

func (w *Watcher) loadIgnore() {
	w.ignore, _ = dockerignore.Read(w.dir, w.dockerfile) // a broken file ignores nothing; the build says why
}

// Files is how many files are watched (for "watching N files").
func (w *Watcher) Files() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.files
}

// Close stops watching.
func (w *Watcher) Close() error { return w.fs.Close() }

// ignored says whether a path (relative to the context) is not part of
// the build: excluded by .dockerignore, version control, editor files.
func (w *Watcher) ignored(rel string, isDir bool) bool {
	base := filepath.Base(rel)
	if isDir && (base == ".git" || base == ".hg" || base == ".svn" || base == "node_modules" && w.ignore == nil) {
		return true
	}
	if !isDir && editorTemp(base) {
		return true
	}
	if rel == w.dockerfile || rel == ".dockerignore" {
		return false
	}
	if w.ignore != nil {
		if m, _ := w.ignore.MatchesOrParentMatches(filepath.ToSlash(rel)); m {
			return !(isDir && w.ignore.Exclusions())
		}
	}
	return false
}

// editorTemp recognises swap, backup and save-in-progress files of
// common editors.
func editorTemp(name string) bool {
	switch {
	case strings.HasSuffix(name, "~"), strings.HasPrefix(name, ".#"), strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"):
		return true // emacs, nano, most backups
	case strings.HasSuffix(name, ".swp"), strings.HasSuffix(name, ".swx"), strings.HasSuffix(name, ".swo"), name == "4913":
		return true // vim's swap files and its write test
	case strings.HasSuffix(name, ".tmp"), strings.Contains(name, ".tmp."), strings.HasPrefix(name, ".goutputstream-"), strings.HasSuffix(name, ".crswap"):
		return true // atomic-save temporaries (VS Code, GTK, Chrome)
	case name == ".DS_Store":
		return true
	}
	return false
}

func (w *Watcher) addTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // a folder that vanished while walking
		}
		rel, _ := filepath.Rel(w.dir, p)
		if rel == "." {
			rel = ""
		}
		if rel != "" && w.ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			w.mu.Lock()
			w.files++
			w.mu.Unlock()
			return nil
		}
		w.mu.Lock()
		known := w.dirs[p]
		w.dirs[p] = true
		n := len(w.dirs)
		w.mu.Unlock()
		if known {
			return nil
		}
		if err := w.fs.Add(p); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return &WatchLimitError{Dirs: n - 1, Err: err}
			}
			return fmt.Errorf("watch %s: %w", p, err)
		}
		return nil
	})
}

// Run reports changes to onChange until ctx ends: once per burst, after
// the burst has been quiet for the debounce time. Errors (a watch limit
// reached by a new folder) go to onError.
func (w *Watcher) Run(ctx context.Context, onChange func(paths []string), onError func(error)) {
	var timer *time.Timer
	var fire <-chan time.Time
	pending := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if onError != nil {
				onError(err)
			}
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			rel, err := filepath.Rel(w.dir, ev.Name)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			fi, statErr := os.Lstat(ev.Name)
			isDir := statErr == nil && fi.IsDir()
			if w.ignored(rel, isDir) {
				continue
			}
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Create) {
				continue // a touch or chmod changes no content the cache looks at... except modes; rare
			}
			if isDir && ev.Has(fsnotify.Create) {
				if err := w.addTree(ev.Name); err != nil && onError != nil {
					onError(err)
				}
			} else if ev.Has(fsnotify.Create) && statErr == nil {
				w.mu.Lock()
				w.files++
				w.mu.Unlock()
			}
			if rel == ".dockerignore" || rel == w.dockerfile+".dockerignore" {
				w.loadIgnore()
			}
			pending[rel] = true
			if timer == nil {
				timer = time.NewTimer(w.debounce)
			} else {
				timer.Reset(w.debounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			var paths []string
			for p := range pending {
				paths = append(paths, p)
			}
			pending = map[string]bool{}
			onChange(paths)
		}
	}
}
