package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestWatchRebuildsAndReplacesTheContainer(t *testing.T) {
	e := apptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Core.Engine.Images.Tag(ctx, e.BusyboxRef, "busybox:1.36")
	dir := t.TempDir()
	dockerfile := "FROM busybox:1.36\nCOPY index.html /www/\nRUN sleep 1\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("v1\n"), 0o644)
	port := enginetest.FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)

	var mu sync.Mutex
	var results []app.RebuildResult
	r := &app.Rebuilder{
		Builder: e.Core.Engine.Builder, Containers: e.Core.Engine.Containers,
		Build: engine.BuildOptions{ContextDir: dir, Tags: []string{"watched:dev"}},
		Run:   &engine.ContainerSpec{Name: "watched", Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080}}},
		OnResult: func(res app.RebuildResult) {
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
		},
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(results) }
	last := func() app.RebuildResult { mu.Lock(); defer mu.Unlock(); return results[len(results)-1] }

	r.Trigger(ctx, nil) // the first build and run
	r.Wait()
	if res := last(); res.Err != nil || res.Container == "" {
		t.Fatalf("first build: %+v", res)
	}
	apptest.WaitFor(t, "v1 served", func() bool { return get(url) == "v1\n" })

	w, err := app.NewWatcher(dir, "", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	go w.Run(ctx, func(paths []string) { r.Trigger(ctx, paths) }, nil)

	// A burst of saves: one rebuild, and the container serves the new page.
	for i := 2; i <= 4; i++ {
		os.WriteFile(filepath.Join(dir, "index.html"), []byte(fmt.Sprintf("v%d\n", i)), 0o644)
		time.Sleep(20 * time.Millisecond)
	}
	apptest.WaitFor(t, "the rebuild", func() bool { return count() == 2 })
	r.Wait()
	time.Sleep(300 * time.Millisecond)
	if n := count(); n != 2 {
		t.Fatalf("%d rebuilds for one burst of saves", n-1)
	}
	if res := last(); res.Err != nil || strings.Join(res.Paths, ",") != "index.html" {
		t.Fatalf("rebuild %+v", res)
	}
	apptest.WaitFor(t, "v4 served", func() bool { return get(url) == "v4\n" })
	if list, _ := e.Core.Engine.Containers.List(ctx, true); len(list) != 1 {
		t.Fatalf("the old container was not replaced: %d containers", len(list))
	}

	// Saves during a build queue exactly one more build.
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("v5\n"), 0o644)
	apptest.WaitFor(t, "the build to start", func() bool { return count() == 2 && busy(r) })
	for i := 6; i <= 8; i++ {
		time.Sleep(150 * time.Millisecond)
		os.WriteFile(filepath.Join(dir, "index.html"), []byte(fmt.Sprintf("v%d\n", i)), 0o644)
	}
	apptest.WaitFor(t, "two more builds", func() bool { return count() >= 4 })
	r.Wait()
	time.Sleep(500 * time.Millisecond)
	r.Wait()
	if n := count(); n != 4 {
		t.Fatalf("%d builds, want the running one and exactly one queued", n-2)
	}
	apptest.WaitFor(t, "v8 served", func() bool { return get(url) == "v8\n" })

	// A broken Dockerfile: the build fails on its line, the old container stays.
	running := r.Container()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(strings.Replace(dockerfile, "RUN sleep 1", "RUN exit 3", 1)), 0o644)
	apptest.WaitFor(t, "the failed build", func() bool { return count() == 5 })
	if res := last(); res.Err == nil || res.Container != running || !strings.Contains(res.Err.Error(), "non-zero code: 3") {
		t.Fatalf("failed rebuild %+v", res)
	}
	if got := get(url); got != "v8\n" {
		t.Fatalf("after a failed build the old container answers %q", got)
	}
}

// busy reports whether a build is running: Wait would block.
func busy(r *app.Rebuilder) bool {
	done := make(chan struct{})
	go func() { r.Wait(); close(done) }()
	select {
	case <-done:
		return false
	case <-time.After(20 * time.Millisecond):
		return true
	}
}

// The size guard: a rebuild that grows the image past the guard names
// the line that grew it; one that does not, nothing.
func TestRebuildSaysWhichLineGrewTheImage(t *testing.T) {
	te := apptest.Start(t)
	ctx := context.Background()
	images := app.NewImages(te.Core.Engine.Images, te.Core.Engine.Registry)
	if err := images.Pull(ctx, te.BusyboxRef, app.NewTransfer(nil)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+te.BusyboxRef+"\nCOPY size /size\nRUN head -c $(cat /size) /dev/zero > /big\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "size"), []byte("1000"), 0o644)
	var results []app.RebuildResult
	r := &app.Rebuilder{Builder: te.Core.Engine.Builder, Build: engine.BuildOptions{ContextDir: dir, Tags: []string{"guard:dev"}},
		SizeGuard: 5 << 20, OnResult: func(res app.RebuildResult) { results = append(results, res) }}
	build := func() app.RebuildResult {
		t.Helper()
		r.Trigger(ctx, nil)
		r.Wait()
		res := results[len(results)-1]
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res
	}
	if res := build(); res.Grew != "" {
		t.Errorf("the first build: %q", res.Grew)
	}
	os.WriteFile(filepath.Join(dir, "size"), []byte("2000"), 0o644)
	if res := build(); res.Grew != "" {
		t.Errorf("a rebuild 1 kB bigger: %q", res.Grew)
	}
	os.WriteFile(filepath.Join(dir, "size"), []byte("8000000"), 0o644)
	if res := build(); !strings.HasPrefix(res.Grew, "+8MB: RUN head -c $(cat /size) /dev/zero > /big, line 3") {
		t.Errorf("a rebuild 8 MB bigger: %q", res.Grew)
	}
}
