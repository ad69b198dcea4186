package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

// benchSaveToServed measures, per iteration, the time from writing a
// source file to the rebuilt container answering with the new content on
// its published port: watcher debounce (the settings' default, 150 ms),
// build, container replacement, server start. The wait for a build after
// the content is served (Watch's background build after a sync) is not
// timed.
//
// With sync, the saved file is copied into the running container and its
// process restarted (Watch's hot sync) instead, after SyncDebounce.
func benchSaveToServed(b *testing.B, sample string, sync bool, base func(e *apptest.Engine) string, file string, content func(i int) string, check func(body string, i int) bool) {
	e := apptest.Start(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	baseRef := base(e)
	dir := b.TempDir()
	src := filepath.Join("..", "testdata", "apps", sample)
	entries, _ := os.ReadDir(src)
	for _, en := range entries {
		data, _ := os.ReadFile(filepath.Join(src, en.Name()))
		if en.Name() == "Dockerfile" {
			data = []byte(strings.Replace(string(data), "FROM "+strings.Split(strings.SplitN(string(data), "FROM ", 2)[1], "\n")[0], "FROM "+baseRef, 1))
		}
		os.WriteFile(filepath.Join(dir, en.Name()), data, 0o644)
	}
	port := enginetest.FreePort(b)
	containerPort := 8080
	if sample == "pyhello" {
		containerPort = 8000
	}
	r := &app.Rebuilder{Builder: e.Core.Engine.Builder, Containers: e.Core.Engine.Containers,
		Build: engine.BuildOptions{ContextDir: dir, Tags: []string{"bench:" + sample}},
		Run:   &engine.ContainerSpec{Name: "bench-" + sample, Ports: []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: containerPort}}}}
	debounce := app.DefaultSettings().WatchDebounce.Duration
	if sync {
		r.Sync, debounce = &app.SyncOptions{Files: e.Core.Engine.Files, Restart: true, Images: e.Core.Engine.Images}, app.SyncDebounce
	}
	r.Trigger(ctx, nil)
	r.Wait()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	w, err := app.NewWatcher(dir, "", debounce)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	go w.Run(ctx, func(paths []string) { r.Trigger(ctx, paths) }, nil)
	time.Sleep(200 * time.Millisecond)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		os.WriteFile(filepath.Join(dir, file), []byte(content(i)), 0o644)
		for !check(get(url), i) {
			if time.Since(start) > 30*time.Second {
				b.Fatalf("iteration %d: the new content never appeared", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.StopTimer() // the next save waits for this one's (background) build, untimed
		r.Wait()
		b.StartTimer()
	}
}

func BenchmarkSaveToServedBusybox(b *testing.B) {
	benchSaveToServed(b, "bbhello", false, func(e *apptest.Engine) string {
		if _, err := e.Core.Engine.Registry.Pull(context.Background(), e.BusyboxRef, nil, nil); err != nil {
			b.Fatal(err)
		}
		return e.BusyboxRef
	}, "index.html",
		func(i int) string { return fmt.Sprintf("<h1>edit %d</h1>\n", i) },
		func(body string, i int) bool { return body == fmt.Sprintf("<h1>edit %d</h1>\n", i) })
}

func BenchmarkSaveToServedPython(b *testing.B) { benchSaveToServedPython(b, false) }

// BenchmarkSaveToServedPythonSync is the same save with Watch's hot sync:
// app.py copied into the container and python restarted.
func BenchmarkSaveToServedPythonSync(b *testing.B) { benchSaveToServedPython(b, true) }

func benchSaveToServedPython(b *testing.B, sync bool) {
	src, _ := os.ReadFile(filepath.Join("..", "testdata", "apps", "pyhello", "app.py"))
	benchSaveToServed(b, "pyhello", sync, func(e *apptest.Engine) string {
		e.Registry.Push(b, enginetest.Python(b), "library/python:3.11-slim")
		ref := e.Registry.Host + "/library/python:3.11-slim"
		if _, err := e.Core.Engine.Registry.Pull(context.Background(), ref, nil, nil); err != nil {
			b.Fatal(err)
		}
		return ref
	}, "app.py",
		func(i int) string {
			return strings.Replace(string(src), `MESSAGE = "Hello from Berth!"`, fmt.Sprintf(`MESSAGE = "edit %d"`, i), 1)
		},
		func(body string, i int) bool { return body == fmt.Sprintf("edit %d\n", i) })
}
