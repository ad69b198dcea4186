package views

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// DetailWindow is a container's details in a window of its own: what it
// runs and how it stands, its ports, mounts and networks, its
// environment, its processes, the files it changed, and its CPU and
// memory over the last minute.
type DetailWindow struct {
	Win       fyne.Window
	Tabs      *container.AppTabs
	Overview  *widget.Form
	Env       *widget.Label
	Processes *widget.Table
	Files     *widget.Label
	Usage     *widget.Label
	CPU, Mem  *sparkline

	core      *app.Core
	id        string
	mu        sync.Mutex
	processes engine.ProcessList
}

// usageSamples is how many samples the graphs keep: a minute, at one a
// second.
const usageSamples = 60

// ShowContainerDetail opens c's detail window.
func ShowContainerDetail(core *app.Core, c engine.Container) *DetailWindow {
	d := &DetailWindow{core: core, id: c.ID, Win: fyne.CurrentApp().NewWindow("Container — " + c.Name)}
	ctx, cancel := context.WithCancel(core.Context())
	d.Win.SetOnClosed(cancel)
	closeOnEscape(d.Win)

	d.Overview = widget.NewForm()
	d.Env = widget.NewLabel("")
	d.Env.Wrapping = fyne.TextWrapBreak
	d.Env.TextStyle.Monospace = true
	d.Files = widget.NewLabel("")
	d.Files.TextStyle.Monospace = true
	d.Processes = widget.NewTable(
		func() (int, int) {
			d.mu.Lock()
			defer d.mu.Unlock()
			return len(d.processes.Processes) + 1, len(d.processes.Titles)
		},
		func() fyne.CanvasObject { return widget.NewLabel("python3 app.py") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			d.mu.Lock()
			defer d.mu.Unlock()
			l := o.(*widget.Label)
			switch {
			case id.Row == 0 && id.Col < len(d.processes.Titles):
				l.SetText(d.processes.Titles[id.Col])
				l.TextStyle.Bold = true
			case id.Row > 0 && id.Row-1 < len(d.processes.Processes) && id.Col < len(d.processes.Processes[id.Row-1]):
				l.SetText(d.processes.Processes[id.Row-1][id.Col])
				l.TextStyle.Bold = false
			default:
				l.SetText("")
			}
		})
	d.Usage = widget.NewLabel("Waiting for the first figures…")
	d.CPU, d.Mem = newSparkline(theme.ColorNamePrimary), newSparkline(theme.ColorNameSuccess)
	usage := container.NewBorder(d.Usage, nil, nil, nil, container.NewGridWithRows(2,
		container.NewBorder(widget.NewLabel("CPU"), nil, nil, nil, d.CPU),
		container.NewBorder(widget.NewLabel("Memory"), nil, nil, nil, d.Mem)))

	logs := widget.NewButton("Logs", func() { ShowLogs(core, c, d.Win) })
	term := widget.NewButton("Terminal", func() { ShowTerminal(core, c) })
	if c.State.Status != engine.StatusRunning || core.Engine.Terminals == nil {
		term.Disable()
	}
	overview := container.NewBorder(nil, container.NewHBox(logs, term), nil, nil, container.NewVScroll(d.Overview))
	d.Tabs = container.NewAppTabs(
		container.NewTabItem("Overview", overview),
		container.NewTabItem("Environment", container.NewVScroll(d.Env)),
		container.NewTabItem("Processes", d.Processes),
		container.NewTabItem("Files", container.NewVScroll(d.Files)),
		container.NewTabItem("Usage", usage),
	)
	d.Tabs.OnSelected = func(t *container.TabItem) { go d.refreshTab(ctx, t.Text) }
	d.Win.SetContent(d.Tabs)
	d.Win.Resize(fyne.NewSize(760, 520))
	d.show(c)
	d.Win.Show()

	go func() { // the latest details: ports as published, networks as joined
		if fresh, err := core.Containers.Inspect(ctx, c.ID); err == nil {
			onMain(func() { d.show(fresh) })
		}
	}()
	if c.State.Status == engine.StatusRunning {
		history := app.NewUsageHistory(usageSamples)
		go core.Containers.FollowStats(ctx, c.ID, func(u app.Usage) {
			history.Add(u)
			samples := history.Samples()
			onMain(func() { d.showUsage(u, samples) })
		})
	} else {
		d.Usage.SetText(c.Name + " is not running: no figures.")
	}
	return d
}

// show fills the Overview and Environment tabs.
func (d *DetailWindow) show(c engine.Container) {
	f := app.DescribeContainer(c, time.Now())
	d.Overview.Items = nil
	for _, fact := range f.Overview {
		d.Overview.Append(fact.Label, wrapped(fact.Value))
	}
	for _, sec := range []struct {
		label string
		lines []string
	}{{"Ports", f.Ports}, {"Mounts", f.Mounts}, {"Networks", f.Networks}} {
		if len(sec.lines) > 0 {
			d.Overview.Append(sec.label, wrapped(strings.Join(sec.lines, "\n")))
		}
	}
	d.Overview.Refresh()
	if len(f.Env) == 0 {
		d.Env.SetText("No environment variables.")
	} else {
		d.Env.SetText(strings.Join(f.Env, "\n"))
	}
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// refreshTab reads what the tab shows when it is opened.
func (d *DetailWindow) refreshTab(ctx context.Context, tab string) {
	switch tab {
	case "Processes":
		pl, err := d.core.Processes(ctx, d.id)
		if err != nil {
			pl = engine.ProcessList{Titles: []string{"Processes"}, Processes: [][]string{{app.Explain(err)}}}
		}
		d.mu.Lock()
		d.processes = pl
		d.mu.Unlock()
		onMain(d.Processes.Refresh)
	case "Files":
		changes, err := d.core.FileChanges(ctx, d.id)
		text := strings.Join(changes, "\n")
		switch {
		case err != nil:
			text = app.Explain(err)
		case len(changes) == 0:
			text = "No file of the image has been changed, added or deleted."
		}
		onMain(func() { d.Files.SetText(text) })
	}
}

// showUsage writes the latest figures and draws the last minute.
func (d *DetailWindow) showUsage(u app.Usage, samples []app.Usage) {
	mem := HumanSize(int64(u.MemoryBytes))
	if u.MemoryLimit > 0 {
		mem += " of " + HumanSize(int64(u.MemoryLimit))
	}
	d.Usage.SetText(fmt.Sprintf("CPU %.1f%% · memory %s (the last minute below)", u.CPUPercent, mem))
	cpu, memory := make([]float64, len(samples)), make([]float64, len(samples))
	for i, s := range samples {
		cpu[i], memory[i] = s.CPUPercent, float64(s.MemoryBytes)
	}
	d.CPU.Set(cpu)
	d.Mem.Set(memory)
}

// sparkline draws a series of values as a line, scaled to its size and
// to the largest value.
type sparkline struct {
	widget.BaseWidget
	colour fyne.ThemeColorName
	mu     sync.Mutex
	values []float64
}

func newSparkline(c fyne.ThemeColorName) *sparkline {
	s := &sparkline{colour: c}
	s.ExtendBaseWidget(s)
	return s
}

// Set replaces the values drawn.
func (s *sparkline) Set(values []float64) {
	s.mu.Lock()
	s.values = values
	s.mu.Unlock()
	s.Refresh()
}

// Values are the values drawn.
func (s *sparkline) Values() []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]float64(nil), s.values...)
}

func (s *sparkline) CreateRenderer() fyne.WidgetRenderer {
	return &sparklineRenderer{s: s, frame: canvas.NewRectangle(color.Transparent)}
}

type sparklineRenderer struct {
	s     *sparkline
	frame *canvas.Rectangle
	lines []fyne.CanvasObject
	size  fyne.Size
}

func (r *sparklineRenderer) Layout(size fyne.Size) { r.size = size; r.Refresh() }
func (r *sparklineRenderer) MinSize() fyne.Size    { return fyne.NewSize(120, 48) }
func (r *sparklineRenderer) Destroy()              {}
func (r *sparklineRenderer) Objects() []fyne.CanvasObject {
	return append([]fyne.CanvasObject{r.frame}, r.lines...)
}

func (r *sparklineRenderer) Refresh() {
	v := r.s.Values()
	r.frame.StrokeColor = theme.Color(theme.ColorNameSeparator)
	r.frame.StrokeWidth = 1
	r.frame.Resize(r.size)
	r.lines = r.lines[:0]
	top := 0.0
	for _, x := range v {
		top = max(top, x)
	}
	if len(v) < 2 || r.size.Width <= 0 {
		return
	}
	if top == 0 {
		top = 1
	}
	step := r.size.Width / float32(usageSamples-1)
	x0 := r.size.Width - step*float32(len(v)-1) // the newest sample at the right edge
	at := func(i int) fyne.Position {
		return fyne.NewPos(x0+step*float32(i), r.size.Height-float32(v[i]/top)*(r.size.Height-4)-2)
	}
	for i := 1; i < len(v); i++ {
		l := canvas.NewLine(theme.Color(r.s.colour))
		l.StrokeWidth = 2
		l.Position1, l.Position2 = at(i-1), at(i)
		r.lines = append(r.lines, l)
	}
	canvas.Refresh(r.s)
}
