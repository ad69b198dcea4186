package views

import (
	"context"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/assets"
	"github.com/berth-dev/berth/engine"
)

// Window is Berth's main window: one tab per panel and a status bar.
type Window struct {
	Win    fyne.Window
	Tabs   *container.AppTabs
	Status *widget.Label

	Gallery    *Gallery
	Search     *SearchPanel
	Containers *ContainersPanel
	Editor     *EditorPanel
	Layers     *LayersPanel

	Conn           *app.Connection
	Images         *app.Images
	ContainerState *app.Containers
	Settings       app.Settings
	settingsAt     string
	cancel         context.CancelFunc // the panels' following of the engine

	vm             vmHandle // Berth's VM, when the engine runs there
	stopWatchingVM context.CancelFunc
	startCancel    context.CancelFunc // the connection under way (launch)
	starting       chan struct{}      // closed when it is over
	shutdownOnce   sync.Once
}

// Shutdown ends the window's work when it closes or the app ends (a quit
// from the menu, a logout's SIGTERM): the panels stop following the
// engine, and Berth's VM stops cleanly, or with keep_running is left
// running for the next start to adopt. It may be called more than once.
func (w *Window) Shutdown() {
	w.shutdownOnce.Do(func() {
		// A VM still booting is stopped, not left behind (startEngine
		// stops, or with keep_running lets go of, what it started).
		if w.startCancel != nil {
			w.startCancel()
			select {
			case <-w.starting:
			case <-time.After(40 * time.Second):
			}
		}
		if w.stopWatchingVM != nil {
			w.stopWatchingVM()
		}
		if w.cancel != nil {
			w.cancel()
		}
		if w.vm == nil {
			return
		}
		if w.Settings.VM.KeepRunning {
			w.vm.Detach()
		} else {
			w.vm.Stop(context.Background())
		}
	})
}

// Start shows the window at once, connects to the engine in the
// background (starting Berth's own when none answers) and fills the
// panels when it answers.
func Start(a fyne.App, settingsPath, engineOverride string) *Window {
	w := &Window{Win: a.NewWindow("Berth"), Status: widget.NewLabel("Connecting to the engine…"), settingsAt: settingsPath}
	w.Win.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	s, warnings, err := app.LoadSettings(settingsPath)
	if engineOverride != "" {
		s.Engine = engineOverride
	}
	w.Settings = s
	applyTheme(a, s.Theme)
	w.Win.SetContent(container.NewBorder(nil, w.Status, nil, nil, container.NewCenter(widget.NewProgressBarInfinite())))
	w.Win.Resize(fyne.NewSize(1100, 720))
	if err != nil {
		dialog.ShowError(err, w.Win) // the defaults are in use; the message names the line
	}
	if len(warnings) > 0 {
		w.Status.SetText(strings.Join(warnings, "; "))
	}
	w.Win.SetOnClosed(w.Shutdown) // (a close while the engine starts, too)
	w.launch(s)
	return w
}

// launch starts connecting in the background; Shutdown cancels it.
func (w *Window) launch(s app.Settings) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w.startCancel, w.starting = cancel, done
	go func() {
		defer close(done)
		w.startEngine(ctx, s)
	}()
}

// startEngine connects to the engine the settings name, starting Berth's
// (natively, or its VM with its progress) when none answers, and fills
// the window; on failure it says why and offers to try again.
func (w *Window) startEngine(ctx context.Context, s app.Settings) {
	var conn *app.Connection
	var err error
	var h vmHandle
	if s.UsesVM() {
		onMain(func() { w.Status.SetText("Starting Berth's VM…") })
		bar := widget.NewProgressBar()
		determinate := false
		conn, h, err = connectVM(ctx, s, func(step string, fraction float64) {
			onMain(func() {
				w.Status.SetText(step)
				switch {
				case fraction >= 0 && !determinate: // a first use: the image is unpacked
					determinate = true
					w.Win.SetContent(container.NewBorder(nil, w.Status, nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSize(420, 40), bar))))
				case fraction < 0 && determinate: // then the VM boots, for a time nobody can tell
					determinate = false
					w.Win.SetContent(container.NewBorder(nil, w.Status, nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSize(420, 40), widget.NewProgressBarInfinite()))))
				}
				if fraction >= 0 {
					bar.SetValue(fraction)
				}
			})
		})
	} else {
		conn, err = app.Connect(ctx, s, app.StartBerthdFor(s))
	}
	if ctx.Err() != nil { // the app is quitting: a VM booted meanwhile goes too
		if h != nil && s.VM.KeepRunning {
			h.Detach()
		} else if h != nil {
			h.Stop(context.Background())
		}
		return
	}
	onMain(func() {
		if err != nil {
			w.Status.SetText("No engine: " + app.Explain(err))
			hint := "Start an engine (packaging/dev/setup.sh run starts Berth's), or choose another one in Settings."
			if s.UsesVM() {
				hint = "Berth's VM did not start; what it printed last is above. Try again, or change the VM's settings."
			}
			msg := widget.NewLabel(app.Explain(err) + "\n\n" + hint)
			msg.Wrapping = fyne.TextWrapWord
			retry := widget.NewButton("Try again", func() {
				w.Status.SetText("Connecting to the engine…")
				w.Win.SetContent(container.NewBorder(nil, w.Status, nil, nil, container.NewCenter(widget.NewProgressBarInfinite())))
				w.launch(s)
			})
			w.Win.SetContent(container.NewBorder(nil, w.Status, nil, nil, container.NewVBox(msg, container.NewHBox(retry, widget.NewButton("Settings…", w.ShowSettings)))))
			return
		}
		w.Connect(conn)
		if h != nil {
			w.watchVM(h) // after Connect: the VM's state then has the status bar's last word
		}
	})
}

// Connect builds the panels over conn and follows the engine's events.
func (w *Window) Connect(conn *app.Connection) {
	w.Conn = conn
	w.Status.SetText(conn.Status)
	w.Images = app.NewImages(conn.Images(), conn.Registry())
	w.ContainerState = app.NewContainers(conn.Containers())
	search := app.NewSearch(conn.Registry(), w.Settings.DefaultRegistry)
	editor := app.NewEditor("")
	editor.Debounce = 150 * time.Millisecond
	if w.Settings.WatchDebounce.Duration > 0 {
		editor.Debounce = w.Settings.WatchDebounce.Duration
	}
	buildLog := &app.BuildLog{}

	run := func(ref string) {
		ShowRun(w.ContainerState, ref, w.Win, func(string) { w.Tabs.SelectIndex(2) })
	}
	w.Layers = NewLayersPanel(conn.Client, w.Images)
	w.Gallery = NewGallery(w.Images, w.Win, GalleryActions{Run: run, ExploreLayers: func(ref string) {
		w.Tabs.SelectIndex(4)
		w.Layers.Show(ref)
	}})
	w.Search = NewSearchPanel(search, func(ref string) {
		w.Tabs.SelectIndex(0)
		ShowPull(w.Images, w.Win, ref)
	}, run)
	w.Containers = NewContainersPanel(w.ContainerState, w.Win)
	w.Editor = NewEditorPanel(editor, buildLog, conn.Builder(), w.ContainerState, w.Win, func(res engine.BuildResult) {
		w.Layers.Show(res.ImageID)
	})
	w.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Images", theme.StorageIcon(), w.Gallery.Object),
		container.NewTabItemWithIcon("Search", theme.SearchIcon(), w.Search.Object),
		container.NewTabItemWithIcon("Containers", theme.ComputerIcon(), w.Containers.Object),
		container.NewTabItemWithIcon("Build", theme.DocumentCreateIcon(), w.Editor.Object),
		container.NewTabItemWithIcon("Layers", theme.ListIcon(), w.Layers.Object),
	)
	settings := widget.NewButtonWithIcon("", theme.SettingsIcon(), w.ShowSettings)
	help := widget.NewButtonWithIcon("", theme.HelpIcon(), w.ShowWelcome)
	w.Win.SetContent(container.NewBorder(nil, container.NewBorder(nil, nil, nil, container.NewHBox(help, settings), w.Status), nil, nil, w.Tabs))
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.Win.SetOnClosed(w.Shutdown)
	go func() {
		w.Images.Refresh(ctx)
		w.ContainerState.Refresh(ctx)
		app.Follow(ctx, conn.Events(), w.Images, w.ContainerState)
	}()
	if w.Settings.Welcome == nil || *w.Settings.Welcome {
		w.ShowWelcome()
	}
}

// ShowWelcome is the first-run tour: pull, run, open, edit, build, layers.
func (w *Window) ShowWelcome() {
	if w.Tabs == nil {
		return
	}
	steps := []struct{ text, button string }{
		{"1. An image is a packaged app: files in layers plus how to start it. Pull one from a registry.", "Pull busybox"},
		{"2. A container is a running copy of an image. Run the image with a port published.", "Run it"},
		{"3. Open the published port in your browser.", "Containers"},
		{"4. A Dockerfile is the recipe for an image. Open the sample and read the notes beside each line.", "Open the sample"},
		{"5. Build it: each step makes a layer, and unchanged steps come from the cache.", "Build tab"},
		{"6. See what each layer added, changed or removed.", "Layers tab"},
	}
	var d dialog.Dialog
	rows := container.NewVBox()
	for i, s := range steps {
		i := i
		label := widget.NewLabel(s.text)
		label.Wrapping = fyne.TextWrapWord
		rows.Add(container.NewBorder(nil, nil, nil, widget.NewButton(s.button, func() {
			d.Hide()
			w.welcomeStep(i)
		}), label))
	}
	d = dialog.NewCustom("Welcome to Berth", "Close", container.NewVScroll(rows), w.Win)
	d.SetOnClosed(func() {
		no := false
		w.Settings.Welcome = &no
		app.SaveSettings(w.settingsAt, w.Settings)
	})
	d.Resize(fyne.NewSize(720, 460))
	d.Show()
}

func (w *Window) welcomeStep(i int) {
	switch i {
	case 0:
		w.Tabs.SelectIndex(0)
		ShowPull(w.Images, w.Win, "busybox:1.36")
	case 1:
		d := ShowRun(w.ContainerState, "busybox:1.36", w.Win, func(string) { w.Tabs.SelectIndex(2) })
		d.Ports.SetText("8080:8080")
		d.Command.SetText("mkdir -p /www && echo '<h1>Hello from a container</h1>' > /www/index.html && httpd -f -p 8080 -h /www")
	case 2:
		w.Tabs.SelectIndex(2)
	case 3:
		home, _ := os.UserHomeDir()
		dir, err := assets.WriteSample("hello", filepath.Join(home, "BerthSamples"))
		if err != nil {
			showError(err, w.Win)
			return
		}
		w.Editor.Open(dir)
		w.Editor.Tag.SetText("hello:dev")
		w.Tabs.SelectIndex(3)
	case 4:
		w.Tabs.SelectIndex(3)
	case 5:
		w.Tabs.SelectIndex(4)
	}
}

// ShowSettings edits config.toml.
func (w *Window) ShowSettings() {
	s := w.Settings
	eng := widget.NewEntry()
	eng.SetText(s.Engine)
	eng.SetPlaceHolder("empty: $DOCKER_HOST, else Berth's own engine")
	reg := widget.NewEntry()
	reg.SetText(s.DefaultRegistry)
	insecure := widget.NewEntry()
	insecure.SetText(strings.Join(s.InsecureRegistries, ", "))
	insecure.SetPlaceHolder("host:port, …")
	th := widget.NewSelect([]string{"system", "light", "dark"}, nil)
	th.SetSelected(s.Theme)
	deb := widget.NewEntry()
	deb.SetText(s.WatchDebounce.Duration.String())
	dialog.ShowForm("Settings", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Engine", eng), widget.NewFormItem("Search registry", reg),
		widget.NewFormItem("Insecure registries", insecure), widget.NewFormItem("Theme", th),
		widget.NewFormItem("Rebuild delay", deb),
	}, func(ok bool) {
		if !ok {
			return
		}
		s.Engine, s.DefaultRegistry, s.Theme = strings.TrimSpace(eng.Text), strings.TrimSpace(reg.Text), th.Selected
		s.InsecureRegistries = nil
		for _, r := range strings.Split(insecure.Text, ",") {
			if r = strings.TrimSpace(r); r != "" {
				s.InsecureRegistries = append(s.InsecureRegistries, r)
			}
		}
		if d, err := time.ParseDuration(strings.TrimSpace(deb.Text)); err == nil {
			s.WatchDebounce.Duration = d
		} else {
			showError(err, w.Win)
			return
		}
		if err := app.SaveSettings(w.settingsAt, s); err != nil {
			showError(err, w.Win)
			return
		}
		engineChanged := s.Engine != w.Settings.Engine
		w.Settings = s
		applyTheme(fyne.CurrentApp(), s.Theme)
		if engineChanged {
			dialog.ShowInformation("Settings saved", "Berth connects to the new engine the next time it starts.", w.Win)
		}
	}, w.Win)
}

// variantTheme forces the light or dark variant of the default theme.
type variantTheme struct {
	fyne.Theme
	v fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.v)
}

func applyTheme(a fyne.App, name string) {
	switch name {
	case "dark":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantDark})
	case "light":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}

// vmHandle is Berth's VM as the window holds it.
type vmHandle interface {
	Stop(context.Context) error
	Detach()
	Supervise(context.Context, func(app.VMStatus))
}

// connectVM starts the VM helper (a var so a test can stand in for it).
var connectVM = func(ctx context.Context, s app.Settings, progress app.Progress) (*app.Connection, vmHandle, error) {
	conn, v, err := app.ConnectVM(ctx, s, progress)
	if err != nil {
		return nil, nil, err
	}
	return conn, v, nil
}

// watchVM keeps the status bar on the VM's state (it restarts after a
// crash) and shows why when it fails for good; Shutdown stops it.
func (w *Window) watchVM(h vmHandle) {
	ctx, cancel := context.WithCancel(context.Background())
	w.vm, w.stopWatchingVM = h, cancel
	go h.Supervise(ctx, func(st app.VMStatus) {
		onMain(func() {
			w.Status.SetText(st.Line())
			if st.State == "failed" {
				w.showVMFailure(st)
			}
		})
	})
	w.Win.SetOnClosed(w.Shutdown)
}

// showVMFailure explains a VM failure with the console's last lines,
// which say what the guest saw.
func (w *Window) showVMFailure(st app.VMStatus) {
	tail := widget.NewLabel(st.ConsoleTail)
	tail.TextStyle.Monospace = true
	body := container.NewBorder(widget.NewLabel(st.Reason+"\n\nBerth restarts its VM after a crash; it stopped trying after three quick failures. The VM's console ended with:"), nil, nil, nil,
		container.NewScroll(tail))
	d := dialog.NewCustom("Berth's VM stopped", "Close", body, w.Win)
	d.Resize(fyne.NewSize(760, 420))
	d.Show()
}
