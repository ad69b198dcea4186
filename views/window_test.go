package views

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
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
