package views

import (
	"context"
	"errors"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine/enginetest"
)

// maxWindowWidth is the narrowest screen Berth promises to fit.
const maxWindowWidth = 1024

// Nothing a message says widens the window: the engine's reason on the
// no-engine screen, and long lines in every status the panels show.
func TestLongMessagesDoNotWidenTheWindow(t *testing.T) {
	long := "berthd: " + strings.Repeat("this system does not let ordinary users make user namespaces ", 12)
	fits := func(w *Window, what string) {
		t.Helper()
		if width := w.Win.Content().MinSize().Width; width > maxWindowWidth {
			t.Errorf("%s: the window needs %.0f px, more than %d", what, width, maxWindowWidth)
		}
	}

	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	failed := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, func(context.Context, app.Progress) error { return errors.New(long) })})
	waitUI(t, "the no-engine screen", func() bool { return failed.Status.Text == "No engine" })
	fits(failed, "the no-engine screen")
	failed.Win.Close()

	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	for name, label := range map[string]*widget.Label{
		"status bar": w.Status, "build status": w.Editor.LogStatus, "watch status": w.Editor.WatchStatus,
		"file name": w.Editor.File, "container stats": w.Containers.Stats, "search status": w.Search.Status,
		"layers efficiency": w.Layers.Efficiency,
	} {
		label.SetText(long)
		fyne.Do(func() {}) // the label's new size is laid out
		fits(w, name)
		label.SetText("")
	}
	w.Win.Close()
}

// The keyboard: Ctrl+1…5 bring the panels forward, Ctrl+F filters the
// images, and Ctrl+S saves the Dockerfile even while its text has the
// focus (an entry swallowed it).
func TestKeyboardShortcuts(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	defer w.Win.Close()
	// Fyne's test canvas dispatches no shortcuts; the editor's text does,
	// with the same table the window registers on its canvas.
	typed := w.Editor.Text
	ctrl := func(key fyne.KeyName) fyne.Shortcut {
		return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
	}
	panels := map[string]fyne.CanvasObject{TabContainers: w.Containers.Object, TabLayers: w.Layers.Object, TabImages: w.Gallery.Object, TabBuild: w.Editor.Object}
	for key, tab := range map[fyne.KeyName]string{fyne.Key3: TabContainers, fyne.Key5: TabLayers, fyne.Key1: TabImages, fyne.Key4: TabBuild} {
		typed.TypedShortcut(ctrl(key))
		if got := w.Tabs.Selected().Text; got != tab {
			t.Errorf("Ctrl+%s shows %s, want %s", key, got, tab)
		}
		// A panel is put in the window when first shown.
		if find(w.Win.Content(), func(o fyne.CanvasObject) bool { return o == panels[tab] }) == nil {
			t.Errorf("Ctrl+%s shows the %s tab without its panel", key, tab)
		}
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	os.WriteFile(file, []byte("FROM busybox\n"), 0o644)
	w.Editor.Open(dir)
	w.Win.Canvas().Focus(w.Editor.Text)
	w.Editor.Text.SetText("FROM busybox\nCMD [\"true\"]\n")
	w.Editor.Text.TypedShortcut(ctrl(fyne.KeyS))
	if data, _ := os.ReadFile(file); string(data) != "FROM busybox\nCMD [\"true\"]\n" {
		t.Errorf("Ctrl+S in the editor's text left the file as %q", data)
	}
	// The entry's own shortcuts still work there.
	w.Editor.Text.TypedShortcut(&fyne.ShortcutSelectAll{})
	if w.Editor.Text.SelectedText() != w.Editor.Text.Text {
		t.Error("Ctrl+A no longer selects the editor's text")
	}
	typed.TypedShortcut(ctrl(fyne.KeyF))
	if w.Tabs.Selected().Text != TabImages || w.Win.Canvas().Focused() != w.Gallery.Filter {
		t.Error("Ctrl+F does not focus the images' filter")
	}
}

// Enter in a dialog's entry does what its confirm button does, in every
// dialog that asks for something.
func TestEnterSubmitsDialogs(t *testing.T) {
	a := test.NewTempApp(t)
	w, fake := startOverFake(t, a)
	ctx := context.Background()
	fake.Store("busybox:1.36", smallImage(t))
	w.Core.Images.Refresh(ctx)
	waitUI(t, "the image", func() bool { return len(w.Gallery.Rows()) == 1 })
	settings := filepath.Join(t.TempDir(), "config.toml")
	w.opts.SettingsPath = settings
	for _, tc := range []struct {
		name string
		open func()
		text string
		done func() bool
	}{
		{"Tag", func() { w.Gallery.Select(0); test.Tap(w.Gallery.Buttons["Tag…"]) }, "me/web:v1", func() bool {
			_, err := fake.Inspect(ctx, "me/web:v1")
			return err == nil
		}},
		{"Create a volume", func() { test.Tap(buttonIn(w.Volumes.Object, "Create…")) }, "data", func() bool {
			_, err := fake.InspectVolume(ctx, "data")
			return err == nil
		}},
		{"Settings", w.ShowSettings, "", func() bool { _, err := os.Stat(settings); return err == nil }},
	} {
		tc.open()
		entry, _ := find(topOverlay(w.Win), func(o fyne.CanvasObject) bool { _, ok := o.(*escEntry); return ok }).(*escEntry)
		if entry == nil {
			t.Fatalf("%s: no entry in the dialog", tc.name)
		}
		if tc.text != "" {
			entry.SetText(tc.text)
		}
		entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		waitUI(t, tc.name+" done by Enter", tc.done)
		if top := topOverlay(w.Win); top != nil {
			t.Fatalf("%s: the dialog stayed open after Enter", tc.name)
		}
	}
}

// The Settings dialog reaches an engine over TLS: the check and the
// certificates folder are saved with the address; a folder without the
// certificates is refused, and nothing is saved.
func TestSettingsTakeTLS(t *testing.T) {
	a := test.NewTempApp(t)
	w, _ := startOverFake(t, a)
	settings := filepath.Join(t.TempDir(), "config.toml")
	w.opts.SettingsPath = settings
	certs := t.TempDir()
	save := func(dir string) {
		t.Helper()
		w.ShowSettings()
		top := topOverlay(w.Win)
		entries := map[string]*escEntry{}
		find(top, func(o fyne.CanvasObject) bool {
			if e, ok := o.(*escEntry); ok {
				entries[e.PlaceHolder] = e
			}
			return false
		})
		check, _ := find(top, func(o fyne.CanvasObject) bool {
			c, ok := o.(*widget.Check)
			return ok && strings.Contains(c.Text, "TLS")
		}).(*widget.Check)
		var address, folder *escEntry
		for ph, e := range entries {
			switch {
			case strings.HasPrefix(ph, "unix:///"):
				address = e
			case strings.Contains(ph, "ca.pem"):
				folder = e
			}
		}
		if check == nil || address == nil || folder == nil {
			t.Fatalf("the Settings dialog lacks the TLS check (%v), the address (%v) or the certificates folder (%v)", check != nil, address != nil, folder != nil)
		}
		address.SetText("tcp://10.0.0.5:2376")
		check.SetChecked(true)
		folder.SetText(dir)
		folder.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	}
	save(certs)
	if _, err := os.Stat(settings); err == nil {
		t.Fatal("settings naming a folder without certificates were saved")
	}
	if msg := find(topOverlay(w.Win), func(o fyne.CanvasObject) bool {
		l, ok := o.(*widget.Label)
		return ok && strings.Contains(l.Text, "ca.pem")
	}); msg == nil {
		t.Fatal("no error says the certificates are missing")
	}
	closeTopDialog(w.Win)
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		os.WriteFile(filepath.Join(certs, f), []byte("pem"), 0o600)
	}
	save(certs)
	s, _, err := app.LoadSettings(settings)
	if err != nil || !s.TLSVerify || s.CertPath != certs || s.Engine != "tcp://10.0.0.5:2376" {
		t.Fatalf("saved %+v, %v", s, err)
	}
}

// Ctrl+O asks for a folder that can be typed: Enter opens its Dockerfile,
// ~ is the home folder, and a folder that is not there says so.
func TestOpenFolderTakesATypedPath(t *testing.T) {
	a := test.NewTempApp(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	defer w.Win.Close()
	os.MkdirAll(filepath.Join(home, "web"), 0o755)
	os.WriteFile(filepath.Join(home, "web", "Dockerfile"), []byte("FROM busybox\n"), 0o644)

	open := func(path string) {
		t.Helper()
		w.Editor.Text.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault})
		entry, _ := find(topOverlay(w.Win), func(o fyne.CanvasObject) bool { _, ok := o.(*escEntry); return ok }).(*escEntry)
		if entry == nil {
			t.Fatal("Ctrl+O opened no dialog with a path to type")
		}
		if buttonIn(topOverlay(w.Win), "Browse…") == nil {
			t.Error("the Open dialog has no Browse… for the folder picker")
		}
		entry.SetText(path)
		entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	}
	open("~/web")
	if got := w.Editor.Text.Text; got != "FROM busybox\n" || w.Tabs.Selected().Text != TabBuild {
		t.Fatalf("after typing ~/web and Enter the editor shows %q on %s", got, w.Tabs.Selected().Text)
	}
	if w.Win.Canvas().Overlays().Top() != nil {
		t.Fatal("the Open dialog stayed open")
	}
	open(filepath.Join(home, "nowhere"))
	msg := find(topOverlay(w.Win), func(o fyne.CanvasObject) bool {
		l, ok := o.(*widget.Label)
		return ok && strings.Contains(l.Text, "nowhere")
	})
	if msg == nil {
		t.Fatal("a folder that is not there showed no error naming it")
	}
	if got := w.Editor.Text.Text; got != "FROM busybox\n" {
		t.Fatalf("a failed open changed the editor's text to %q", got)
	}
}

// Delete asks to remove the selected image; F5 reads the list again.
func TestDeleteAndF5(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	defer w.Win.Close()
	key := w.Win.Canvas().OnTypedKey()
	if key == nil {
		t.Fatal("the window takes no keys")
	}
	key(&fyne.KeyEvent{Name: fyne.KeyDelete}) // nothing selected: nothing happens
	if buttonIn(topOverlay(w.Win), "Yes") != nil {
		t.Fatal("Delete with nothing selected asked to remove something")
	}
	// Volumes come with no event: only F5 lists one made elsewhere.
	fake := w.Core.Engine.Images.(*enginetest.Fake)
	w.ShowTab(TabVolumes)
	waitUI(t, "the volumes read", w.Core.Volumes.Loaded)
	fake.CreateVolume(context.Background(), "late", nil)
	pump()
	if len(w.Volumes.Items()) != 0 {
		t.Fatal("the volume showed without F5: this test proves nothing")
	}
	key(&fyne.KeyEvent{Name: fyne.KeyF5})
	waitUI(t, "F5 to list the new volume", func() bool { return len(w.Volumes.Items()) == 1 })
	w.ShowTab(TabImages)
	fake.Store("busybox:1.36", smallImage(t))
	waitUI(t, "the image", func() bool { return len(w.Gallery.Rows()) == 1 })
	w.Gallery.Select(0)
	key(&fyne.KeyEvent{Name: fyne.KeyDelete})
	waitUI(t, "the confirmation", func() bool { return buttonIn(topOverlay(w.Win), "Yes") != nil })
}

// The status bar's engine button lists the engine contexts (the docker
// CLI's, and Berth's own) and switches to the one chosen, keeping the
// choice in the settings.
func TestEngineSwitcher(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	if err := app.WriteDockerContext("big", "the build server", "ssh://me@big.example"); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	if w.Engines.Text != "engine" {
		t.Errorf("the switcher says %q before a context is chosen", w.Engines.Text)
	}

	if w.Win.Canvas().Overlays().Top() != nil {
		t.Fatal("a pop-up is open before the engine button is tapped")
	}
	test.Tap(w.Engines)
	pop := w.Win.Canvas().Overlays().Top()
	var shown []string
	if pop != nil {
		for _, o := range test.LaidOutObjects(pop) {
			if text, ok := o.(*canvas.Text); ok {
				shown = append(shown, text.Text)
			}
		}
	}
	if !slices.Contains(shown, "big — ssh://me@big.example") {
		t.Fatalf("tapping the engine button showed %q, want the menu of engines", shown)
	}
	w.Win.Canvas().Overlays().Remove(pop)
	// Ctrl+E opens the same menu from the keyboard (Fyne's test canvas
	// dispatches no shortcuts; the editor's text does, with the window's table).
	w.Editor.Text.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault})
	if w.Win.Canvas().Overlays().Top() == nil {
		t.Error("Ctrl+E did not open the engine menu")
	} else {
		w.Win.Canvas().Overlays().Remove(w.Win.Canvas().Overlays().Top())
	}
	menu, err := w.ContextMenu()
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, it := range menu.Items {
		labels = append(labels, it.Label)
	}
	list, _ := app.Contexts()
	want := []string{"berth — Berth's own engine", "default — " + list[1].Host + " (the docker CLI's current)", "big — ssh://me@big.example", "", "Settings…"}
	if strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Errorf("the engine menu:\n got %q\nwant %q", labels, want)
	}

	menu.Items[2].Action() // big
	waitUI(t, "the switch to big", func() bool { return w.Core != nil && w.Core.Info().Context == "big" && w.Engines.Text == "big" })
	kept, _, _ := app.LoadSettings(settings)
	if kept.Context != "big" || kept.Engine != "" {
		t.Errorf("settings after the switch: context %q engine %q", kept.Context, kept.Engine)
	}
	menu, _ = w.ContextMenu()
	if !menu.Items[2].Checked || menu.Items[0].Checked {
		t.Errorf("the menu ticks the wrong engine after the switch")
	}
	w.Win.Close()
}

// A layer and the Dockerfile line that made it lead to each other: the
// Layers panel names the line and shows it in the editor; a line the
// cursor rests on selects its layer; the note says what the line added.
// After the build's record is gone, the history's instruction still finds
// the line.
func TestLayersAndLinesLeadToEachOther(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	defer w.Win.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY a.txt /\nRUN echo hi\nCMD [\"x\"]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	w.Editor.Open(dir)
	w.Editor.Tag.SetText("linked:dev")
	test.Tap(w.Editor.Build)
	waitUI(t, "the layers of the build", func() bool { m := w.Layers.Model(); return m != nil && len(m.Layers) == 2 && w.Layers.layer == 1 })

	if !w.Layers.ToLine.Visible() || w.Layers.ToLine.Disabled() || w.Layers.ToLine.Text != "Show line 3 in the editor" {
		t.Fatalf("the last layer's button: %q (disabled %v)", w.Layers.ToLine.Text, w.Layers.ToLine.Disabled())
	}
	test.Tap(w.Layers.ToLine)
	if w.Tabs.Selected().Text != TabBuild || w.Editor.Text.CursorRow != 2 {
		t.Errorf("Show line 3: tab %s, cursor row %d", w.Tabs.Selected().Text, w.Editor.Text.CursorRow)
	}
	if !strings.HasPrefix(w.Editor.Note.Text, "Last build: Made a 11B layer in 1ms; biggest: /step-3 (11B).") {
		t.Errorf("the note on line 3: %q", w.Editor.Note.Text)
	}

	w.Editor.goToLine(2)
	if w.Layers.layer != 0 {
		t.Errorf("the cursor on line 2 selected layer %d, want the COPY's (0)", w.Layers.layer)
	}

	w.Editor.log.ForgetLines()
	if got := w.Layers.LineOf(w.Layers.Model().Layers[0]); got != 2 {
		t.Errorf("by the history alone, the COPY's layer is from line %d, want 2", got)
	}
}

// A pull that ends while the window is in the background ends in a
// desktop notification; one that ends while it has the focus does not.
func TestLongPullNotifiesInTheBackground(t *testing.T) {
	a := test.NewTempApp(t)
	w, fake := startOverFake(t, a)
	w.Core.Attention.After = time.Nanosecond // every job is long here
	fake.Publish("registry.example/busybox:1.36", smallImage(t))
	lc := a.Lifecycle().(interface {
		OnExitedForeground() func()
		OnEnteredForeground() func()
	})
	pull := func() {
		pullWithProgress(w.Core, w.Win, "registry.example/busybox:1.36")
		waitUI(t, "the pull", func() bool { return topOverlay(w.Win) == nil })
	}
	test.AssertNotificationSent(t, nil, pull)
	lc.OnExitedForeground()()
	test.AssertNotificationSent(t, fyne.NewNotification("Pull registry.example/busybox:1.36 finished", "It took 0s."), pull)
	lc.OnEnteredForeground()()
	test.AssertNotificationSent(t, nil, pull)
}

// Escape closes the dialog on top as its dismiss button would, whether an
// entry in it has the focus or nothing has: a form (Pull), a confirmation
// (Remove, which then removes nothing), a message, a progress dialog
// (whose Cancel stops the work).
func TestEscapeClosesDialogs(t *testing.T) {
	a := test.NewTempApp(t)
	w, fake := startOverFake(t, a)
	escape := &fyne.KeyEvent{Name: fyne.KeyEscape}
	overlays := func() int { return len(w.Win.Canvas().Overlays().List()) }

	test.Tap(w.Gallery.Buttons["Pull…"])
	entry, _ := find(topOverlay(w.Win), func(o fyne.CanvasObject) bool { _, ok := o.(*escEntry); return ok }).(*escEntry)
	if entry == nil {
		t.Fatal("the Pull dialog has no entry")
	}
	w.Win.Canvas().Focus(entry)
	test.Type(entry, "busybox")
	entry.TypedKey(escape)
	if overlays() != 0 {
		t.Fatal("Escape in the Pull dialog's entry left it open")
	}

	fake.Store("busybox:1.36", smallImage(t))
	w.Core.Images.Refresh(context.Background())
	waitUI(t, "the image", func() bool { return len(w.Gallery.Rows()) == 1 })
	w.Gallery.Select(0)
	test.Tap(w.Gallery.Buttons["Remove"])
	if overlays() != 1 {
		t.Fatal("Remove asked nothing")
	}
	w.typedKey(escape)
	if overlays() != 0 {
		t.Fatal("Escape left the confirmation open")
	}
	if _, err := fake.Inspect(context.Background(), "busybox:1.36"); err != nil {
		t.Fatalf("Escape on 'Remove?' removed the image: %v", err)
	}

	dialog.ShowInformation("Done", "It worked.", w.Win)
	w.typedKey(escape)
	if overlays() != 0 {
		t.Fatal("Escape left a message open")
	}

	cancelled := false
	d := dialog.NewCustom("Pulling", "Cancel", widget.NewProgressBarInfinite(), w.Win)
	d.SetOnClosed(func() { cancelled = true })
	d.Show()
	w.typedKey(escape)
	if overlays() != 0 || !cancelled {
		t.Fatalf("Escape on a progress dialog: open %d, cancelled %v", overlays(), cancelled)
	}
}

// The welcome tour's first step needs nothing from the internet: it writes
// the starter project, opens it and builds it.
func TestWelcomeTourStartsOffline(t *testing.T) {
	a := test.NewTempApp(t)
	t.Setenv("HOME", t.TempDir())
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	defer w.Win.Close()
	w.ShowWelcome()
	test.Tap(buttonIn(topOverlay(w.Win), "Build the starter"))
	waitUI(t, "the starter's build", func() bool { return strings.HasPrefix(w.Editor.LogStatus.Text, "Built") })
	if !strings.HasSuffix(w.Editor.ed.Path(), filepath.Join("BerthSamples", "starter", "Dockerfile")) || w.Editor.Tag.Text != app.StarterTag || w.Tabs.Selected().Text != TabBuild {
		t.Fatalf("the tour opened %q as %q on %s", w.Editor.ed.Path(), w.Editor.Tag.Text, w.Tabs.Selected().Text)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(w.Editor.ed.Path()), "busybox.tar")); err != nil {
		t.Errorf("the starter has no root file system: %v", err)
	}
}

// In the light theme, build times, "CACHED", warnings and errors are read
// on the light background: each status colour stands at least 4.5:1
// against it (WCAG AA); the dark theme keeps Fyne's own.
func TestLightThemeStatusColoursAreReadable(t *testing.T) {
	contrast := func(a, b color.Color) float64 {
		lum := func(c color.Color) float64 {
			r, g, b, _ := color.NRGBAModel.Convert(c).RGBA()
			ch := func(v uint32) float64 {
				x := float64(v>>8) / 255
				if x <= 0.03928 {
					return x / 12.92
				}
				return math.Pow((x+0.055)/1.055, 2.4)
			}
			return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(b)
		}
		la, lb := lum(a), lum(b)
		return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
	}
	for _, fixed := range []bool{true, false} { // chosen in the settings, or the system's
		th := berthTheme{theme.DefaultTheme(), theme.VariantLight, fixed}
		bg := th.Color(theme.ColorNameBackground, theme.VariantLight)
		for _, n := range []fyne.ThemeColorName{theme.ColorNameSuccess, theme.ColorNameWarning, theme.ColorNameError} {
			if c := contrast(th.Color(n, theme.VariantLight), bg); c < 4.5 {
				t.Errorf("light %s: contrast %.1f:1 against the background", n, c)
			}
		}
	}
	dark := berthTheme{theme.DefaultTheme(), theme.VariantDark, true}
	if dark.Color(theme.ColorNameSuccess, theme.VariantLight) != theme.DefaultTheme().Color(theme.ColorNameSuccess, theme.VariantDark) {
		t.Error("the dark theme's success colour changed")
	}
}
