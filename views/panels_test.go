package views

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func TestSearchFindsPicksTagsAndPulls(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	const host = "127.0.0.1:5000"
	fake.Publish(host+"/library/busybox:1.36", smallImage(t))
	fake.Publish(host+"/library/busybox:1.37", smallImage(t))
	var pulled, ran string
	p := NewSearchPanel(core, func(r string) { pulled = r }, func(r string) { ran = r })
	w := test.NewTempWindow(t, p.Object)
	w.Resize(fyne.NewSize(800, 600))
	test.Type(p.Query, host+"/busy")
	test.Tap(p.Go)
	waitUI(t, "results", func() bool { return len(p.ResultNames()) == 1 })
	if p.ResultNames()[0] != host+"/library/busybox" || p.Status.Text != "1 image in "+host+". Pick one, then a tag." {
		t.Fatalf("results %v, status %q", p.ResultNames(), p.Status.Text)
	}
	// A registry's catalog has no descriptions: the row is one line tall.
	row := find(p.Results, func(o fyne.CanvasObject) bool {
		c, ok := o.(*fyne.Container)
		if !ok || len(c.Objects) != 2 {
			return false
		}
		vb, ok := c.Objects[0].(*fyne.Container)
		if !ok || len(vb.Objects) != 2 {
			return false
		}
		l, ok := vb.Objects[0].(*widget.Label)
		return ok && l.Text == host+"/library/busybox"
	})
	if row == nil {
		t.Fatal("the result's row is not drawn")
	}
	if h, line := row.Size().Height, widget.NewLabel("x").MinSize().Height; h > line+1 {
		t.Errorf("a result with no description is %.0f tall, more than a line (%.0f)", h, line)
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
	if want := host + "/library/busybox:1.36"; pulled != want || ran != want {
		t.Fatalf("pull %q run %q", pulled, ran)
	}
	p.Query.SetText("")
	test.Tap(p.Go)
	waitUI(t, "the empty-query message", func() bool { return strings.Contains(p.Status.Text, "type what to look for") })
}

func TestContainersPanelRunsAndControls(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	const ref = "busybox:1.36"
	fake.Store(ref, smallImage(t))
	go app.Follow(core.Context(), fake, nil, core.Containers)
	w := test.NewTempWindow(t, nil)
	p := NewContainersPanel(core, w)
	w.SetContent(p.Object)
	w.Resize(fyne.NewSize(900, 500))
	if !p.Empty.Visible() {
		t.Fatal("no empty-state hint")
	}
	assertCentred(t, p.Empty, w)
	var started string
	d := ShowRun(core, ref, w, func(id string) { started = id })
	d.Name.SetText("web")
	d.Ports.SetText("127.0.0.1:8081:8080")
	d.Command.SetText("httpd -f -p 8080")
	test.Tap(buttonIn(topOverlay(w), "Run"))
	waitUI(t, "the container in the list", func() bool { return started != "" && len(p.Items()) == 1 })
	c := p.Items()[0]
	if c.Name != "web" || c.State.Status != engine.StatusRunning || Ports(c) != "127.0.0.1:8081->8080/tcp" || !strings.HasPrefix(Uptime(c, time.Now()), "Up") {
		t.Fatalf("row %+v (%q, %q)", c, Ports(c), Uptime(c, time.Now()))
	}
	p.List.Select(0)
	if p.Buttons["Start"].Disabled() == false || p.Buttons["Stop"].Disabled() || p.Buttons["Open in browser"].Disabled() {
		t.Fatal("buttons do not follow the running state")
	}
	waitUI(t, "CPU and memory", func() bool { return strings.Contains(p.Stats.Text, "memory 4.19MB") })
	// Inspect reads as a form (the image it runs, its port), raw JSON folded below.
	test.Tap(p.Buttons["Inspect"])
	waitUI(t, "Inspect", func() bool { return topOverlay(w) != nil })
	if find(topOverlay(w), func(o fyne.CanvasObject) bool { l, ok := o.(*widget.Label); return ok && l.Text == ref }) == nil ||
		find(topOverlay(w), func(o fyne.CanvasObject) bool {
			a, ok := o.(*widget.Accordion)
			return ok && a.Items[0].Title == "Ports (1 port)"
		}) == nil {
		t.Error("Inspect does not read as the container's details (its image, its port)")
	}
	closeTopDialog(w)
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
	ShowRun(core, ref, w, nil).Ports.SetText("80:http")
	test.Tap(buttonIn(topOverlay(w), "Run"))
	waitUI(t, "the error dialog", func() bool { return buttonIn(topOverlay(w), "OK") != nil })
	if list, _ := core.Engine.Containers.List(ctx, true); len(list) != 0 {
		t.Fatalf("a bad Run created %v", list)
	}
}

// The editor validates as the user types, offers fixes, explains the line
// under the cursor, and builds with a step-by-step log.
func TestEditorPanelValidatesAndBuilds(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	fake.Store("busybox:1.36", smallImage(t))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\nWORKDIR /www\nCOPY index.html .\nCMD httpd -f -h /www\n"), 0o644)

	ed := app.NewEditor("")
	ed.Debounce = 10 * time.Millisecond
	w := test.NewTempWindow(t, nil)
	var built engine.BuildResult
	p := NewEditorPanel(core, ed, &app.BuildLog{}, w, func(r engine.BuildResult) { built = r })
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
	if _, err := fake.Inspect(context.Background(), "site:dev"); err != nil {
		t.Fatalf("the build's tag: %v", err)
	}
	// Each instruction's cost stands beside it: its time on its own line.
	costs := strings.Split(p.Costs.String(), "\n")
	layers := 0
	for _, s := range p.steps {
		if s.LayerSize > 0 {
			layers++
		}
	}
	if len(costs) < 5 || costs[0] != "" || costs[2] != "17B 1ms /step-3" || strings.Count(p.Costs.String(), "1ms") != layers {
		t.Errorf("the costs beside the lines (%d layers): %q", layers, costs)
	}
	if !strings.Contains(p.LogStatus.Text, "Built site:dev (") {
		t.Errorf("the build's status %q does not name the image it made", p.LogStatus.Text)
	}
}

func TestStepCost(t *testing.T) {
	for _, tc := range []struct {
		s    app.BuildStep
		want string
	}{
		{app.BuildStep{State: app.StepDone, LayerSize: 12_000_000, Duration: 1400 * time.Millisecond}, "12MB 1.4s"},
		{app.BuildStep{State: app.StepDone, Duration: 850 * time.Millisecond}, "850ms"},
		{app.BuildStep{State: app.StepDone, Duration: 2 * time.Millisecond}, ""},
		{app.BuildStep{State: app.StepCached, LayerSize: 5}, "cached"},
		{app.BuildStep{State: app.StepDone, LayerSize: 3_000_000, Duration: time.Second, Biggest: []engine.PathSize{{Path: "/big", Size: 3_000_000}}}, "3MB 1s /big"},
		{app.BuildStep{State: app.StepCached, Biggest: []engine.PathSize{{Path: "/usr/local/lib/python3.11/site-packages/numpy/core/_multiarray_umath.so", Size: 1}}}, "cached …/_multiarray_umath.so"},
		{app.BuildStep{State: app.StepRunning}, ""},
	} {
		if got := stepCost(tc.s); got != tc.want {
			t.Errorf("stepCost(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

// checkEditorValidates types a broken line into the editor: a problem
// marker and a fix appear, the fix applies, and the side note follows the
// cursor.
func checkEditorValidates(t *testing.T, p *EditorPanel) {
	t.Helper()
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
	if first := p.Diagnostics()[0]; first.Severity != engine.SeverityError {
		t.Errorf("the problems list starts with a%s %s, not the error", map[bool]string{true: "n"}[first.Severity == engine.SeverityInfo], first.Severity)
	}
	for i, d := range p.Diagnostics() {
		if d.Rule == "UnknownInstruction" {
			p.Problems.Select(i)
			if !strings.Contains(p.Note.Text, d.Message) {
				t.Errorf("the selected problem's note %q does not read its whole message %q", p.Note.Text, d.Message)
			}
		}
	}
	if p.Fix.Disabled() || p.Fix.Text != "Change to RUN" {
		t.Fatalf("fix button %q disabled=%v", p.Fix.Text, p.Fix.Disabled())
	}
	test.Tap(p.Fix)
	if !strings.Contains(p.Text.Text, "RUN echo") {
		t.Fatalf("fix not applied: %q", p.Text.Text)
	}
	waitUI(t, "the note to leave the fixed problem", func() bool { return !strings.Contains(p.Note.Text, "RUNN") })
	p.goToLine(3)
	if !strings.Contains(p.Note.Text, "COPY") || !strings.Contains(p.Note.Text, "adds layer 2") {
		t.Fatalf("note %q", p.Note.Text)
	}
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

// A container started after the selected one lists above it: the
// highlight follows the selected container, as Stop and Remove do.
func TestContainersHighlightFollowsTheSelectedContainer(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	fake.Store("busybox:1.36", smallImage(t))
	go app.Follow(core.Context(), fake, nil, core.Containers)
	w := test.NewTempWindow(t, nil)
	p := NewContainersPanel(core, w)
	w.SetContent(p.Object)
	run := func(name string) {
		if _, err := core.Containers.Run(ctx, app.RunOptions{Image: "busybox:1.36", Name: name, Command: "sleep 300"}); err != nil {
			t.Fatal(err)
		}
	}
	run("first")
	waitUI(t, "the first container", func() bool { return len(p.Items()) == 1 })
	highlighted := -1
	onSelected := p.List.OnSelected
	p.List.OnSelected = func(i widget.ListItemID) { highlighted = i; onSelected(i) }
	p.List.Select(0)
	time.Sleep(10 * time.Millisecond) // newer by the clock: it lists first
	run("second")
	waitUI(t, "the second container", func() bool { return len(p.Items()) == 2 })
	sel, ok := p.Selected()
	if !ok || sel.Name != "first" {
		t.Fatalf("the selection moved to %+v", sel)
	}
	if highlighted < 0 || p.Items()[highlighted].Name != "first" {
		t.Fatalf("the highlight is on row %d, the actions' target is %q", highlighted, sel.Name)
	}
}

// Uptimes go on counting with no engine event, and a stopped container's
// line says why it stopped instead of its last figures.
func TestContainersStatusIsLive(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	fake.Store("busybox:1.36", smallImage(t))
	go app.Follow(core.Context(), fake, nil, core.Containers)
	w := test.NewTempWindow(t, nil)
	p := NewContainersPanel(core, w)
	w.SetContent(p.Object)
	w.Resize(sizeOf(900, 500))
	if _, err := core.Containers.Run(ctx, app.RunOptions{Image: "busybox:1.36", Name: "web", Command: "httpd -f"}); err != nil {
		t.Fatal(err)
	}
	waitUI(t, "the container", func() bool { return len(p.Items()) == 1 })
	uptime := func() string {
		l, _ := find(p.Object, func(o fyne.CanvasObject) bool {
			l, ok := o.(*widget.Label)
			return ok && strings.HasPrefix(l.Text, "Up ")
		}).(*widget.Label)
		if l == nil {
			return ""
		}
		return l.Text
	}
	started := p.now()
	p.now = func() time.Time { return started.Add(2*time.Minute + time.Second) }
	p.refreshUptimes()
	if got := uptime(); got != "Up 2 minutes" {
		t.Errorf("two minutes on, the list says %q", got)
	}
	p.List.Select(0)
	test.Tap(p.Buttons["Stop"])
	waitUI(t, "the stop", func() bool { return p.Items()[0].State.Status == engine.StatusExited })
	waitUI(t, "why it stopped", func() bool { return strings.Contains(p.Stats.Text, "web") && !strings.Contains(p.Stats.Text, "memory") })
}

func TestStoppedNote(t *testing.T) {
	exited := func(code int) engine.Container {
		return engine.Container{ID: "abc", Name: "web", State: engine.ContainerState{Status: engine.StatusExited, ExitCode: code}}
	}
	for _, tc := range []struct {
		c    engine.Container
		want string
	}{
		{exited(137), "must handle SIGTERM"},
		{exited(0), "finished"},
		{exited(2), "exited with code 2"},
		{engine.Container{ID: "abc", State: engine.ContainerState{Status: engine.StatusRunning}}, ""},
		{engine.Container{}, ""},
	} {
		if got := stoppedNote(tc.c); tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("stoppedNote(%+v) = %q, want it to say %q", tc.c.State, got, tc.want)
		}
	}
}

// The Run dialog offers the ports the image exposes, and Enter runs it.
func TestRunDialogOffersExposedPortsAndRunsOnEnter(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	img, err := mutate.Config(smallImage(t), v1.Config{ExposedPorts: map[string]struct{}{"8080/tcp": {}, "53/udp": {}}})
	if err != nil {
		t.Fatal(err)
	}
	fake.Store("web:1", img)
	w := test.NewTempWindow(t, nil)
	w.Resize(sizeOf(900, 600))
	var started string
	d := ShowRun(core, "web:1", w, func(id string) { started = id })
	waitUI(t, "the exposed ports", func() bool { return d.Ports.Text != "" })
	if d.Ports.Text != "53:53/udp, 8080:8080" && d.Ports.Text != "8080:8080, 53:53/udp" {
		t.Fatalf("ports offered: %q", d.Ports.Text)
	}
	d.Name.SetText("web")
	d.Name.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	waitUI(t, "the container Enter ran", func() bool { return started != "" })
}

func TestPortsFromExpose(t *testing.T) {
	if got := portsFromExpose([]string{"80/tcp", "53/udp", "9000"}); got != "80:80, 53:53/udp, 9000:9000" {
		t.Errorf("portsFromExpose = %q", got)
	}
}

// The Volumes panel lists volumes with size and users, creates one,
// refuses in words to remove one a container uses, and removes unused
// ones after asking.
func TestVolumesPanel(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	for _, name := range []string{"anon1", "busydata", "cache"} {
		fake.CreateVolume(ctx, name, nil)
	}
	w := test.NewTempWindow(t, nil)
	w.Resize(sizeOf(900, 600))
	p := NewVolumesPanel(core, w)
	w.SetContent(p.Object)
	waitUI(t, "the volumes", func() bool { return len(p.Items()) == 3 })
	if d := volumeDetail(p.Items()[1]); d != "1kB · used by 1 container" {
		t.Errorf("busydata's line: %q", d)
	}

	test.Tap(p.Buttons["Create…"])
	entry := find(topOverlay(w), func(o fyne.CanvasObject) bool { e, ok := o.(*escEntry); return ok && e.Visible() }).(*escEntry)
	entry.SetText("data")
	entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	waitUI(t, "the new volume", func() bool { return len(p.Items()) == 4 })

	p.List.Select(1) // busydata
	test.Tap(p.Buttons["Remove"])
	test.Tap(buttonIn(topOverlay(w), "Yes"))
	waitUI(t, "the refusal", func() bool { return buttonIn(topOverlay(w), "OK") != nil })
	if len(p.Items()) != 4 {
		t.Fatal("a volume in use was removed")
	}
	test.Tap(buttonIn(topOverlay(w), "OK"))

	test.Tap(p.Buttons["Remove unused…"])
	test.Tap(buttonIn(topOverlay(w), "Remove"))
	waitUI(t, "the anonymous volume gone", func() bool { return len(p.Items()) == 3 && strings.HasPrefix(p.Status.Text, "Removed 1 volume") })
}
