package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
)

// changes collects what a watcher reports.
type changes struct {
	mu     sync.Mutex
	bursts [][]string
}

func (c *changes) add(paths []string) {
	sort.Strings(paths)
	c.mu.Lock()
	c.bursts = append(c.bursts, paths)
	c.mu.Unlock()
}

func (c *changes) take() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.bursts
	c.bursts = nil
	return out
}

func watch(t *testing.T, dir string) (*app.Watcher, *changes) {
	t.Helper()
	w, err := app.NewWatcher(dir, "", 250*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); w.Close() })
	c := &changes{}
	go w.Run(ctx, c.add, func(err error) { t.Errorf("watch error: %v", err) })
	return w, c
}

// settle waits for a burst to be reported and for quiet after it.
func settle(c *changes) [][]string {
	time.Sleep(1200 * time.Millisecond) // the debounce, with room for a loaded machine
	return c.take()
}

func TestWatcherOneChangePerBurstWhateverTheEditor(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nCOPY . /app\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("v1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("*.log\nbuild/\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".git", "objects"), 0o755)
	w, c := watch(t, dir)
	if w.Files() != 3 {
		t.Fatalf("watching %d files, want 3 (Dockerfile, app.py, .dockerignore)", w.Files())
	}
	app := filepath.Join(dir, "app.py")

	cases := []struct {
		name  string
		write func()
	}{
		{"in place, several saves in a burst", func() {
			for i := 0; i < 5; i++ {
				os.WriteFile(app, []byte(fmt.Sprintf("v%d\n", i)), 0o644)
				time.Sleep(10 * time.Millisecond)
			}
		}},
		{"temp file renamed over (VS Code, GTK)", func() {
			tmp := filepath.Join(dir, ".app.py.tmp.1234")
			os.WriteFile(tmp, []byte("renamed\n"), 0o644)
			os.Rename(tmp, app)
		}},
		{"vim: backup, write test, delete and create", func() {
			os.WriteFile(filepath.Join(dir, "4913"), nil, 0o644)
			os.Remove(filepath.Join(dir, "4913"))
			os.Rename(app, app+"~")
			os.WriteFile(app, []byte("vim\n"), 0o644)
			os.Remove(app + "~")
			os.WriteFile(filepath.Join(dir, ".app.py.swp"), []byte("swap"), 0o644)
		}},
	}
	for _, tc := range cases {
		tc.write()
		got := settle(c)
		if len(got) != 1 || strings.Join(got[0], ",") != "app.py" {
			t.Errorf("%s: reported %v, want one change of app.py", tc.name, got)
		}
	}

	// Ignored by .dockerignore, or version control: nothing to rebuild.
	os.WriteFile(filepath.Join(dir, "debug.log"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, ".git", "objects", "ab"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "build"), 0o755)
	os.WriteFile(filepath.Join(dir, "build", "out.bin"), []byte("x"), 0o644)
	if got := settle(c); len(got) != 0 {
		t.Errorf("ignored files reported: %v", got)
	}

	// A new folder is watched as it appears.
	os.MkdirAll(filepath.Join(dir, "src", "pkg"), 0o755)
	settle(c)
	os.WriteFile(filepath.Join(dir, "src", "pkg", "mod.py"), []byte("x"), 0o644)
	if got := settle(c); len(got) != 1 || !strings.Contains(strings.Join(got[0], ","), filepath.Join("src", "pkg", "mod.py")) {
		t.Errorf("a file in a new folder: %v", got)
	}
}

func TestWatcherTenThousandFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\n"), 0o644)
	for d := 0; d < 100; d++ {
		sub := filepath.Join(dir, "src", fmt.Sprintf("pkg%03d", d))
		os.MkdirAll(sub, 0o755)
		for f := 0; f < 100; f++ {
			os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d.txt", f)), []byte("x"), 0o644)
		}
	}
	start := time.Now()
	w, c := watch(t, dir)
	t.Logf("watching %d files in %v", w.Files(), time.Since(start))
	if w.Files() != 10001 {
		t.Fatalf("watching %d files, want 10001", w.Files())
	}
	os.WriteFile(filepath.Join(dir, "src", "pkg050", "f050.txt"), []byte("changed"), 0o644)
	if got := settle(c); len(got) != 1 || len(got[0]) != 1 {
		t.Fatalf("a change among 10,000 files: %v", got)
	}
}

func TestWatchLimitIsExplained(t *testing.T) {
	err := &app.WatchLimitError{Dirs: 8192, Err: errors.New("no space left on device")}
	if !strings.Contains(err.Error(), "sysctl fs.inotify.max_user_watches") || !strings.Contains(app.Explain(err), "max_user_watches") {
		t.Fatalf("message %q / %q", err.Error(), app.Explain(err))
	}
}
