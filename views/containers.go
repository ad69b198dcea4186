package views

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// ContainersPanel lists containers with their state, image, ports and
// uptime, and acts on the selected one.
type ContainersPanel struct {
	Object  fyne.CanvasObject
	List    *widget.List
	ShowAll *widget.Check
	Stats   *widget.Label
	Empty   *widget.Label
	Buttons map[string]*widget.Button

	core     *app.Core
	state    *app.Containers
	win      fyne.Window
	items    []engine.Container
	selected int
	// followed is the container (ID and state) the stats line is about.
	followed string
	// now is the clock the uptimes are read by (tests set it).
	now func() time.Time
	// stopStats ends the stats stream of the container selected before.
	stopStats context.CancelFunc
}

// NewContainersPanel builds the Containers panel over s.
func NewContainersPanel(c *app.Core, w fyne.Window) *ContainersPanel {
	s := c.Containers
	p := &ContainersPanel{core: c, state: s, win: w, selected: -1, Buttons: map[string]*widget.Button{}, now: time.Now}
	p.List = widget.NewList(
		func() int { return len(p.items) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("name")
			name.TextStyle.Bold = true
			detail := widget.NewLabel("image · ports")
			detail.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, nil, widget.NewLabel("Up 3 minutes"), container.NewVBox(name, detail))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(p.items) {
				return
			}
			c := p.items[i]
			box := o.(*fyne.Container)
			vb := box.Objects[0].(*fyne.Container)
			vb.Objects[0].(*widget.Label).SetText(c.Name)
			detail := c.Image
			if ports := Ports(c); ports != "" {
				detail += " · " + ports
				if host := p.core.PortsHost(); host != "" {
					detail += " on " + host // a remote engine's ports are there, not here
				}
			}
			if nets := Networks(c); nets != "" {
				detail += " · " + nets
			}
			vb.Objects[1].(*widget.Label).SetText(detail)
			status := box.Objects[1].(*widget.Label)
			status.SetText(Uptime(c, p.now()))
			if c.State.Status == engine.StatusRunning {
				status.Importance = widget.SuccessImportance
			} else {
				status.Importance = widget.MediumImportance
			}
			status.Refresh()
		})
	p.List.OnSelected = func(i widget.ListItemID) { p.selected = i; p.update(); p.followStats() }
	p.List.OnUnselected = func(widget.ListItemID) { p.selected = -1; p.update(); p.followStats() }
	p.ShowAll = widget.NewCheck("Show stopped", s.SetShowAll)
	p.ShowAll.SetChecked(true)
	p.Stats = widget.NewLabel("")
	p.Stats.Wrapping = fyne.TextWrapWord // why a container stopped is read whole
	p.Empty = widget.NewLabel("No containers. Run an image from the Images or Search panel.")

	act := func(name string, fn func(engine.Container)) *widget.Button {
		b := widget.NewButton(name, func() {
			if c, ok := p.Selected(); ok {
				fn(c)
			}
		})
		p.Buttons[name] = b
		return b
	}
	do := func(f func(context.Context, string) error) func(engine.Container) {
		return func(c engine.Container) {
			go func() {
				err := f(p.core.Context(), c.ID)
				onMain(func() { showError(err, w) })
			}()
		}
	}
	bar := container.NewHBox(
		act("Start", do(s.Start)),
		act("Stop", func(c engine.Container) {
			p.Stats.SetText("Stopping " + c.Name + "… it is asked to end (SIGTERM), and ended by force if it has not after 10 s.")
			do(s.Stop)(c)
		}),
		act("Restart", do(s.Restart)),
		act("Remove", func(c engine.Container) {
			dialog.ShowConfirm("Remove "+c.Name+"?", "The container and its changes to files are deleted; the image stays.", func(ok bool) {
				if ok {
					do(s.Remove)(c)
				}
			}, w)
		}),
		act("Details", func(ct engine.Container) { ShowContainerDetail(c, ct) }),
		act("Logs", func(ct engine.Container) { ShowLogs(c, ct, w) }),
		act("Terminal", func(ct engine.Container) { ShowTerminal(c, ct) }),
		act("Open in browser", func(c engine.Container) {
			reach, err := p.core.Reach(c)
			if err != nil {
				showError(err, w)
				return
			}
			if reach.Note != "" {
				p.Stats.SetText(reach.Note) // a remote engine's port: where it really is
			}
			if u, err := url.Parse(reach.URL); err == nil && u.Host != "" {
				if err := fyne.CurrentApp().OpenURL(u); err != nil {
					showError(fmt.Errorf("no browser could be opened (%v); open %s in one yourself", err, u), w)
				}
			}
		}),
		act("Inspect", func(c engine.Container) {
			go func() {
				full, err := s.Inspect(p.core.Context(), c.ID)
				onMain(func() {
					if err != nil {
						showError(err, w)
						return
					}
					data, _ := json.MarshalIndent(full, "", "  ")
					f := app.DescribeContainer(full, time.Now())
					showFacts("Inspect "+c.Name, f.Overview, []factSection{
						{"Ports", "port", "ports", f.Ports}, {"Mounts", "mount", "mounts", f.Mounts},
						{"Networks", "network", "networks", f.Networks}, {"Environment", "variable", "variables", f.Env},
					}, string(data), w)
				})
			}()
		}),
	)
	tip := container.NewHBox(NewConcept("container"), NewConcept("image"))
	p.Object = container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, nil, p.ShowAll, bar), p.Stats), tip, nil, nil,
		container.NewStack(p.List, emptyState(p.Empty)))
	s.OnChange(func() { onMain(p.reload) })
	p.reload()
	go p.tickUptimes(p.core.Context())
	return p
}

// tickUptimes redraws the list every second while a container runs, so
// "Up 5 seconds" goes on counting (time passing is no engine event).
func (p *ContainersPanel) tickUptimes(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			onMain(p.refreshUptimes)
		}
	}
}

func (p *ContainersPanel) refreshUptimes() {
	for _, c := range p.items {
		if c.State.Status == engine.StatusRunning {
			p.List.Refresh()
			return
		}
	}
}

// stoppedNote says why a stopped container stopped, where a person may
// wonder: an exit code 137 after Stop is the kill that follows a stop
// signal its program ignored.
func stoppedNote(c engine.Container) string {
	switch {
	case c.ID == "" || c.State.Status != engine.StatusExited:
		return ""
	case c.State.ExitCode == 137:
		return c.Name + " was killed (exit code 137): its program did not end on the stop signal (SIGTERM) within the stop timeout, so it was ended by force. A program that runs as the container's first process must handle SIGTERM itself, or run with --init."
	case c.State.ExitCode == 0:
		return c.Name + " finished (exit code 0)."
	}
	return fmt.Sprintf("%s exited with code %d: its logs say why.", c.Name, c.State.ExitCode)
}

// followKey changes when what the panel says of a container would: its
// figures while it runs, why it stopped after.
func followKey(c engine.Container) string {
	return fmt.Sprint(c.ID, c.State.Status, c.State.ExitCode)
}

// Items are the containers listed.
func (p *ContainersPanel) Items() []engine.Container { return p.items }

// Selected is the selected container.
func (p *ContainersPanel) Selected() (engine.Container, bool) {
	if p.selected < 0 || p.selected >= len(p.items) {
		return engine.Container{}, false
	}
	return p.items[p.selected], true
}

func (p *ContainersPanel) reload() {
	was, had := p.Selected()
	p.items = p.state.List()
	p.selected = reselect(p.items, func(c engine.Container) string { return c.ID }, was.ID, had)
	if p.selected < 0 {
		p.List.UnselectAll()
	} else {
		p.List.Select(p.selected)
	}
	p.List.Refresh()
	if c, _ := p.Selected(); followKey(c) != p.followed {
		p.followStats() // it started or stopped: figures, or why it stopped
	}
	p.Empty.Hidden = len(p.items) > 0
	p.Empty.Refresh()
	p.update()
}

func (p *ContainersPanel) update() {
	c, ok := p.Selected()
	running := ok && c.State.Status == engine.StatusRunning
	for name, b := range p.Buttons {
		enable := ok
		switch name {
		case "Start":
			enable = ok && !running
		case "Stop", "Restart":
			enable = running
		case "Terminal":
			enable = running && p.core.Engine.Terminals != nil
		case "Open in browser":
			enable = running && app.URL(c) != ""
		}
		if enable {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// followStats shows CPU and memory of the selected running container as
// the engine streams them, until another is selected.
func (p *ContainersPanel) followStats() {
	if p.stopStats != nil {
		p.stopStats()
		p.stopStats = nil
	}
	c, ok := p.Selected()
	p.followed = followKey(c)
	if !ok || c.State.Status != engine.StatusRunning {
		p.Stats.SetText(stoppedNote(c)) // no stale figures of a stopped container
		return
	}
	ctx, cancel := context.WithCancel(p.core.Context())
	p.stopStats = cancel
	go p.state.FollowStats(ctx, c.ID, func(u app.Usage) {
		onMain(func() {
			if ctx.Err() == nil {
				p.Stats.SetText(fmt.Sprintf("%s — CPU %.1f%%, memory %s", c.Name, u.CPUPercent, HumanSize(int64(u.MemoryBytes))))
			}
		})
	})
}

// ShowLogs opens a container's logs: live (follow), with a search box
// that keeps only matching lines.
func ShowLogs(core *app.Core, c engine.Container, parent fyne.Window) fyne.Window {
	w := fyne.CurrentApp().NewWindow("Logs — " + c.Name)
	var mu sync.Mutex
	var lines []string
	grid := widget.NewTextGrid()
	filter := widget.NewEntry()
	filter.SetPlaceHolder("Search the logs")
	follow := widget.NewCheck("Follow", nil)
	follow.SetChecked(true)
	scroll := container.NewScroll(grid)
	render := func() {
		mu.Lock()
		q := strings.ToLower(filter.Text)
		var shown []string
		for _, l := range lines {
			if q == "" || strings.Contains(strings.ToLower(l), q) {
				shown = append(shown, l)
			}
		}
		mu.Unlock()
		grid.SetText(strings.Join(shown, "\n"))
		if follow.Checked {
			scroll.ScrollToBottom()
		}
	}
	filter.OnChanged = func(string) { render() }
	ctx, cancel := context.WithCancel(core.Context())
	w.SetOnClosed(cancel)
	w.SetContent(container.NewBorder(container.NewBorder(nil, nil, nil, follow, filter), nil, nil, nil, scroll))
	w.Resize(fyne.NewSize(760, 480))
	closeOnEscape(w)
	w.Show()
	go func() {
		err := core.Containers.Logs(ctx, c.ID, true, func(e engine.LogEntry) {
			mu.Lock()
			lines = append(lines, strings.TrimRight(string(e.Data), "\n"))
			mu.Unlock()
			onMain(render)
		})
		if err != nil && ctx.Err() == nil {
			onMain(func() { showError(err, w) })
		}
	}()
	return w
}

// RunDialog is the form that starts a container.
type RunDialog struct {
	Image, Name, Ports, Env, Volumes, Command *escEntry
	Dialog                                    dialog.Dialog
}

// ShowRun opens the Run dialog for image; onStarted gets the new container's ID.
func ShowRun(c *app.Core, image string, w fyne.Window, onStarted func(id string)) *RunDialog {
	d := &RunDialog{Image: newEscEntry(w), Name: newEscEntry(w), Ports: newEscEntry(w), Env: newEscMultiLineEntry(w), Volumes: newEscMultiLineEntry(w), Command: newEscEntry(w)}
	d.Image.SetText(image)
	d.Name.SetPlaceHolder("optional, e.g. web")
	d.Ports.SetPlaceHolder("HOST:CONTAINER, e.g. 8080:80")
	d.Env.SetPlaceHolder("NAME=value, one per line")
	d.Volumes.SetPlaceHolder("/host/path:/in/container or name:/in/container")
	d.Command.SetPlaceHolder("optional: replaces the image's command")
	items := []*widget.FormItem{
		widget.NewFormItem("Image", d.Image), widget.NewFormItem("Name", d.Name),
		widget.NewFormItem("Ports", d.Ports), widget.NewFormItem("Environment", d.Env),
		widget.NewFormItem("Volumes", d.Volumes), widget.NewFormItem("Command", d.Command),
	}
	items[2].HintText = "Publishes a port of the container on this computer"
	form := newFormDialog("Run a container", "Run", items, func(ok bool) {
		if !ok {
			return
		}
		opts := app.RunOptions{Image: d.Image.Text, Name: d.Name.Text, Ports: d.Ports.Text, Env: d.Env.Text, Volumes: d.Volumes.Text, Command: d.Command.Text}
		go func() {
			id, err := c.Containers.Run(c.Context(), opts)
			onMain(func() {
				showError(err, w)
				if err == nil && onStarted != nil {
					onStarted(id)
				}
			})
		}()
	}, w)
	form.Resize(fyne.NewSize(520, 460))
	d.Dialog = form
	form.Show()
	// The ports the image says it listens on, offered as they are.
	go func() {
		img, err := c.Engine.Images.Inspect(c.Context(), image)
		if err != nil || len(img.Config.ExposedPorts) == 0 {
			return
		}
		onMain(func() {
			if d.Ports.Text == "" {
				d.Ports.SetText(portsFromExpose(img.Config.ExposedPorts))
			}
		})
	}()
	return d
}

// portsFromExpose turns an image's EXPOSE ("80/tcp", "53/udp") into the
// Run dialog's ports, each on the same port of this computer.
func portsFromExpose(exposed []string) string {
	var out []string
	for _, e := range exposed {
		port, proto, _ := strings.Cut(e, "/")
		if proto == "" || proto == "tcp" {
			out = append(out, port+":"+port)
		} else {
			out = append(out, port+":"+port+"/"+proto)
		}
	}
	return strings.Join(out, ", ")
}
