package views

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

// Views over a real engine (berthd, root): what the fake engine cannot
// show, real layers and a container serving HTTP.

// On a real engine: the editor builds, and the Layers panel shows what
// each step of the build really wrote.
func TestEditorPanelBuildsAndExplores(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t)
	ctx := context.Background()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Core.Engine.Images.Tag(ctx, e.BusyboxRef, "busybox:1.36")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nWORKDIR /www\nCOPY index.html .\nCMD httpd -f -h /www\n"), 0o644)

	ed := app.NewEditor("")
	ed.Debounce = 10 * time.Millisecond
	w := test.NewTempWindow(t, nil)
	var built engine.BuildResult
	p := NewEditorPanel(e.Core, ed, &app.BuildLog{}, w, func(r engine.BuildResult) { built = r })
	w.SetContent(p.Object)
	p.Open(dir)
	pump()
	if p.Text.Text == "" || p.Tag.Text == "" || !strings.HasSuffix(p.File.Text, "Dockerfile") {
		t.Fatalf("open: text %q tag %q file %q", p.Text.Text, p.Tag.Text, p.File.Text)
	}
	checkEditorValidates(t, p)
	p.Tag.SetText("site:dev")
	test.Tap(p.Build)
	waitUI(t, "the build", func() bool { return built.ImageID != "" })
	if len(p.steps) != 5 || p.steps[4].State != app.StepDone || !strings.Contains(p.LogStatus.Text, "Built") {
		t.Fatalf("log %+v, status %q", p.steps, p.LogStatus.Text)
	}

	// The Layers panel explores what was built.
	lp := NewLayersPanel(e.Core)
	test.NewTempWindow(t, lp.Object)
	lp.Show("site:dev")
	waitUI(t, "the layers", func() bool { return lp.Model() != nil && len(lp.Rows()) > 0 })
	m := lp.Model()
	// RUN echo changed no file: no layer, as in Docker.
	if len(m.Layers) != 3 || !strings.Contains(lp.Efficiency.Text, "3 layers") {
		t.Fatalf("layers %+v, %q", m.Layers, lp.Efficiency.Text)
	}
	lp.List.Select(1) // WORKDIR /www
	if _, ok := lp.Rows()["www/index.html"]; ok {
		t.Fatalf("the WORKDIR layer holds index.html: %+v", lp.Rows())
	}
	lp.List.Select(2) // COPY index.html
	if r := lp.Rows()["www/index.html"]; r.Change != "added" || r.Size != 6 {
		t.Fatalf("COPY layer rows %+v", lp.Rows())
	}
	lp.Merged.SetChecked(true)
	if r := lp.Rows()["bin/busybox"]; r.Change != "unchanged" {
		t.Fatalf("merged view lacks the base's files: %+v", r)
	}
	lp.Search.SetText("index")
	if len(lp.Rows()) != 2 { // www and www/index.html
		t.Fatalf("search rows %+v", lp.Rows())
	}
}

// On a real engine: Watch rebuilds on every save and keeps the new
// container serving; with Sync saves, a save is copied into the container,
// which restarts, and its new output follows.
func TestEditorWatchToggleRebuildsAndKeepsRunning(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t)
	ctx := context.Background()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Core.Engine.Images.Tag(ctx, e.BusyboxRef, "busybox:1.36")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("first\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nCOPY index.html /www/\nCMD [\"sh\", \"-c\", \"echo serving; exec httpd -f -p 8080 -h /www\"]\n"), 0o644)
	ed := app.NewEditor("")
	ed.Debounce = 50 * time.Millisecond
	w := test.NewTempWindow(t, nil)
	p := NewEditorPanel(e.Core, ed, &app.BuildLog{}, w, nil)
	w.SetContent(p.Object)
	p.Open(dir)
	pump()
	port := enginetest.FreePort(t)
	p.Tag.SetText("watched:dev")
	p.RunPorts.SetText(fmt.Sprintf("127.0.0.1:%d:8080", port))
	p.KeepRunning.SetChecked(true)
	p.Sync.SetChecked(false)
	p.Watch.SetChecked(true)
	t.Cleanup(func() { p.Watch.SetChecked(false); e.Core.Engine.Containers.Remove(ctx, "watched-dev", true, false) })
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitUI(t, "the first build to serve", func() bool { return httpGet(url) == "first\n" })
	waitUI(t, "the status", func() bool {
		return strings.Contains(p.WatchStatus.Text, "Watching 2 files") && strings.Contains(p.WatchStatus.Text, "last build ok")
	})

	os.WriteFile(filepath.Join(dir, "index.html"), []byte("second\n"), 0o644)
	waitUI(t, "the rebuilt container to serve", func() bool { return httpGet(url) == "second\n" })
	waitUI(t, "its output in the panel", func() bool {
		return strings.Count(p.AppLogText(), "new container") == 2 && strings.Count(p.AppLogText(), "serving") == 2
	})
	if list, _ := e.Core.Engine.Containers.List(ctx, true); len(list) != 1 {
		t.Fatalf("%d containers: the old one was not replaced", len(list))
	}

	p.Watch.SetChecked(false)
	p.Sync.SetChecked(true)
	p.Watch.SetChecked(true)
	waitUI(t, "the build on the watch's start", func() bool { return strings.Count(p.AppLogText(), "new container") == 3 })
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("third\n"), 0o644)
	waitUI(t, "the synced page", func() bool { return httpGet(url) == "third\n" })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("status %q\noutput:\n%s", p.WatchStatus.Text, p.AppLogText())
		}
	})
	waitUI(t, "the sync in the status and the restart's output", func() bool {
		return strings.Contains(p.WatchStatus.Text, "synced index.html at ") && strings.Contains(p.WatchStatus.Text, "restarted") &&
			strings.Count(p.AppLogText(), "synced and restarted") == 1 && strings.Count(p.AppLogText(), "serving") == 4
	})
	waitUI(t, "the image brought up to date", func() bool { return strings.Contains(p.WatchStatus.Text, "image up to date") })

	// A broken Dockerfile: the old container keeps serving, the status says why.
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nCOPY missing.html /www/\n"), 0o644)
	waitUI(t, "the failure in the status", func() bool { return strings.Contains(p.WatchStatus.Text, "last build failed") })
	if got := httpGet(url); got != "third\n" {
		t.Fatalf("after a failed build the container answers %q", got)
	}
	p.Watch.SetChecked(false)
	if p.Watching() != nil {
		t.Fatal("the watch did not stop")
	}
}

// A terminal into a running container, on a real engine: typed input runs
// in the container and its output is drawn; the process's terminal
// follows the window's size; closing the window hangs the shell up.
func TestTerminalIntoAContainer(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t).Settings().SetTheme(theme.DefaultTheme())
	ctx := context.Background()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	cc := e.Core.Engine.Containers
	id, _ := cc.Create(ctx, engine.ContainerSpec{Name: "termed", Image: e.BusyboxRef, Cmd: []string{"sleep", "1000"}})
	if err := cc.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	defer cc.Remove(ctx, id, true, false)
	ct, _ := cc.Inspect(ctx, id)
	tw := ShowTerminal(e.Core, ct)
	waitUI(t, "the shell", func() bool { return strings.HasPrefix(tw.Status.Text, "A shell in termed") })
	typeLine := func(line string) {
		for _, r := range line {
			tw.Term.TypedRune(r)
		}
		tw.Term.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	}
	typeLine("echo round-$((40+2))-trip")
	waitUI(t, "the echo", func() bool { return strings.Contains(tw.Term.Text(), "round-42-trip") })
	tw.Win.Resize(fyne.NewSize(1000, 700))
	time.Sleep(200 * time.Millisecond)
	typeLine("stty size")
	waitUI(t, "the size", func() bool {
		for _, l := range strings.Split(tw.Term.Text(), "\n") {
			var r, c int
			if n, _ := fmt.Sscanf(strings.TrimSpace(l), "%d %d", &r, &c); n == 2 && r > 24 && c > 80 {
				return true
			}
		}
		return false
	})
	savePicture(t, "terminal", tw.Win)
	tw.Win.Close()
	waitUI(t, "the hung-up shell to end", func() bool { return strings.HasPrefix(tw.Status.Text, "The shell ended") })

	// A shell that exits leaves its window to be read; Escape then closes it.
	tw = ShowTerminal(e.Core, ct)
	waitUI(t, "the second shell", func() bool { return strings.HasPrefix(tw.Status.Text, "A shell in termed") })
	typeLine("exit 3")
	waitUI(t, "the shell to end", func() bool { return strings.HasPrefix(tw.Status.Text, "The shell ended with exit code 3") })
	escapeCloses(t, tw.Win)
}

// escapeCloses presses Escape in w, with nothing focused, and checks that
// w closed.
func escapeCloses(t *testing.T, w fyne.Window) {
	t.Helper()
	if w.Canvas().Focused() != nil {
		t.Fatalf("%s: %T keeps the focus, so Escape would not reach the window", w.Title(), w.Canvas().Focused())
	}
	if on := w.Canvas().OnTypedKey(); on != nil {
		on(&fyne.KeyEvent{Name: fyne.KeyEscape})
	}
	if slices.Contains(fyne.CurrentApp().Driver().AllWindows(), w) {
		t.Fatalf("Escape left %q open", w.Title())
	}
}

// A container's details on a real engine: what it runs, its port, mount
// and environment; its processes; the file it wrote; its CPU and memory
// drawn as they come.
func TestContainerDetailWindow(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t).Settings().SetTheme(theme.DefaultTheme())
	ctx := context.Background()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	cc := e.Core.Engine.Containers
	port := enginetest.FreePort(t)
	id, err := cc.Create(ctx, engine.ContainerSpec{Name: "detailed", Image: e.BusyboxRef, Env: []string{"MODE=dev"},
		Cmd:    []string{"sh", "-c", "echo hi > /new.txt; exec sleep 1000"},
		Ports:  []engine.PortBinding{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80}},
		Mounts: []engine.Mount{{Type: "volume", Source: "detail-data", Target: "/data"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	defer cc.Remove(ctx, id, true, true)
	ct, _ := cc.Inspect(ctx, id)
	d := ShowContainerDetail(e.Core, ct)
	overview := func() string {
		var b strings.Builder
		for _, it := range d.Overview.Items {
			b.WriteString(it.Text + ": " + it.Widget.(*widget.Label).Text + "\n")
		}
		return b.String()
	}
	for _, want := range []string{"Image: " + e.BusyboxRef, "Command: sh -c echo hi > /new.txt; exec sleep 1000", fmt.Sprintf("Ports: 127.0.0.1:%d -> 80/tcp", port), "Mounts: volume detail-data -> /data"} {
		if !strings.Contains(overview(), want) {
			t.Errorf("the overview lacks %q:\n%s", want, overview())
		}
	}
	if !strings.Contains(d.Env.Text, "MODE=dev") {
		t.Errorf("environment: %q", d.Env.Text)
	}
	d.Tabs.SelectIndex(2)
	waitUI(t, "the processes", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, p := range d.processes.Processes {
			if strings.Contains(strings.Join(p, " "), "sleep 1000") {
				return true
			}
		}
		return false
	})
	d.Tabs.SelectIndex(3)
	waitUI(t, "the file changes", func() bool { return strings.Contains(d.Files.Text, "added /new.txt") })
	d.Tabs.SelectIndex(4)
	waitUI(t, "the usage graph", func() bool { return strings.HasPrefix(d.Usage.Text, "CPU ") && len(d.Mem.Values()) >= 2 })
	d.Tabs.SelectIndex(0)
	savePicture(t, "container-detail", d.Win)
	escapeCloses(t, d.Win)

	logs := ShowLogs(e.Core, ct, d.Win)
	escapeCloses(t, logs)
}
