package views

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// SearchPanel finds images in a registry (Docker Hub by default) and
// pulls or runs the chosen one at the chosen tag.
type SearchPanel struct {
	Object  fyne.CanvasObject
	Query   *widget.Entry
	Go      *widget.Button
	Results *widget.List
	Tags    *widget.Select
	Pull    *widget.Button
	Run     *widget.Button
	Status  *widget.Label

	search   *app.Search
	ctx      context.Context // the Core's: searches end with it
	results  []engine.SearchResult
	selected int
}

// NewSearchPanel builds the Search panel; pull and run take "name:tag".
func NewSearchPanel(c *app.Core, pull, run func(ref string)) *SearchPanel {
	p := &SearchPanel{search: c.Search, ctx: c.Context(), selected: -1}
	p.Query = widget.NewEntry()
	p.Query.SetPlaceHolder("Search images, e.g. python, nginx, redis")
	p.Query.OnSubmitted = func(string) { p.find() }
	p.Go = widget.NewButton("Search", p.find)
	p.Status = widget.NewLabel("A registry is where images are published; Docker Hub is the public one. Type a name to search Docker Hub, or a registry's address (localhost:5000, or localhost:5000/app) to search that registry.")
	p.Status.Wrapping = fyne.TextWrapWord
	p.Results = widget.NewList(
		func() int { return len(p.results) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("name")
			name.TextStyle.Bold = true
			desc := widget.NewLabel("description")
			desc.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, nil, widget.NewLabel("★ 0"), container.NewVBox(name, desc))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(p.results) {
				return
			}
			r := p.results[i]
			c := o.(*fyne.Container)
			vb := c.Objects[0].(*fyne.Container)
			name := r.Name
			if r.Official {
				name += "  (official)"
			}
			vb.Objects[0].(*widget.Label).SetText(name)
			desc := vb.Objects[1].(*widget.Label)
			desc.SetText(r.Description)
			desc.Hidden = r.Description == "" // a registry's catalog has none: no empty line
			stars := c.Objects[1].(*widget.Label)
			stars.SetText(fmt.Sprintf("★ %d", r.Stars))
			stars.Hidden = r.Stars == 0 // Docker Hub's; other registries count none
			vb.Refresh()
			c.Refresh()
		})
	p.Tags = widget.NewSelect(nil, nil)
	p.Tags.PlaceHolder = "tag"
	ref := func() string {
		if p.selected < 0 || p.selected >= len(p.results) {
			return ""
		}
		tag := p.Tags.Selected
		if tag == "" {
			tag = "latest"
		}
		return p.results[p.selected].Name + ":" + tag
	}
	p.Pull = widget.NewButton("Pull", func() {
		if r := ref(); r != "" && pull != nil {
			pull(r)
		}
	})
	p.Run = widget.NewButton("Run", func() {
		if r := ref(); r != "" && run != nil {
			run(r)
		}
	})
	p.Pull.Disable()
	p.Run.Disable()
	p.Results.OnSelected = func(i widget.ListItemID) { p.choose(i) }
	top := container.NewBorder(nil, nil, nil, p.Go, p.Query)
	bottom := container.NewBorder(nil, nil, widget.NewLabel("Tag"), container.NewHBox(p.Pull, p.Run), p.Tags)
	p.Object = container.NewBorder(container.NewVBox(top, p.Status), container.NewVBox(bottom, container.NewHBox(NewConcept("registry"), NewConcept("tag"))), nil, nil, p.Results)
	return p
}

// searchedWhere says where a search looked: Docker Hub, or the registry
// the term names ("127.0.0.1:5000/app", "ghcr.io/owner").
func searchedWhere(term string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(term), "/")
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		return "in " + first
	}
	return "on Docker Hub"
}

func (p *SearchPanel) find() {
	term := p.Query.Text
	p.Status.SetText("Searching…")
	p.Go.Disable()
	go func() {
		res, err := p.search.Find(p.ctx, term)
		onMain(func() {
			p.Go.Enable()
			p.selected = -1
			p.Results.UnselectAll()
			p.Pull.Disable()
			p.Run.Disable()
			if err != nil {
				p.results = nil
				p.Status.SetText(app.Explain(err))
			} else {
				p.results = res
				if len(res) == 0 {
					p.Status.SetText("Nothing found for " + strings.TrimSpace(term) + ".")
				} else {
					p.Status.SetText(app.Plural(len(res), "image", "images") + " " + searchedWhere(term) + ". Pick one, then a tag.")
				}
			}
			// A registry's catalog has no descriptions: its rows are one
			// line tall, not a name over an empty line.
			oneLine, twoLines := widget.NewLabel("name").MinSize().Height, p.Results.CreateItem().MinSize().Height
			for i, r := range p.results {
				h := twoLines
				if r.Description == "" {
					h = oneLine
				}
				p.Results.SetItemHeight(i, h)
			}
			p.Results.Refresh()
		})
	}()
}

func (p *SearchPanel) choose(i int) {
	if i >= len(p.results) {
		return
	}
	p.selected = i
	p.Pull.Enable()
	p.Run.Enable()
	name := p.results[i].Name
	p.Tags.Options = []string{"latest"}
	p.Tags.SetSelected("latest")
	go func() {
		tags, err := p.search.Tags(p.ctx, name)
		onMain(func() {
			if p.selected != i {
				return
			}
			if err != nil || len(tags) == 0 {
				return // the registry lists no tags (Docker Hub through some engines): latest stays
			}
			p.Tags.Options = tags
			p.Tags.SetSelected(tags[0])
		})
	}()
}

// ResultNames are the names listed.
func (p *SearchPanel) ResultNames() []string {
	var out []string
	for _, r := range p.results {
		out = append(out, r.Name)
	}
	return out
}
