package views

import (
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/berth-dev/berth/app/apptest"
)

var updateDocs = flag.Bool("update-docs", false, "write the build insight screenshots into docs/screenshots")

// The build insight, on a real engine in the whole window, step by step
// as a person meets it: why steps reran and what each line cost, a layer
// and its line, the cache-order fix's saving, Watch's hot sync and its size
// guard. Each step is checked in the widgets and drawn (Fyne's own
// painter) to views/testdata/screenshots, or with -update-docs to
// docs/screenshots, for docs/insight.md.
func TestBuildInsightScreens(t *testing.T) {
	e := apptest.Start(t) // BERTH_HOST names it: the window's default Open reaches it
	ctx := context.Background()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.Core.Engine.Images.Tag(ctx, e.BusyboxRef, "busybox:1.36")
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	w := Start(a, Options{SettingsPath: settings})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	defer w.Win.Close()
	w.Win.Resize(fyne.NewSize(1024, 700))
	shot := func(name string) { savePicture(t, name, w.Win) }

	dir := t.TempDir()
	write := func(name, text string) { os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644) }
	// pip is a stand-in that takes 0.3 s, as an install does.
	write("Dockerfile", `FROM busybox:1.36
RUN printf '#!/bin/sh\nsleep 0.3\n' > /bin/pip && chmod +x /bin/pip
RUN head -c 3000000 /dev/zero > /data.bin
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/app"]
`)
	write("requirements.txt", "flask\n")
	write("index.html", "<h1>one</h1>\n")
	ed := w.Editor
	ed.Open(dir)
	ed.Tag.SetText("insight:dev")
	build := func() {
		t.Helper()
		before := ed.LogStatus.Text
		test.Tap(ed.Build)
		waitUI(t, "the build", func() bool {
			return !ed.Build.Disabled() && ed.LogStatus.Text != before && !strings.HasPrefix(ed.LogStatus.Text, "Building")
		})
		if !strings.HasPrefix(ed.LogStatus.Text, "Built") {
			t.Fatalf("build: %s", ed.LogStatus.Text)
		}
	}
	build()
	write("index.html", "<h1>two</h1>\n")
	build()
	w.ShowTab(TabBuild)
	ed.goToLine(3)
	waitUI(t, "the layers of the build", func() bool { m := w.Layers.Model(); return m != nil && len(m.Layers) > 2 })
	ed.goToLine(3)
	if !strings.Contains(ed.Costs.String(), "/data.bin") || !strings.Contains(ed.Note.Text, "biggest: /data.bin (3MB)") {
		t.Errorf("line 3's cost: margin %q, note %q", ed.Costs.String(), ed.Note.Text)
	}
	if reasons := stepReasons(ed); !strings.Contains(reasons, "index.html changed") {
		t.Errorf("why the steps reran: %s", reasons)
	}
	ed.Log.ScrollTo(3) // the COPY that reran, and why
	shot("insight-reran")

	w.ShowTab(TabLayers)
	if !strings.HasPrefix(w.Layers.ToLine.Text, "Show line 3") {
		t.Errorf("line 3 selected the layer with button %q", w.Layers.ToLine.Text)
	}
	shot("insight-layers")

	w.ShowTab(TabBuild)
	fixed := false
	for i, d := range ed.Diagnostics() {
		if d.Rule == "CopyAllBeforeInstall" {
			ed.Problems.Select(i)
			test.Tap(ed.Fix)
			fixed = true
		}
	}
	if !fixed {
		t.Fatalf("no cache-order problem among %+v", ed.Diagnostics())
	}
	build()
	write("index.html", "<h1>three</h1>\n")
	build()
	if !strings.Contains(ed.LogStatus.Text, "The reordered Dockerfile saved ") {
		t.Errorf("after the fix and two builds: %q", ed.LogStatus.Text)
	}
	shot("insight-reorder")

	ed.KeepRunning.SetChecked(true)
	ed.RunPorts.SetText("127.0.0.1:0:8080")
	ed.Watch.SetChecked(true)
	t.Cleanup(func() { ed.Watch.SetChecked(false) })
	waitUI(t, "the watch's build", func() bool { return strings.Contains(ed.WatchStatus.Text, "last build ok") })
	write("index.html", "<h1>four</h1>\n")
	waitUI(t, "the sync", func() bool {
		return strings.Contains(ed.WatchStatus.Text, "synced index.html") || strings.Contains(ed.WatchStatus.Text, "not synced")
	})
	if !strings.Contains(ed.WatchStatus.Text, "synced index.html") {
		t.Fatalf("the save was not synced: %s", ed.WatchStatus.Text)
	}
	waitUI(t, "the image brought up to date", func() bool { return strings.Contains(ed.WatchStatus.Text, "image up to date") })
	shot("insight-sync")

	src, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	write("Dockerfile", strings.Replace(string(src), "head -c 3000000", "head -c 15000000", 1))
	waitUI(t, "the size guard", func() bool { return strings.Contains(ed.WatchStatus.Text, "+12MB: RUN head -c 15000000") })
	ed.ed.Open(filepath.Join(dir, "Dockerfile")) // the editor shows the file as saved
	ed.Text.SetText(ed.ed.Text())
	shot("insight-sizeguard")
	ed.Watch.SetChecked(false)
	e.Core.Engine.Containers.Remove(ctx, "insight-dev", true, false)
}

// stepReasons are the build log's steps with why they reran, one a line.
func stepReasons(p *EditorPanel) string {
	var b strings.Builder
	for _, s := range p.steps {
		b.WriteString(s.Instruction + " — " + s.Reason + "\n")
	}
	return b.String()
}

// distinctColours counts the colours of a picture, up to 64: a blank
// one has one or two.
func distinctColours(img image.Image) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 64; y += 3 {
		for x := b.Min.X; x < b.Max.X && len(seen) < 64; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	return len(seen)
}

// savePicture draws win with Fyne's painter into views/testdata/screenshots
// (or, with -update-docs, docs/screenshots) as name.png, after a check that
// the picture is not blank.
func savePicture(t *testing.T, name string, win fyne.Window) {
	t.Helper()
	pump()
	win.Content().Refresh() // a label that wrapped anew takes its height on the next layout, as a frame would
	img := win.Canvas().Capture()
	if distinctColours(img) < 8 {
		t.Fatalf("%s: the picture is blank", name)
	}
	dir := filepath.Join("testdata", "screenshots")
	if *updateDocs {
		dir = filepath.Join("..", "docs", "screenshots")
	}
	os.MkdirAll(dir, 0o755)
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
