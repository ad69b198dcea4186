package views

import (
	"reflect"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// closeTopDialog closes the dialog on top of w the way its own dismiss
// button does (Cancel, No, OK, Close), so its callback and its on-closed
// work (a cancelled pull) run as after a click. It reports whether there
// was one. Fyne's dialogs do not close on Escape by themselves.
func closeTopDialog(w fyne.Window) bool {
	top := w.Canvas().Overlays().Top()
	if top == nil {
		return false
	}
	if b := dismissButton(top); b != nil && !b.Disabled() && b.OnTapped != nil {
		b.OnTapped()
		return true
	}
	return false
}

// dismissButton finds a dialog's dismiss button: the one with the cancel
// icon (confirm and form dialogs), else the last button that is not a
// confirm (a dialog of one button, drawn after its content).
func dismissButton(o fyne.CanvasObject) *widget.Button {
	cancelIcon := theme.CancelIcon().Name() // the icon Fyne's dialogs give their dismiss button (asked now: at init there is no app)
	var last *widget.Button
	var walk func(fyne.CanvasObject) *widget.Button
	walk = func(o fyne.CanvasObject) *widget.Button {
		var kids []fyne.CanvasObject
		switch c := o.(type) {
		case *widget.Button:
			if c.Icon != nil && c.Icon.Name() == cancelIcon {
				return c
			}
			if c.Visible() && c.Importance != widget.HighImportance { // never a confirm
				last = c
			}
			return nil
		case *fyne.Container:
			kids = c.Objects
		case *container.Scroll:
			kids = []fyne.CanvasObject{c.Content}
		default:
			if content := contentOf(o); content != nil {
				kids = []fyne.CanvasObject{content}
			}
		}
		for _, k := range kids {
			if b := walk(k); b != nil {
				return b
			}
		}
		return nil
	}
	if b := walk(o); b != nil {
		return b
	}
	return last
}

// contentOf is the Content of a wrapper widget: a dialog's overlay is one
// (Fyne's PopUp, and in 2.8 an internal overlay container around it) that
// has no public way to its children but this exported field. A Fyne that
// moves it fails TestEscapeClosesDialogs.
func contentOf(o fyne.CanvasObject) fyne.CanvasObject {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Content")
	if !f.IsValid() || !f.CanInterface() {
		return nil
	}
	c, _ := f.Interface().(fyne.CanvasObject)
	return c
}

// escEntry is an entry for a dialog: Escape closes the dialog, as it does
// where no entry has the focus (Fyne's entry keeps the key to itself).
type escEntry struct {
	widget.Entry
	win fyne.Window
}

func newEscEntry(w fyne.Window) *escEntry {
	e := &escEntry{win: w}
	e.ExtendBaseWidget(e)
	return e
}

func newEscPasswordEntry(w fyne.Window) *escEntry {
	e := newEscEntry(w)
	e.Password = true
	return e
}

func newEscMultiLineEntry(w fyne.Window) *escEntry {
	e := newEscEntry(w)
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	return e
}

// TypedKey closes the dialog on Escape, and is the entry otherwise.
func (e *escEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && closeTopDialog(e.win) {
		return
	}
	e.Entry.TypedKey(ev)
}

// newFormDialog is dialog.NewForm where Enter in any one-line entry of the
// form submits it, as the confirm button would: Fyne's form leaves Enter
// to the entry, which does nothing with it.
func newFormDialog(title, confirm string, items []*widget.FormItem, done func(bool), w fyne.Window) *dialog.FormDialog {
	d := dialog.NewForm(title, confirm, "Cancel", items, done, w)
	var wire func(o fyne.CanvasObject)
	wire = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *escEntry:
			if !o.MultiLine {
				o.OnSubmitted = func(string) { d.Submit() }
			}
		case *fyne.Container:
			for _, c := range o.Objects {
				wire(c)
			}
		}
	}
	for _, it := range items {
		wire(it.Widget)
	}
	return d
}

// closeOnEscape makes Escape close w, a window of its own (logs, details,
// an ended shell), as it closes a dialog, when no widget in it takes the key.
func closeOnEscape(w fyne.Window) {
	w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape {
			w.Close()
		}
	})
}
