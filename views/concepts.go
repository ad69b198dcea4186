package views

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Concepts are the words a beginner meets first, explained where they appear.
var Concepts = map[string]string{
	"image":     "An image is a packaged app: a stack of read-only file layers plus settings (the command to run, ports, environment). It never changes; you run it to get a container.",
	"tag":       "A tag names one version of an image in a repository: python:3.12-slim is the repository python at tag 3.12-slim. With no tag, Docker means latest.",
	"layer":     "A layer is the set of files one build step added, changed or deleted. Layers are shared between images and cached between builds, which is why rebuilding is fast.",
	"container": "A container is a running (or stopped) instance of an image, with its own processes, network address and a writable layer on top of the image's files.",
	"registry":  "A registry is a server that stores images, such as Docker Hub. Pull downloads an image from it; push uploads yours.",
}

// Concept is a "What is …?" hint: hovering (or tapping) it shows the
// concept's explanation in a pop-up.
type Concept struct {
	widget.BaseWidget
	Term  string
	label *widget.Label
	popup *widget.PopUp
}

// NewConcept makes the hint for term (a key of Concepts).
func NewConcept(term string) *Concept {
	c := &Concept{Term: term, label: widget.NewLabel("What is a " + term + "?")}
	if term == "image" {
		c.label.SetText("What is an image?")
	}
	// In the theme's link colour: a faint italic grey went unread (and
	// italic text costs the app a font of its own, 3 MB, for this alone).
	c.label.Importance = widget.HighImportance
	c.ExtendBaseWidget(c)
	return c
}

func (c *Concept) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.label) }

// Explanation is the text the pop-up shows.
func (c *Concept) Explanation() string { return Concepts[c.Term] }

func (c *Concept) show() {
	canvas := fyne.CurrentApp().Driver().CanvasForObject(c)
	if canvas == nil || c.popup != nil && c.popup.Visible() {
		return
	}
	text := widget.NewLabel(c.Explanation())
	text.Wrapping = fyne.TextWrapWord
	c.popup = widget.NewPopUp(text, canvas)
	c.popup.Resize(fyne.NewSize(360, text.MinSize().Height*4))
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c)
	c.popup.ShowAtPosition(pos.Add(fyne.NewPos(0, c.Size().Height)))
}

func (c *Concept) hide() {
	if c.popup != nil {
		c.popup.Hide()
	}
}

// Visible pop-up: tests and the tour use it.
func (c *Concept) Showing() bool { return c.popup != nil && c.popup.Visible() }

func (c *Concept) MouseIn(*desktop.MouseEvent)    { c.show() }
func (c *Concept) MouseMoved(*desktop.MouseEvent) {}
func (c *Concept) MouseOut()                      { c.hide() }
func (c *Concept) Tapped(*fyne.PointEvent) {
	if c.Showing() {
		c.hide()
	} else {
		c.show()
	}
}
