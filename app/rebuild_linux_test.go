package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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

// Hot sync: a save the last COPY takes is copied into the running
// container and its process restarted (with the server its shell started:
// a survivor would hold the port) (under Berth's supervisor, or by a
// container restart for an engine whose images it cannot read), so a
// process that reads it at start sees it; the image is rebuilt in the
// background and the container kept. A save an earlier COPY also takes is
// rebuilt and the container replaced, with the reason said.
func TestWatchSyncsSavedFilesIntoTheContainer(t *testing.T) {
	e := apptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		images bool
	}{{"the process restarted", true}, {"the container restarted", false}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+e.BusyboxRef+"\nCOPY greeting /etc/greeting\nRUN mkdir /www\nWORKDIR /app\nCOPY site/ .\nEXPOSE 8080\n"+
				`CMD ["sh", "-c", "echo started; cat /etc/greeting msg > /www/index.html; httpd -f -p 8080 -h /www; echo the server ended"]`+"\n"), 0o644)
			os.MkdirAll(filepath.Join(dir, "site"), 0o755)
			os.WriteFile(filepath.Join(dir, "greeting"), []byte("hello\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "site", "msg"), []byte("v1\n"), 0o644)
			port := enginetest.FreePort(t)
			url := fmt.Sprintf("http://127.0.0.1:%d/", port)

			var mu sync.Mutex
			var results []app.RebuildResult
			r := &app.Rebuilder{
				Builder: e.Core.Engine.Builder, Containers: e.Core.Engine.Containers,
				Build: engine.BuildOptions{ContextDir: dir, Tags: []string{"synced:dev"}},
				Run:   &engine.ContainerSpec{Name: "synced", Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080}}},
				Sync:  &app.SyncOptions{Files: e.Core.Engine.Files, Restart: true},
				OnResult: func(res app.RebuildResult) {
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
				},
			}
			if tt.images {
				r.Sync.Images = e.Core.Engine.Images
			}
			defer e.Core.Engine.Containers.Remove(ctx, "synced", true, false)
			all := func() []app.RebuildResult { mu.Lock(); defer mu.Unlock(); return slices.Clone(results) }
			r.Trigger(ctx, nil)
			r.Wait()
			first := all()[0]
			if first.Err != nil {
				t.Fatal(first.Err)
			}
			apptest.WaitFor(t, "v1 served", func() bool { return get(url) == "hello\nv1\n" })
			before, _ := e.Core.Engine.Containers.Inspect(ctx, first.Container)

			os.WriteFile(filepath.Join(dir, "site", "msg"), []byte("v2\n"), 0o644)
			saved := time.Now()
			r.Trigger(ctx, []string{"site/msg"})
			apptest.WaitFor(t, "v2 served", func() bool { return get(url) == "hello\nv2\n" })
			t.Logf("save to served: %s", time.Since(saved))
			r.Wait()
			res := all()
			if len(res) != 3 {
				t.Fatalf("results %+v, want the build, the sync and the background build", res)
			}
			if s := res[1]; s.Err != nil || !slices.Equal(s.Synced, []string{"/app/msg"}) || s.Container != first.Container || !s.Restarted || s.ImageID != "" {
				t.Errorf("the sync: %+v", s)
			}
			if b := res[2]; b.Err != nil || !b.Background || b.Container != first.Container || b.ImageID == first.ImageID || b.ImageID == "" {
				t.Errorf("the background build: %+v (first image %s)", b, first.ImageID)
			}
			after, _ := e.Core.Engine.Containers.Inspect(ctx, first.Container)
			if after.State.Status != engine.StatusRunning {
				t.Fatalf("after the sync the container is %s (the new server could not listen?)", after.State.Status)
			}
			if restarted := !after.State.StartedAt.Equal(before.State.StartedAt); restarted == tt.images {
				t.Errorf("the container was restarted: %v (started at %v, then %v)", restarted, before.State.StartedAt, after.State.StartedAt)
			}
			var logs strings.Builder
			e.Core.Engine.Containers.Logs(ctx, first.Container, engine.LogOptions{Stdout: true, Stderr: true, Tail: -1}, func(l engine.LogEntry) error {
				logs.Write(l.Data)
				return nil
			})
			if logs.String() != "started\nstarted\n" {
				t.Errorf("the container's output: %q, want its command's alone, twice", logs.String())
			}
			if list, _ := e.Core.Engine.Containers.List(ctx, true); len(list) != 1 || list[0].ID != first.Container {
				t.Errorf("containers after a sync: %+v", list)
			}

			// The greeting is copied by an earlier COPY a RUN follows: rebuilt.
			os.WriteFile(filepath.Join(dir, "greeting"), []byte("hi\n"), 0o644)
			r.Trigger(ctx, []string{"greeting"})
			r.Wait()
			res = all()
			last := res[len(res)-1]
			if len(res) != 4 || last.Err != nil || last.Background || last.Container == first.Container || !strings.Contains(last.NotSynced, "greeting is also copied by COPY greeting /etc/greeting (line 2)") {
				t.Fatalf("a save an earlier COPY takes: %+v", res[3:])
			}
			apptest.WaitFor(t, "the rebuilt container", func() bool { return get(url) == "hi\nv2\n" })

			if !tt.images {
				return // httpd as PID 1 does not hear a stop's SIGTERM: nothing to learn waiting 10 s
			}
			// The container stops at once when asked: the supervisor passes
			// the stop signal on.
			stopped := time.Now()
			if err := e.Core.Engine.Containers.Stop(ctx, last.Container, nil); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(stopped); d > 5*time.Second {
				t.Errorf("stop took %s: the signal did not reach the command", d)
			}
		})
	}
}

// The cache-order fix, applied, then measured: the first build after it
// runs the install in its new place, the next one after a code change
// takes the install from the cache while the code's COPY reruns, and the
// log says the time saved, from the install's recorded time.
func TestReorderFixSaysTheTimeItSaved(t *testing.T) {
	te := apptest.Start(t)
	ctx := context.Background()
	if _, err := te.Core.Engine.Registry.Pull(ctx, te.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// pip here is a stand-in that takes 0.4 s, as an install takes time.
	df := "FROM " + te.BusyboxRef + "\nRUN printf '#!/bin/sh\\nsleep 0.4\\n' > /bin/pip && chmod +x /bin/pip\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"cat\", \"app.py\"]\n"
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644)
	os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("flask\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("print(1)\n"), 0o644)
	ed := app.NewEditor("")
	if err := ed.Open(dir); err != nil {
		t.Fatal(err)
	}
	var diag engine.Diagnostic
	for _, d := range ed.AnalyzeNow().Diagnostics {
		if d.Rule == "CopyAllBeforeInstall" {
			diag = d
		}
	}
	if diag.Fix == nil {
		t.Fatalf("no cache-order fix among %+v", ed.Result().Diagnostics)
	}
	log := &app.BuildLog{}
	build := func() {
		t.Helper()
		if _, err := log.Build(ctx, te.Core.Engine.Builder, ed, app.BuildRequest{Tag: "reorder:dev"}); err != nil {
			t.Fatal(err)
		}
	}
	build() // before the fix: nothing to say
	if s := log.Saved(); s != "" {
		t.Errorf("before the fix: %q", s)
	}
	ed.ApplyFix(diag.Fix)
	log.FixApplied(diag)
	build()
	if s := log.Saved(); s != "" {
		t.Errorf("the first build after the fix ran everything, yet: %q", s)
	}
	build() // nothing changed: the code's COPY did not rerun, so no saving shows
	if s := log.Saved(); s != "" {
		t.Errorf("an unchanged rebuild: %q", s)
	}
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("print(2)\n"), 0o644)
	build()
	saved := log.Saved()
	if !strings.HasPrefix(saved, "The reordered Dockerfile saved ") || !strings.Contains(saved, "RUN pip install -r requirements.txt") {
		t.Fatalf("after a code change: %q\n%s", saved, ed.Text())
	}
	if d, err := time.ParseDuration(strings.Fields(strings.TrimPrefix(saved, "The reordered Dockerfile saved "))[0]); err != nil || d < 400*time.Millisecond {
		t.Errorf("saved %v (%v), want at least the install's 0.4s", d, err)
	}
}
