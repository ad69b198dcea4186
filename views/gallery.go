package views

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
)

// GalleryActions are what the gallery hands to other panels.
type GalleryActions struct {
	Run           func(ref string) // open the Run dialog for an image
	ExploreLayers func(ref string) // show the image in the Layers panel
}

// Gallery is the Images panel: a table of images with a filter, a sort,
// a dangling toggle and the actions on the selected image.
type Gallery struct {
	Object   fyne.CanvasObject
	Filter   *widget.Entry
	Sort     *widget.Select
	Dangling *widget.Check
	Table    *widget.Table
	Empty    *widget.Label
	Buttons  map[string]*widget.Button

	core        *app.Core
	state       *app.Images
	win         fyne.Window
	acts        GalleryActions
	rows        []app.ImageRow
	selected    int
	selectedCol int // the cell the table highlights itself
}

var galleryColumns = []string{"Repository", "Tag", "Image ID", "Size", "Created", "Registry"}

// NewGallery builds the Images panel over s.
func NewGallery(c *app.Core, w fyne.Window, acts GalleryActions) *Gallery {
	s := c.Images
	g := &Gallery{core: c, state: s, win: w, acts: acts, selected: -1, Buttons: map[string]*widget.Button{}}
	g.Filter = widget.NewEntry()
	g.Filter.SetPlaceHolder("Filter by name, tag or ID")
	g.Filter.OnChanged = s.SetFilter
	g.Sort = widget.NewSelect([]string{"Newest first", "Name", "Size"}, func(v string) {
		s.SetSort(map[string]string{"Newest first": app.SortCreated, "Name": app.SortName, "Size": app.SortSize}[v])
	})
	g.Sort.SetSelected("Newest first")
	g.Dangling = widget.NewCheck("Show untagged", s.SetShowDangling)
	g.Table = widget.NewTableWithHeaders(
		func() (int, int) { return len(g.rows), len(galleryColumns) },
		func() fyne.CanvasObject {
			return container.NewStack(canvas.NewRectangle(color.Transparent), widget.NewLabel("sha256:000000000000"))
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row >= len(g.rows) {
				return
			}
			cell := o.(*fyne.Container)
			// The whole row is highlighted, not only the cell clicked:
			// every action applies to the row's image.
			bg := cell.Objects[0].(*canvas.Rectangle)
			want := color.Color(color.Transparent)
			if id.Row == g.selected && id.Col != g.selectedCol { // (the table paints the cell clicked)
				want = theme.Color(theme.ColorNameSelection)
			}
			if bg.FillColor != want {
				bg.FillColor = want
				bg.Refresh()
			}
			cell.Objects[1].(*widget.Label).SetText(g.cell(g.rows[id.Row], id.Col))
		})
	columns(g.Table, galleryColumns, []float32{260, 110, 130, 90, 130, 120})
	g.Table.OnSelected = func(id widget.TableCellID) {
		g.selected, g.selectedCol = id.Row, id.Col
		g.updateButtons()
		g.Table.Refresh()
	}
	g.Table.OnUnselected = func(widget.TableCellID) { g.selected = -1; g.updateButtons(); g.Table.Refresh() }
	g.Empty = widget.NewLabel("No images yet. Pull one with Pull…, or find one in Search.")

	add := func(name string, fn func(app.ImageRow)) *widget.Button {
		b := widget.NewButton(name, func() {
			if r, ok := g.Selected(); ok {
				fn(r)
			}
		})
		g.Buttons[name] = b
		return b
	}
	pull := widget.NewButton("Pull…", g.showPull)
	g.Buttons["Pull…"] = pull
	login := widget.NewButton("Log in…", func() { ShowLogin(c, w, "", nil) })
	g.Buttons["Log in…"] = login
	check := widget.NewButton("Check for updates", g.checkUpdates)
	g.Buttons["Check for updates"] = check
	bar := container.NewHBox(pull,
		add("Run", func(r app.ImageRow) {
			if acts.Run != nil {
				acts.Run(r.Ref)
			}
		}),
		add("Update…", g.update),
		add("Tag…", g.showTag), add("Push", g.push), add("Remove", g.remove),
		add("Inspect", g.inspect), add("History", g.history),
		add("Layers", func(r app.ImageRow) {
			if acts.ExploreLayers != nil {
				acts.ExploreLayers(r.Ref)
			}
		}),
		login, check)
	top := container.NewBorder(nil, nil, nil, container.NewHBox(g.Sort, g.Dangling), g.Filter)
	tip := container.NewHBox(NewConcept("image"), NewConcept("tag"), NewConcept("registry"))
	g.Object = container.NewBorder(container.NewVBox(top, bar), tip, nil, nil, container.NewStack(g.Table, emptyState(g.Empty)))
	s.OnChange(func() { onMain(g.reload) })
	g.reload()
	return g
}

func (g *Gallery) cell(r app.ImageRow, col int) string {
	switch col {
	case 0:
		return r.Repository
	case 1:
		return r.Tag
	case 2:
		return r.ShortID
	case 3:
		return HumanSize(r.Size)
	case 5:
		if r.Update {
			return "newer there"
		}
		return ""
	}
	return HumanAge(r.Created, time.Now())
}

// Rows are the rows on screen.
func (g *Gallery) Rows() []app.ImageRow { return g.rows }

// Select selects row i, as a click does.
func (g *Gallery) Select(i int) { g.Table.Select(widget.TableCellID{Row: i, Col: 0}) }

// Selected is the selected row.
func (g *Gallery) Selected() (app.ImageRow, bool) {
	if g.selected < 0 || g.selected >= len(g.rows) {
		return app.ImageRow{}, false
	}
	return g.rows[g.selected], true
}

func (g *Gallery) reload() {
	was, had := g.Selected()
	g.rows = g.state.Rows()
	g.selected = reselect(g.rows, func(r app.ImageRow) string { return r.Ref }, was.Ref, had)
	if g.selected < 0 {
		g.Table.UnselectAll()
	} else {
		g.Table.Select(widget.TableCellID{Row: g.selected, Col: 0})
	}
	g.Table.Refresh()
	if len(g.rows) == 0 {
		if msg := g.state.Err(); msg != "" {
			g.Empty.SetText(msg)
		}
		g.Empty.Show()
		g.Table.Hide() // its column lines would run through the message
	} else {
		g.Empty.Hide()
		g.Table.Show()
	}
	g.updateButtons()
}

func (g *Gallery) updateButtons() {
	r, ok := g.Selected()
	for name, b := range g.Buttons {
		switch {
		case name == "Update…" && !r.Update:
			b.Disable()
		case name == "Pull…" || name == "Log in…" || name == "Check for updates" || ok:
			b.Enable()
		default:
			b.Disable()
		}
	}
}

// showError shows err in a dialog a beginner can act on.
func showError(err error, w fyne.Window) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	dialog.ShowError(errors.New(app.Explain(err)), w)
}

func (g *Gallery) showPull() { ShowPull(g.core, g.win, "") }

// checkUpdates asks the registries whether the images' tags moved on, and
// says what it found.
func (g *Gallery) checkUpdates() {
	b := g.Buttons["Check for updates"]
	b.Disable()
	go func() {
		err := g.state.CheckUpdates(g.core.Context())
		onMain(func() {
			b.Enable()
			n := 0
			for _, r := range g.state.Rows() {
				if r.Update {
					n++
				}
			}
			switch {
			case err != nil && n == 0:
				showError(fmt.Errorf("could not ask every registry: %w", err), g.win)
			case n == 0:
				dialog.ShowInformation("Up to date", "Every image you pulled is the one its registry names now.", g.win)
			default:
				dialog.ShowInformation("Updates", fmt.Sprintf("%s a newer image in its registry: select it and choose Update….", app.Plural(n, "image has", "images have")), g.win)
			}
		})
	}()
}

// working shows a dialog with an endless bar for work whose end is not
// known ahead; its Cancel (or Escape) cancels the returned context.
func (g *Gallery) working(title, what string) (context.Context, dialog.Dialog) {
	ctx, cancel := context.WithCancel(g.core.Context())
	d := dialog.NewCustom(title, "Cancel", container.NewVBox(widget.NewLabel(what), widget.NewProgressBarInfinite()), g.win)
	d.SetOnClosed(cancel)
	d.Show()
	return ctx, d
}

// update pulls the row's newer image and recreates the containers that
// ran the old one, after saying so.
func (g *Gallery) update(r app.ImageRow) {
	msg := fmt.Sprintf("Pull the newer %s. Containers that run the old one are made again from the new one, with the same name and settings, and started if they were running; what they wrote inside themselves (not in volumes) is not kept.", r.Ref)
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	dialog.ShowCustomConfirm("Update "+r.Ref+"?", "Update", "Cancel", l, func(ok bool) {
		if !ok {
			return
		}
		ctx, d := g.working("Updating "+r.Ref, "Pulling the newer image…")
		started := time.Now()
		go func() {
			recreated, err := g.core.UpdateImage(ctx, r.Ref, app.NewTransfer(nil))
			g.core.Attention.Done("Update "+r.Ref, started, err)
			onMain(func() {
				d.Hide()
				if err == nil {
					text := r.Ref + " is up to date."
					if len(recreated) > 0 {
						text += " Made again from it: " + strings.Join(recreated, ", ") + "."
					}
					dialog.ShowInformation("Updated", text, g.win)
				}
				showErrorOrLogin(g.core, g.win, r.Ref, err, func() { g.update(r) })
			})
		}()
	}, g.win)
}

// ShowPull asks for an image name (unless ref is given) and pulls it with
// one progress bar per layer, a total, and Cancel.
func ShowPull(c *app.Core, w fyne.Window, ref string) {
	if ref != "" {
		pullWithProgress(c, w, ref)
		return
	}
	entry := newEscEntry(w)
	entry.SetPlaceHolder("e.g. python:3.12-slim or nginx")
	d := newFormDialog("Pull an image", "Pull", []*widget.FormItem{
		widget.NewFormItem("Image", entry),
	}, func(ok bool) {
		if ok && strings.TrimSpace(entry.Text) != "" {
			pullWithProgress(c, w, strings.TrimSpace(entry.Text))
		}
	}, w)
	d.Resize(fyne.NewSize(480, d.MinSize().Height)) // room for a registry's long names
	d.Show()
	w.Canvas().Focus(entry)
}

func pullWithProgress(c *app.Core, w fyne.Window, ref string) {
	ctx, cancel := context.WithCancel(c.Context())
	total := widget.NewProgressBar()
	layers := container.NewVBox()
	status := widget.NewLabel("Pulling " + ref + "…")
	bars := map[string]*widget.ProgressBar{}
	var d dialog.Dialog
	var tr *app.Transfer
	tr = app.NewTransfer(func() {
		ls, t, msg, _, _ := tr.Snapshot()
		onMain(func() {
			for _, l := range ls {
				b, ok := bars[l.ID]
				if !ok {
					b = widget.NewProgressBar()
					bars[l.ID] = b
					layers.Add(container.NewBorder(nil, nil, widget.NewLabel(l.ID), nil, b))
				}
				b.SetValue(l.Fraction())
			}
			total.SetValue(t)
			if msg != "" {
				status.SetText(msg)
			}
		})
	})
	content := container.NewVBox(status, widget.NewLabel("Total"), total, widget.NewSeparator(), container.NewVScroll(layers))
	d = dialog.NewCustom("Pulling "+ref, "Cancel", content, w)
	d.SetOnClosed(cancel)
	d.Resize(fyne.NewSize(480, 360))
	d.Show()
	started := time.Now()
	go func() {
		err := c.Images.Pull(ctx, ref, tr)
		c.Attention.Done("Pull "+ref, started, err)
		onMain(func() {
			d.Hide()
			showErrorOrLogin(c, w, ref, err, func() { pullWithProgress(c, w, ref) })
		})
	}()
}

func (g *Gallery) showTag(r app.ImageRow) {
	entry := newEscEntry(g.win)
	entry.SetPlaceHolder("name:tag, e.g. localhost:5000/me/app:v1")
	d := newFormDialog("Tag "+r.Ref, "Tag", []*widget.FormItem{widget.NewFormItem("New name", entry)}, func(ok bool) {
		name := strings.TrimSpace(entry.Text) // read here, on the UI thread
		if !ok || name == "" {
			return
		}
		go func() {
			err := g.state.Tag(g.core.Context(), r.Ref, name)
			onMain(func() { showError(err, g.win) })
		}()
	}, g.win)
	d.Resize(fyne.NewSize(480, d.MinSize().Height))
	d.Show()
	g.win.Canvas().Focus(entry)
}

func (g *Gallery) push(r app.ImageRow) {
	if r.Dangling {
		showError(fmt.Errorf("tag the image with a registry name first (Tag…), e.g. localhost:5000/me/app:v1"), g.win)
		return
	}
	ctx, d := g.working("Pushing "+r.Ref, "Uploading the layers the registry does not have…")
	started := time.Now()
	go func() {
		err := g.state.Push(ctx, r.Ref, app.NewTransfer(nil))
		g.core.Attention.Done("Push "+r.Ref, started, err)
		onMain(func() {
			d.Hide()
			if err == nil {
				dialog.ShowInformation("Pushed", r.Ref+" is in its registry.", g.win)
			}
			showErrorOrLogin(g.core, g.win, r.Ref, err, func() { g.push(r) })
		})
	}()
}

func (g *Gallery) remove(r app.ImageRow) {
	dialog.ShowConfirm("Remove "+r.Ref+"?", "The name is removed; the image is deleted when no other name points at it.", func(ok bool) {
		if !ok {
			return
		}
		go func() {
			err := g.state.Remove(g.core.Context(), r.Ref, false)
			onMain(func() { showError(err, g.win) })
		}()
	}, g.win)
}

func (g *Gallery) inspect(r app.ImageRow) {
	go func() {
		d, err := g.state.Inspect(g.core.Context(), r.Ref)
		onMain(func() {
			if err != nil {
				showError(err, g.win)
				return
			}
			raw, _ := json.MarshalIndent(d, "", "  ")
			showImageFacts("Inspect "+r.Ref, app.DescribeImage(d), string(raw), g.win)
		})
	}()
}

// showImageFacts shows an image's details as a form, its environment and
// labels below, and the raw JSON (what docker inspect prints) folded away.
func showImageFacts(title string, f app.ImageFacts, raw string, w fyne.Window) {
	showFacts(title, f.Overview, []factSection{{"Environment", "variable", "variables", f.Env}, {"Labels", "label", "labels", f.Labels}}, raw, w)
}

// factSection is a titled list of lines below a details form.
type factSection struct {
	title     string
	one, many string // what a line is: "variable", "variables"
	lines     []string
}

// showFacts shows details as a form, sections of lines below it (folded,
// each with its count), and the raw JSON folded last: what docker inspect
// prints, one click away.
func showFacts(title string, overview []app.Fact, sections []factSection, raw string, w fyne.Window) {
	form := widget.NewForm()
	for _, fact := range overview {
		v := widget.NewLabel(fact.Value)
		v.Wrapping = fyne.TextWrapBreak
		form.Append(fact.Label, v)
	}
	more := widget.NewAccordion()
	for _, sec := range sections {
		if len(sec.lines) == 0 {
			continue
		}
		t := widget.NewLabel(strings.Join(sec.lines, "\n"))
		t.TextStyle.Monospace = true
		t.Wrapping = fyne.TextWrapBreak
		more.Append(widget.NewAccordionItem(sec.title+" ("+app.Plural(len(sec.lines), sec.one, sec.many)+")", t))
	}
	more.Append(widget.NewAccordionItem("Raw JSON (docker inspect)", widget.NewTextGridFromString(raw)))
	scroll := container.NewVScroll(container.NewVBox(form, more))
	scroll.SetMinSize(fyne.NewSize(680, 420))
	dialog.ShowCustom(title, "Close", scroll, w)
}

func (g *Gallery) history(r app.ImageRow) {
	go func() {
		items, err := g.state.History(g.core.Context(), r.Ref)
		onMain(func() {
			if err != nil {
				showError(err, g.win)
				return
			}
			showHistory("History of "+r.Ref, app.HistorySteps(items, time.Now()), g.win)
		})
	}()
}

// showHistory lists an image's steps, newest first, each with the size
// of the layer it made (none for a step that changed settings only).
func showHistory(title string, steps []app.HistoryStep, w fyne.Window) {
	cols := []string{"Step", "Layer", "When"}
	t := widget.NewTableWithHeaders(
		func() (int, int) { return len(steps), len(cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("RUN apt-get install")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			s := steps[id.Row]
			o.(*widget.Label).SetText([]string{s.Step, cmp.Or(s.Size, "settings only"), s.Age}[id.Col])
		})
	columns(t, cols, []float32{460, 110, 120})
	// A step cut short is read whole when its row is clicked.
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row < len(steps) {
			showText("Step", steps[id.Row].Step, w)
		}
	}
	box := container.NewStack(t)
	wrap := container.NewBorder(widget.NewLabel("Newest first. Click a step to read it whole."), nil, nil, nil, box)
	d := dialog.NewCustom(title, "Close", wrap, w)
	d.Resize(fyne.NewSize(760, 460))
	d.Show()
}

// columns gives a table a header row of bold column names, no header
// column, and the columns' widths.
func columns(t *widget.Table, names []string, widths []float32) {
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel(names[0]) }
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Col < 0 {
			l.SetText("")
			return
		}
		l.TextStyle.Bold = true
		l.SetText(names[id.Col])
	}
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
}

// showText shows read-only monospace text in a scrolling dialog.
func showText(title, text string, w fyne.Window) {
	grid := widget.NewTextGridFromString(text)
	scroll := container.NewScroll(grid)
	scroll.SetMinSize(fyne.NewSize(640, 400))
	dialog.ShowCustom(title, "Close", container.New(layout.NewStackLayout(), scroll), w)
}
