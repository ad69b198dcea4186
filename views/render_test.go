package views

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// cacheRenderer is the renderer Fyne's driver holds for w.
func cacheRenderer(w fyne.Widget) fyne.WidgetRenderer { return test.WidgetRenderer(w) }
