package views

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// shortcut is one of the window's keyboard shortcuts: Ctrl (Cmd on
// macOS) with key, and what it does.
type shortcut struct {
	key  fyne.KeyName
	what string
	run  func()
}

func (s shortcut) desktop() *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: s.key, Modifier: fyne.KeyModifierShortcutDefault}
}

// shortcuts is the window's table of shortcuts, the one place they are
// named (the help lists it).
func (w *Window) shortcuts() []shortcut {
	tab := func(name string) func() { return func() { w.ShowTab(name) } }
	return []shortcut{
		{fyne.Key1, "Images", tab(TabImages)},
		{fyne.Key2, "Search", tab(TabSearch)},
		{fyne.Key3, "Containers", tab(TabContainers)},
		{fyne.Key4, "Build", tab(TabBuild)},
		{fyne.Key5, "Layers", tab(TabLayers)},
		{fyne.Key6, "Volumes", tab(TabVolumes)},
		{fyne.KeyS, "save the Dockerfile", func() { w.ShowTab(TabBuild); w.Editor.Save() }},
		{fyne.KeyO, "open a folder", func() { w.ShowTab(TabBuild); w.Editor.OpenFolder() }},
		{fyne.KeyB, "build", func() {
			w.ShowTab(TabBuild)
			if !w.Editor.Build.Disabled() {
				w.Editor.startBuild()
			}
		}},
		{fyne.KeyF, "filter the images", func() { w.ShowTab(TabImages); w.Win.Canvas().Focus(w.Gallery.Filter) }},
		{fyne.KeyE, "switch engines", func() {
			if w.Engines != nil {
				w.Engines.OnTapped()
			}
		}},
	}
}

// addShortcuts registers the shortcuts with the window, and with the
// editor's text, which would otherwise swallow them while it has focus.
func (w *Window) addShortcuts() {
	byName := map[string]func(){}
	for _, s := range w.shortcuts() {
		sc := s.desktop()
		byName[sc.ShortcutName()] = s.run
		w.Win.Canvas().AddShortcut(sc, func(fyne.Shortcut) { s.run() })
	}
	w.Win.Canvas().SetOnTypedKey(w.typedKey)
	w.Editor.Text.passShortcut = func(s fyne.Shortcut) bool {
		if run := byName[s.ShortcutName()]; run != nil {
			run()
			return true
		}
		return false
	}
}

// shortcutHelp lists the shortcuts for the help.
func (w *Window) shortcutHelp() string {
	var parts []string
	for _, s := range w.shortcuts() {
		parts = append(parts, s.desktop().ShortcutName()[len("CustomDesktop:"):]+" "+s.what)
	}
	return "Keyboard: " + strings.Join(parts, " · ") + " · Delete removes the selection (after asking) · F5 reads the list again · Enter submits a dialog, Escape closes it"
}

// shortcutEntry is a multi-line entry that lets the window's shortcuts
// through: Fyne gives a focused entry every shortcut, and an entry drops
// those it does not know (Ctrl+S did nothing while typing).
type shortcutEntry struct {
	widget.Entry
	passShortcut func(fyne.Shortcut) bool
}

func newShortcutEntry() *shortcutEntry {
	e := &shortcutEntry{}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut runs the window's shortcut, or the entry's own.
func (e *shortcutEntry) TypedShortcut(s fyne.Shortcut) {
	if e.passShortcut != nil && e.passShortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

// typedKey takes the keys no widget has the focus for: Escape closes the
// dialog on top, Delete removes the current panel's selection (its Remove,
// which asks first), F5 reads the panel's list again.
func (w *Window) typedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		closeTopDialog(w.Win)
		return
	}
	if w.Tabs == nil || w.Tabs.Selected() == nil {
		return
	}
	tab := w.Tabs.Selected().Text
	switch ev.Name {
	case fyne.KeyDelete:
		buttons := map[string]map[string]*widget.Button{TabImages: w.Gallery.Buttons, TabContainers: w.Containers.Buttons, TabVolumes: w.Volumes.Buttons}[tab]
		if b := buttons["Remove"]; b != nil && !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	case fyne.KeyF5:
		ctx := w.Core.Context()
		switch tab {
		case TabImages:
			go w.Core.Images.Refresh(ctx)
		case TabContainers:
			go w.Core.Containers.Refresh(ctx)
		case TabVolumes:
			go w.Volumes.refresh()
		}
	}
}
