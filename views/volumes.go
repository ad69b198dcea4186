package views

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// VolumesPanel lists the engine's volumes with their size and users, and
// creates, removes and prunes them.
type VolumesPanel struct {
	Object  fyne.CanvasObject
	List    *widget.List
	Status  *widget.Label
	Buttons map[string]*widget.Button

	core     *app.Core
	state    *app.Volumes
	win      fyne.Window
	items    []engine.Volume
	selected int
}

// NewVolumesPanel builds the Volumes panel over c.
func NewVolumesPanel(c *app.Core, w fyne.Window) *VolumesPanel {
	p := &VolumesPanel{core: c, state: c.Volumes, win: w, selected: -1, Buttons: map[string]*widget.Button{}}
	p.List = widget.NewList(
		func() int { return len(p.items) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("volume name")
			name.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, nil, widget.NewLabel("1.2MB · used by 2 containers"), name)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(p.items) {
				return
			}
			v := p.items[i]
			c := o.(*fyne.Container)
			name := v.Name
			if v.Anonymous {
				name += "  (anonymous)"
			}
			c.Objects[0].(*widget.Label).SetText(name)
			c.Objects[1].(*widget.Label).SetText(volumeDetail(v))
		})
	p.List.OnSelected = func(i widget.ListItemID) { p.selected = i; p.update() }
	p.List.OnUnselected = func(widget.ListItemID) { p.selected = -1; p.update() }
	p.Status = widget.NewLabel("A volume keeps a container's data apart from it: remove the container, the volume stays. Mount one with -v NAME:/path.")
	p.Status.Wrapping = fyne.TextWrapWord
	button := func(name string, fn func()) *widget.Button {
		b := widget.NewButton(name, fn)
		p.Buttons[name] = b
		return b
	}
	bar := container.NewHBox(
		button("Create…", p.showCreate),
		button("Remove", p.remove),
		button("Remove unused…", p.prune),
		button("Refresh", func() { p.refresh() }),
	)
	p.Object = container.NewBorder(container.NewVBox(bar, p.Status), nil, nil, nil, p.List)
	p.state.OnChange(func() { onMain(p.reload) })
	p.update()
	go p.refresh()
	return p
}

func volumeDetail(v engine.Volume) string {
	used := "unused"
	if v.Containers > 0 {
		used = "used by " + app.Plural(v.Containers, "container", "containers")
	}
	if v.Size < 0 {
		return used
	}
	return HumanSize(v.Size) + " · " + used
}

// Items are the volumes listed.
func (p *VolumesPanel) Items() []engine.Volume { return p.items }

func (p *VolumesPanel) refresh() {
	err := p.state.Refresh(p.core.Context())
	if err != nil {
		onMain(func() { p.Status.SetText(app.Explain(err)) })
	}
}

func (p *VolumesPanel) reload() {
	var was engine.Volume
	had := p.selected >= 0 && p.selected < len(p.items)
	if had {
		was = p.items[p.selected]
	}
	list, _ := p.state.List()
	p.items = list
	p.selected = reselect(p.items, func(v engine.Volume) string { return v.Name }, was.Name, had)
	if p.selected < 0 {
		p.List.UnselectAll()
	} else {
		p.List.Select(p.selected)
	}
	p.List.Refresh()
	p.update()
}

func (p *VolumesPanel) update() {
	if p.selected >= 0 && p.selected < len(p.items) {
		p.Buttons["Remove"].Enable()
	} else {
		p.Buttons["Remove"].Disable()
	}
}

func (p *VolumesPanel) do(what func(ctx context.Context) (string, error)) {
	go func() {
		msg, err := what(p.core.Context())
		onMain(func() {
			if err != nil {
				showError(err, p.win)
				return
			}
			if msg != "" {
				p.Status.SetText(msg)
			}
		})
	}()
}

func (p *VolumesPanel) showCreate() {
	entry := newEscEntry(p.win)
	entry.SetPlaceHolder("e.g. data (letters, digits, . _ -)")
	d := newFormDialog("Create a volume", "Create", []*widget.FormItem{widget.NewFormItem("Name", entry)}, func(ok bool) {
		if name := strings.TrimSpace(entry.Text); ok && name != "" {
			p.do(func(ctx context.Context) (string, error) { return "Created " + name + ".", p.state.Create(ctx, name) })
		}
	}, p.win)
	d.Resize(fyne.NewSize(420, d.MinSize().Height))
	d.Show()
	p.win.Canvas().Focus(entry)
}

func (p *VolumesPanel) remove() {
	if p.selected < 0 || p.selected >= len(p.items) {
		return
	}
	v := p.items[p.selected]
	dialog.ShowConfirm("Remove "+v.Name+"?", "Its files are deleted for good. A volume a container uses (even a stopped one) stays: remove the container first.", func(ok bool) {
		if ok {
			p.do(func(ctx context.Context) (string, error) {
				return "Removed " + v.Name + ".", p.state.Remove(ctx, v.Name)
			})
		}
	}, p.win)
}

func (p *VolumesPanel) prune() {
	all := widget.NewCheck("Named volumes too (not only anonymous ones)", nil)
	dialog.ShowCustomConfirm("Remove unused volumes?", "Remove", "Cancel", container.NewVBox(
		widget.NewLabel("Volumes no container uses are deleted with their files."), all), func(ok bool) {
		if ok {
			p.do(func(ctx context.Context) (string, error) {
				n, reclaimed, err := p.state.Prune(ctx, all.Checked)
				return fmt.Sprintf("Removed %s, %s given back.", app.Plural(n, "volume", "volumes"), HumanSize(reclaimed)), err
			})
		}
	}, p.win)
}
