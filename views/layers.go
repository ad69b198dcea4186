package views

import (
	"context"
	"fmt"
	"path"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
)

// LayersPanel explores an image: its layers, each layer's file tree with
// what it added, modified or removed, the merged view, the wasted space.
type LayersPanel struct {
	Object     fyne.CanvasObject
	Image      *widget.SelectEntry
	Load       *widget.Button
	List       *widget.List
	Tree       *widget.Tree
	Merged     *widget.Check
	Search     *widget.Entry
	Efficiency *widget.Label
	Wasted     *widget.Label
	// ToLine shows, in the editor, the Dockerfile line that made the
	// selected layer, when it is known.
	ToLine *widget.Button

	// LineOf finds the Dockerfile line that made a layer (0: unknown);
	// OnShowLine shows a line in the editor. The window sets both.
	LineOf     func(app.LayerSummary) int
	OnShowLine func(line int)

	engine   app.Saver
	ctx      context.Context // the Core's
	images   *app.Images
	model    *app.LayersModel
	layer    int
	children map[string][]string
	rows     map[string]app.FileRow
}

// NewLayersPanel builds the Layers panel; images feeds the image picker.
func NewLayersPanel(c *app.Core) *LayersPanel {
	p := &LayersPanel{engine: c.Engine.Archives, images: c.Images, ctx: c.Context(), layer: -1, children: map[string][]string{}, rows: map[string]app.FileRow{}}
	p.Image = widget.NewSelectEntry(nil)
	p.Image.SetPlaceHolder("Image to explore, e.g. python:3.12-slim")
	p.Load = widget.NewButton("Explore", func() { p.Show(p.Image.Text) })
	p.Efficiency = widget.NewLabel("A layer is the set of file changes one build step made; the image is all layers stacked.")
	p.Efficiency.Wrapping = fyne.TextWrapWord
	p.Wasted = widget.NewLabel("")
	p.Wasted.Wrapping = fyne.TextWrapWord
	p.List = widget.NewList(
		func() int {
			if p.model == nil {
				return 0
			}
			return len(p.model.Layers)
		},
		func() fyne.CanvasObject {
			l := widget.NewLabel("RUN apt-get install …")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, nil, widget.NewLabel("100MB"), l)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			l := p.model.Layers[i]
			c := o.(*fyne.Container)
			step := app.ReadableStep(l.Step)
			if step == "" {
				step = "(base layer)"
			}
			text := fmt.Sprintf("%d  %s", l.Index+1, step)
			if ln := p.lineOf(l); ln > 0 {
				text = fmt.Sprintf("%d  line %d: %s", l.Index+1, ln, step)
			}
			c.Objects[0].(*widget.Label).SetText(text)
			c.Objects[1].(*widget.Label).SetText(HumanSize(l.Size))
		})
	p.ToLine = widget.NewButton("Show its line", func() {
		if p.model != nil && p.layer >= 0 && p.OnShowLine != nil {
			if ln := p.lineOf(p.model.Layers[p.layer]); ln > 0 {
				p.OnShowLine(ln)
			}
		}
	})
	p.ToLine.Disable()
	p.List.OnSelected = func(i widget.ListItemID) {
		p.layer = i
		p.fill()
		if ln := p.lineOf(p.model.Layers[i]); ln > 0 {
			p.ToLine.SetText(fmt.Sprintf("Show line %d in the editor", ln))
			p.ToLine.Enable()
		} else {
			p.ToLine.SetText("Show its line")
			p.ToLine.Disable()
		}
	}
	p.Merged = widget.NewCheck("Whole filesystem at this layer", func(bool) { p.fill() })
	p.Search = widget.NewEntry()
	p.Search.SetPlaceHolder("Find a path")
	p.Search.OnChanged = func(string) { p.fill() }
	p.Tree = widget.NewTree(
		func(id widget.TreeNodeID) []widget.TreeNodeID { return p.children[id] },
		func(id widget.TreeNodeID) bool { return len(p.children[id]) > 0 || p.rows[id].Dir },
		func(branch bool) fyne.CanvasObject {
			return container.NewBorder(nil, nil, nil, widget.NewLabel("1.2MB"), widget.NewLabel("name"))
		},
		func(id widget.TreeNodeID, branch bool, o fyne.CanvasObject) {
			r := p.rows[id]
			c := o.(*fyne.Container)
			name := c.Objects[0].(*widget.Label)
			text := path.Base(id)
			if r.Link != "" {
				text += " -> " + r.Link
			}
			mark := map[string]string{"added": "+ ", "modified": "~ ", "removed": "- "}[r.Change]
			name.SetText(mark + text)
			name.Importance = map[string]widget.Importance{"added": widget.SuccessImportance, "modified": widget.WarningImportance, "removed": widget.DangerImportance}[r.Change]
			name.Refresh()
			size := ""
			if !r.Dir && r.Change != "removed" {
				size = HumanSize(r.Size)
			}
			c.Objects[1].(*widget.Label).SetText(size)
		})
	left := container.NewBorder(nil, container.NewVBox(p.Efficiency, p.Wasted, container.NewHBox(NewConcept("layer"), NewConcept("image"))), nil, nil, p.List)
	right := container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, nil, p.ToLine, p.Merged), p.Search), nil, nil, nil, p.Tree)
	split := container.NewHSplit(left, right)
	split.Offset = 0.42
	p.Object = container.NewBorder(container.NewBorder(nil, nil, nil, p.Load, p.Image), nil, nil, nil, split)
	if p.images != nil {
		p.images.OnChange(func() { onMain(p.updateChoices) })
		p.updateChoices()
	}
	return p
}

func (p *LayersPanel) updateChoices() {
	var opts []string
	for _, r := range p.images.Rows() {
		opts = append(opts, r.Ref)
	}
	p.Image.SetOptions(opts)
}

// Show analyses image and shows its last layer.
func (p *LayersPanel) Show(image string) {
	image = strings.TrimSpace(image)
	if image == "" {
		return
	}
	p.Image.SetText(image)
	p.Efficiency.SetText("Reading the layers of " + image + "…")
	p.Load.Disable()
	go func() {
		m, err := app.LoadLayers(p.ctx, p.engine, image)
		onMain(func() {
			p.Load.Enable()
			if err != nil {
				p.Efficiency.SetText(app.Explain(err))
				return
			}
			p.model = m
			p.Efficiency.SetText(fmt.Sprintf("%s · efficiency %s · %s wasted (bytes a later layer deleted or replaced)", app.Plural(len(m.Layers), "layer", "layers"), Percent(m.Efficiency), HumanSize(m.Wasted)))
			var b strings.Builder
			for _, t := range m.Tips {
				b.WriteString("Tip: " + t + "\n")
			}
			for i, w := range m.WastedPaths {
				if i == 5 {
					break
				}
				b.WriteString(w + "\n")
			}
			p.Wasted.SetText(strings.TrimSpace(b.String()))
			p.List.Refresh()
			p.List.Select(len(m.Layers) - 1)
		})
	}()
}

func (p *LayersPanel) lineOf(l app.LayerSummary) int {
	if p.LineOf == nil {
		return 0
	}
	return p.LineOf(l)
}

// SelectLayer selects the layer with diff ID diffID in the image shown,
// and reports whether it is there.
func (p *LayersPanel) SelectLayer(diffID string) bool {
	if p.model == nil || diffID == "" {
		return false
	}
	for i, l := range p.model.Layers {
		if l.DiffID == diffID {
			if p.layer != i {
				p.List.Select(i)
			}
			return true
		}
	}
	return false
}

// Model is what is shown, nil before an image is explored.
func (p *LayersPanel) Model() *app.LayersModel { return p.model }

// Rows are the tree's paths.
func (p *LayersPanel) Rows() map[string]app.FileRow { return p.rows }

func (p *LayersPanel) fill() {
	if p.model == nil || p.layer < 0 {
		return
	}
	rows := p.model.Files(p.layer, p.Merged.Checked, p.Search.Text)
	p.children, p.rows = app.Tree(rows)
	p.Tree.Refresh()
	if p.Search.Text != "" || len(rows) < 200 {
		p.Tree.OpenAllBranches()
	}
}
