package views

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
)

func TestSearchFindsPicksTagsAndPulls(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t)
	e.Registry.Push(t, mustImage(t), "library/busybox:1.37")
	var pulled, ran string
	p := NewSearchPanel(app.NewSearch(e.Conn.Registry(), "docker.io"), func(r string) { pulled = r }, func(r string) { ran = r })
	w := test.NewTempWindow(t, p.Object)
	_ = w
	test.Type(p.Query, e.Registry.Host+"/busy")
	test.Tap(p.Go)
	waitUI(t, "results", func() bool { return len(p.ResultNames()) == 1 })
	if p.ResultNames()[0] != e.Registry.Host+"/library/busybox" || !strings.Contains(p.Status.Text, "1 images") {
		t.Fatalf("results %v, status %q", p.ResultNames(), p.Status.Text)
	}
	if !p.Pull.Disabled() {
		t.Fatal("Pull enabled before a pick")
	}
	p.Results.Select(0)
	waitUI(t, "tags", func() bool { return len(p.Tags.Options) == 2 })
	if p.Tags.Selected != "1.37" {
		t.Fatalf("tags %v, selected %q", p.Tags.Options, p.Tags.Selected)
	}
	p.Tags.SetSelected("1.36")
	test.Tap(p.Pull)
	test.Tap(p.Run)
	if want := e.Registry.Host + "/library/busybox:1.36"; pulled != want || ran != want {
		t.Fatalf("pull %q run %q", pulled, ran)
	}
	p.Query.SetText("")
	test.Tap(p.Go)
	waitUI(t, "the empty-query message", func() bool { return strings.Contains(p.Status.Text, "type what to look for") })
}

func TestContainersPanelRunsAndControls(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := e.Conn.Registry().Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	state := app.NewContainers(e.Conn.Containers())
	go app.Follow(ctx, e.Conn.Events(), nil, state)
	w := test.NewTempWindow(t, nil)
	p := NewContainersPanel(state, w)
	w.SetContent(p.Object)
	if !p.Empty.Visible() {
		t.Fatal("no empty-state hint")
	}
	var started string
	d := ShowRun(state, e.BusyboxRef, w, func(id string) { started = id })
	d.Name.SetText("web")
	d.Ports.SetText("127.0.0.1:0:8080")
	d.Command.SetText("mkdir /www && echo hi > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www")
	test.Tap(buttonIn(topOverlay(w), "Run"))
	waitUI(t, "the container in the list", func() bool { return started != "" && len(p.Items()) == 1 })
	c := p.Items()[0]
	if c.Name != "web" || c.State.Status != engine.StatusRunning || !strings.HasPrefix(Ports(c), "127.0.0.1:") || !strings.HasPrefix(Uptime(c, time.Now()), "Up") {
		t.Fatalf("row %+v (%q, %q)", c, Ports(c), Uptime(c, time.Now()))
	}
	p.List.Select(0)
	if p.Buttons["Start"].Disabled() == false || p.Buttons["Stop"].Disabled() || p.Buttons["Open in browser"].Disabled() {
		t.Fatal("buttons do not follow the running state")
	}
	waitUI(t, "CPU and memory", func() bool { return strings.Contains(p.Stats.Text, "memory") })
	test.Tap(p.Buttons["Stop"])
	waitUI(t, "the stop", func() bool { return len(p.Items()) == 1 && p.Items()[0].State.Status == engine.StatusExited })
	p.ShowAll.SetChecked(false)
	waitUI(t, "stopped containers hidden", func() bool { return len(p.Items()) == 0 })
	p.ShowAll.SetChecked(true)
	waitUI(t, "stopped containers shown again", func() bool { return len(p.Items()) == 1 })
	p.List.Select(0)
	test.Tap(p.Buttons["Remove"])
	test.Tap(buttonIn(topOverlay(w), "Yes"))
	waitUI(t, "the removal", func() bool { return len(p.Items()) == 0 })

	// A bad port in the Run dialog is explained, nothing is created.
	ShowRun(state, e.BusyboxRef, w, nil).Ports.SetText("80:http")
	test.Tap(buttonIn(topOverlay(w), "Run"))
	waitUI(t, "the error dialog", func() bool { return buttonIn(topOverlay(w), "OK") != nil })
	if list, _ := e.Conn.Containers().List(ctx, true); len(list) != 0 {
		t.Fatalf("a bad Run created %v", list)
	}
}

func TestEditorPanelValidatesBuildsAndExplores(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t)
	ctx := context.Background()
	if _, err := e.Conn.Registry().Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Conn.Client.Tag(ctx, e.BusyboxRef, "busybox:1.36")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nWORKDIR /www\nCOPY index.html .\nCMD httpd -f -h /www\n"), 0o644)

	ed := app.NewEditor("")
	ed.Debounce = 10 * time.Millisecond
	w := test.NewTempWindow(t, nil)
	var built engine.BuildResult
	p := NewEditorPanel(ed, &app.BuildLog{}, e.Conn.Builder(), app.NewContainers(e.Conn.Containers()), w, func(r engine.BuildResult) { built = r })
	w.SetContent(p.Object)
	p.Open(dir)
	pump()
	if p.Text.Text == "" || p.Tag.Text == "" || !strings.HasSuffix(p.File.Text, "Dockerfile") {
		t.Fatalf("open: text %q tag %q file %q", p.Text.Text, p.Tag.Text, p.File.Text)
	}
	// Typing a broken line shows a problem marker and a fix.
	p.Text.SetText(p.Text.Text + "RUNN echo\n")
	waitUI(t, "the typo's diagnostic", func() bool {
		for _, d := range p.Diagnostics() {
			if d.Rule == "UnknownInstruction" && d.Line == 5 {
				return true
			}
		}
		return false
	})
	if !strings.Contains(p.Gutter.String(), "●   5") {
		t.Fatalf("gutter has no error marker on line 5:\n%s", p.Gutter.String())
	}
	for i, d := range p.Diagnostics() {
		if d.Rule == "UnknownInstruction" {
			p.Problems.Select(i)
		}
	}
	if p.Fix.Disabled() || p.Fix.Text != "Change to RUN" {
		t.Fatalf("fix button %q disabled=%v", p.Fix.Text, p.Fix.Disabled())
	}
	test.Tap(p.Fix)
	if !strings.Contains(p.Text.Text, "RUN echo") {
		t.Fatalf("fix not applied: %q", p.Text.Text)
	}
	// The side note follows the cursor.
	p.goToLine(3)
	if !strings.Contains(p.Note.Text, "COPY") || !strings.Contains(p.Note.Text, "adds layer 2") {
		t.Fatalf("note %q", p.Note.Text)
	}
	p.Tag.SetText("site:dev")
	test.Tap(p.Build)
	waitUI(t, "the build", func() bool { return built.ImageID != "" })
	if len(p.steps) != 5 || p.steps[4].State != app.StepDone || !strings.Contains(p.LogStatus.Text, "Built") {
		t.Fatalf("log %+v, status %q", p.steps, p.LogStatus.Text)
	}

	// The Layers panel explores what was built.
	images := app.NewImages(e.Conn.Images(), e.Conn.Registry())
	lp := NewLayersPanel(e.Conn.Client, images)
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

func TestEditorWatchToggleRebuildsAndKeepsRunning(t *testing.T) {
	e := apptest.Start(t)
	test.NewTempApp(t)
	ctx := context.Background()
	if _, err := e.Conn.Registry().Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Conn.Client.Tag(ctx, e.BusyboxRef, "busybox:1.36")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("first\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nCOPY index.html /www/\nCMD [\"sh\", \"-c\", \"echo serving; exec httpd -f -p 8080 -h /www\"]\n"), 0o644)
	ed := app.NewEditor("")
	ed.Debounce = 50 * time.Millisecond
	w := test.NewTempWindow(t, nil)
	p := NewEditorPanel(ed, &app.BuildLog{}, e.Conn.Builder(), app.NewContainers(e.Conn.Containers()), w, nil)
	w.SetContent(p.Object)
	p.Open(dir)
	pump()
	port := freePort(t)
	p.Tag.SetText("watched:dev")
	p.RunPorts.SetText(fmt.Sprintf("127.0.0.1:%d:8080", port))
	p.KeepRunning.SetChecked(true)
	p.Watch.SetChecked(true)
	t.Cleanup(func() { p.Watch.SetChecked(false); e.Conn.Containers().Remove(ctx, "watched-dev", true, false) })
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
	if list, _ := e.Conn.Containers().List(ctx, true); len(list) != 1 {
		t.Fatalf("%d containers: the old one was not replaced", len(list))
	}

	// A broken Dockerfile: the old container keeps serving, the status says why.
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nCOPY missing.html /www/\n"), 0o644)
	waitUI(t, "the failure in the status", func() bool { return strings.Contains(p.WatchStatus.Text, "last build failed") })
	if got := httpGet(url); got != "second\n" {
		t.Fatalf("after a failed build the container answers %q", got)
	}
	p.Watch.SetChecked(false)
	if p.Watching() != nil {
		t.Fatal("the watch did not stop")
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func httpGet(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
