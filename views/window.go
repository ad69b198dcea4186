package views

import (
	"cmp"
	"context"
	"fmt"
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

// Tab names: panels are chosen by name.
const (
	TabImages     = "Images"
	TabSearch     = "Search"
	TabContainers = "Containers"
	TabBuild      = "Build"
	TabLayers     = "Layers"
	TabVolumes    = "Volumes"
)

// Window is Berth's main window: one tab per panel and a status bar. It
// draws an app.Core; connecting, the VM and shutting down are the Core's.
type Window struct {
	Win    fyne.Window
	Tabs   *container.AppTabs
	Status *widget.Label

	Gallery    *Gallery
	Search     *SearchPanel
	Containers *ContainersPanel
	Editor     *EditorPanel
	Layers     *LayersPanel
	Volumes    *VolumesPanel

	// Core is the engine the panels draw, nil until it answers.
	Core           *app.Core
	shownVMFailure app.VMStatus
	Settings       app.Settings
	// Engines is the status bar's engine switcher.
	Engines *widget.Button
	opts    Options

	// ctx is the window's life: reaching the engine derives from it, and
	// closing the window cancels it.
	ctx          context.Context
	cancel       context.CancelFunc
	opening      sync.WaitGroup
	shutdownOnce sync.Once
}

// Opener reaches the engine: app.Open, or a stand-in in tests.
type Opener func(ctx context.Context, s app.Settings, progress app.Progress, opts ...app.OpenOption) (*app.Core, error)

// Options are where the window's settings live and how it reaches the
// engine.
type Options struct {
	SettingsPath string
	// Engine and Context override the settings' choice of engine
	// (berth --engine, berth --context).
	Engine, Context string
	// Open reaches the engine (default app.Open).
	Open Opener
}

// Start shows the window at once, reaches the engine in the background
// (Berth's own is started when none answers) and draws the panels when
// it answers.
func Start(a fyne.App, opts Options) *Window {
	if opts.Open == nil {
		opts.Open = app.Open
	}
	w := &Window{Win: a.NewWindow("Berth"), Status: widget.NewLabel("Connecting to the engine…"), opts: opts}
	w.Status.Truncation = fyne.TextTruncateEllipsis // a long status never widens the window
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.Win.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	s, warnings, err := app.LoadSettings(opts.SettingsPath)
	switch {
	case opts.Engine != "":
		s.Engine, s.Context = opts.Engine, ""
	case opts.Context != "":
		s.Context, s.Engine = opts.Context, ""
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
	// Closing the window cancels what is under way at once; the VM's
	// clean stop runs off the UI thread (main waits for it).
	w.Win.SetOnClosed(func() {
		w.cancel()
		go w.Shutdown()
	})
	w.open(s)
	return w
}

// Shutdown ends the window's work when it closes or the app ends (a quit
// from the menu, a logout's SIGTERM): an engine still being reached is
// given up, and the Core closes (Berth's VM stops cleanly, or with
// keep_running is left running for the next start to adopt). It may be
// called more than once, and waits for all that: not on the UI thread.
func (w *Window) Shutdown() {
	w.shutdownOnce.Do(func() {
		w.cancel()
		w.opening.Wait()
		if c := w.core(); c != nil {
			c.Close()
		}
	})
}

func (w *Window) core() *app.Core {
	var c *app.Core
	onMainAndWait(func() { c = w.Core })
	return c
}

// open reaches the engine the settings s name in the background, drawing
// the progress, then the panels, or why it failed with Try again (which
// uses the settings as they are then).
func (w *Window) open(s app.Settings) {
	w.opening.Add(1)
	bar := widget.NewProgressBar()
	determinate := false
	progress := func(step string, fraction float64) {
		onMain(func() {
			w.Status.SetText(step)
			switch {
			case fraction >= 0 && !determinate: // a first use: the VM's image is unpacked
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
	}
	if s.UsesVM() {
		w.Status.SetText("Starting Berth's VM…")
	}
	go func() {
		defer w.opening.Done()
		core, err := w.opts.Open(w.ctx, s, progress)
		if w.ctx.Err() != nil {
			if core != nil {
				core.Close()
			}
			return
		}
		onMain(func() {
			if err != nil {
				w.showNoEngine(s, err)
				return
			}
			w.Connect(core)
		})
	}()
}

func (w *Window) showNoEngine(s app.Settings, err error) {
	// The status bar says only that; the reason (which can be long: the
	// engine's own words, with what to run) wraps in the window.
	w.Status.SetText("No engine")
	hint := "Once that is fixed, try again (berth engine start, in a terminal, shows the engine's log as it starts), or choose another engine in Settings, such as Docker's or Podman's socket."
	if s.UsesVM() {
		hint = "Berth's VM did not start; what it printed last is above. Try again, or change the VM's settings."
	}
	msg := widget.NewLabel(app.Explain(err) + "\n\n" + hint)
	msg.Wrapping = fyne.TextWrapWord
	retry := widget.NewButton("Try again", func() {
		w.Status.SetText("Connecting to the engine…")
		w.Win.SetContent(container.NewBorder(nil, w.Status, nil, nil, container.NewCenter(widget.NewProgressBarInfinite())))
		w.open(w.Settings)
	})
	w.Win.SetContent(container.NewBorder(nil, w.Status, nil, nil, container.NewVBox(msg, container.NewHBox(retry, widget.NewButton("Settings…", w.ShowSettings)))))
}

// Connect draws the panels over c and follows the engine through it.
func (w *Window) Connect(c *app.Core) {
	w.Core = c
	w.Status.SetText(c.Status().Line)
	w.notifyLongJobs(c)
	editor := app.NewEditor("")
	editor.Debounce = 150 * time.Millisecond
	if w.Settings.WatchDebounce.Duration > 0 {
		editor.Debounce = w.Settings.WatchDebounce.Duration
	}
	buildLog := &app.BuildLog{}

	run := func(ref string) {
		ShowRun(c, ref, w.Win, func(string) { w.ShowTab(TabContainers) })
	}
	w.Layers = NewLayersPanel(c)
	w.Gallery = NewGallery(c, w.Win, GalleryActions{Run: run, ExploreLayers: func(ref string) {
		w.ShowTab(TabLayers)
		w.Layers.Show(ref)
	}})
	w.Search = NewSearchPanel(c, func(ref string) {
		w.ShowTab(TabImages)
		ShowPull(c, w.Win, ref)
	}, run)
	w.Containers = NewContainersPanel(c, w.Win)
	w.Volumes = NewVolumesPanel(c, w.Win)
	w.Editor = NewEditorPanel(c, editor, buildLog, w.Win, func(res engine.BuildResult) {
		w.Layers.Show(res.ImageID)
	})
	// A layer and the line that made it lead to each other: from the
	// builds this window ran, else by the instruction the history records.
	// The list asks for every row it draws: the Dockerfile is analysed
	// again only when its text changed.
	var matchedText string
	var match func(createdBy string) int
	w.Layers.LineOf = func(l app.LayerSummary) int {
		if ln, ok := buildLog.LineOfLayer(l.DiffID); ok {
			return ln
		}
		if text := editor.Text(); match == nil || text != matchedText {
			matchedText, match = text, app.LineMatcher(text)
		}
		return match(l.Step)
	}
	w.Layers.OnShowLine = func(line int) {
		w.ShowTab(TabBuild)
		w.Editor.goToLine(line)
	}
	w.Editor.OnLineLayer = func(diffID string) { w.Layers.SelectLayer(diffID) }
	// Each panel but the first is put in the window when first shown: the
	// launch then measures and draws one panel, not six (faster to the
	// first frame, and the fonts only other panels use are loaded later).
	lazy := map[*container.TabItem]fyne.CanvasObject{}
	tab := func(name string, icon fyne.Resource, o fyne.CanvasObject) *container.TabItem {
		it := container.NewTabItemWithIcon(name, icon, container.NewStack())
		lazy[it] = o
		return it
	}
	w.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(TabImages, theme.StorageIcon(), w.Gallery.Object),
		tab(TabSearch, theme.SearchIcon(), w.Search.Object),
		tab(TabContainers, theme.ComputerIcon(), w.Containers.Object),
		tab(TabBuild, theme.DocumentCreateIcon(), w.Editor.Object),
		tab(TabLayers, theme.ListIcon(), w.Layers.Object),
		tab(TabVolumes, theme.FolderIcon(), w.Volumes.Object),
	)
	w.Tabs.OnSelected = func(it *container.TabItem) {
		if o, ok := lazy[it]; ok {
			delete(lazy, it)
			it.Content.(*fyne.Container).Add(o)
		}
	}
	settings := widget.NewButtonWithIcon("", theme.SettingsIcon(), w.ShowSettings)
	w.Engines = w.contextSwitcher(c)
	help := widget.NewButtonWithIcon("", theme.HelpIcon(), w.ShowWelcome)
	disk := widget.NewButtonWithIcon("", theme.StorageIcon(), func() { ShowDiskUsage(c, w.Win) })
	w.Win.SetContent(container.NewBorder(nil, container.NewBorder(nil, nil, nil, container.NewHBox(w.Engines, disk, help, settings), w.Status), nil, nil, w.Tabs))
	w.addShortcuts()
	c.OnStatus(func(st app.Status) { onMain(func() { w.showStatus(st) }) })
	w.showStatus(c.Status()) // what happened before the line above listened
	c.Follow()
	// Once a day, as Docker Desktop does, without pulling: a tag that moved
	// on in its registry shows in the gallery.
	go c.Images.CheckUpdatesEvery(c.Context(), 20*time.Second, 24*time.Hour)
	if w.Settings.Welcome == nil || *w.Settings.Welcome {
		w.ShowWelcome()
	}
}

// notifyLongJobs has the Core's long jobs (pulls, builds, pushes over
// app.LongJob) end in a desktop notification when the window has lost the
// focus meanwhile.
func (w *Window) notifyLongJobs(c *app.Core) {
	a := fyne.CurrentApp()
	c.Attention.Notify = func(title, body string) { a.SendNotification(fyne.NewNotification(title, body)) }
	a.Lifecycle().SetOnExitedForeground(func() { c.Attention.SetBackground(true) })
	a.Lifecycle().SetOnEnteredForeground(func() { c.Attention.SetBackground(false) })
}

// showStatus puts the Core's news in the status bar, and explains a VM
// that failed for good (once for each failure).
func (w *Window) showStatus(st app.Status) {
	w.Status.SetText(st.Line)
	if st.VM != nil && st.VM.State == app.VMFailed && *st.VM != w.shownVMFailure {
		w.shownVMFailure = *st.VM
		w.showVMFailure(*st.VM)
	}
}

// ShowTab brings the panel called name to the front.
func (w *Window) ShowTab(name string) {
	if w.Tabs == nil {
		return
	}
	for _, t := range w.Tabs.Items {
		if t.Text == name {
			w.Tabs.Select(t)
			return
		}
	}
}

// ShowWelcome is the first-run tour: pull, run, open, edit, build, layers.
func (w *Window) ShowWelcome() {
	if w.Tabs == nil {
		return
	}
	steps := []struct{ text, button string }{
		{"1. An image is a packaged app: files in layers plus how to start it. Make your first one here, with nothing to download: open the starter project and build it.", "Build the starter"},
		{"2. A container is a running copy of an image. Run yours with a port published.", "Run it"},
		{"3. Open the published port in your browser.", "Containers"},
		{"4. A Dockerfile is the recipe: read the notes beside each line, edit the page, build again, and only the changed steps run.", "Build tab"},
		{"5. See what each layer added, changed or removed.", "Layers tab"},
		{"6. Images also come from registries: pull one from Docker Hub (this needs the internet).", "Pull busybox"},
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
	keys := widget.NewLabel(w.shortcutHelp())
	keys.Wrapping = fyne.TextWrapWord
	rows.Add(keys)
	d = dialog.NewCustom("Welcome to Berth", "Close", container.NewVScroll(rows), w.Win)
	d.SetOnClosed(func() {
		no := false
		w.Settings.Welcome = &no
		app.SaveSettings(w.opts.SettingsPath, w.Settings)
	})
	d.Resize(fyne.NewSize(720, 460))
	d.Show()
}

func (w *Window) welcomeStep(i int) {
	switch i {
	case 0:
		home, _ := os.UserHomeDir()
		go func() { // finding the VM's image may take a moment
			dir, err := app.WriteStarterSample(w.Core.Context(), filepath.Join(home, "BerthSamples"), w.Core.Settings().UsesVM())
			onMain(func() {
				if err != nil {
					showError(err, w.Win)
					return
				}
				w.Editor.Open(dir)
				w.Editor.Tag.SetText(app.StarterTag)
				w.ShowTab(TabBuild)
				w.Editor.startBuild()
			})
		}()
	case 1:
		d := ShowRun(w.Core, app.StarterTag, w.Win, func(string) { w.ShowTab(TabContainers) })
		d.Ports.SetText("8080:8080")
	case 2:
		w.ShowTab(TabContainers)
	case 3:
		w.ShowTab(TabBuild)
	case 4:
		w.ShowTab(TabLayers)
	case 5:
		w.ShowTab(TabImages)
		ShowPull(w.Core, w.Win, "busybox:1.36")
	}
}

// ShowSettings edits config.toml.
func (w *Window) ShowSettings() {
	s := w.Settings
	eng := newEscEntry(w.Win)
	eng.SetText(s.Engine)
	eng.SetPlaceHolder("unix:///…, tcp://host:2376, ssh://me@host (overrides the context)")
	contexts, _ := app.Contexts()
	names := []string{""}
	for _, c := range contexts {
		names = append(names, c.Name)
	}
	ctxSel := widget.NewSelect(names, nil)
	ctxSel.PlaceHolder = "none: $DOCKER_HOST, $DOCKER_CONTEXT, else Berth's own"
	ctxSel.SetSelected(s.Context)
	reg := newEscEntry(w.Win)
	reg.SetText(s.DefaultRegistry)
	insecure := newEscEntry(w.Win)
	insecure.SetText(strings.Join(s.InsecureRegistries, ", "))
	insecure.SetPlaceHolder("host:port, …")
	th := widget.NewSelect([]string{"system", "light", "dark"}, nil)
	th.SetSelected(s.Theme)
	deb := newEscEntry(w.Win)
	deb.SetText(s.WatchDebounce.Duration.String())
	tlsVerify := widget.NewCheck("Verify the engine with TLS certificates (tcp://)", nil)
	tlsVerify.SetChecked(s.TLSVerify)
	certs := newEscEntry(w.Win)
	certs.SetText(app.TildePath(s.CertPath))
	certs.SetPlaceHolder("folder with ca.pem, cert.pem, key.pem; default ~/.docker")
	d := newFormDialog("Settings", "Save", []*widget.FormItem{
		widget.NewFormItem("Engine context", ctxSel), widget.NewFormItem("Engine address", eng),
		widget.NewFormItem("TLS", tlsVerify), widget.NewFormItem("Certificates", certs), widget.NewFormItem("Search registry", reg),
		widget.NewFormItem("Insecure registries", insecure), widget.NewFormItem("Theme", th),
		widget.NewFormItem("Rebuild delay", deb),
	}, func(ok bool) {
		if !ok {
			return
		}
		s.Engine, s.DefaultRegistry, s.Theme = strings.TrimSpace(eng.Text), strings.TrimSpace(reg.Text), th.Selected
		s.Context = ctxSel.Selected
		s.TLSVerify, s.CertPath = tlsVerify.Checked, app.ExpandHome(strings.TrimSpace(certs.Text))
		if s.Engine != "" {
			s.Context = "" // an address typed in is the choice
		}
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
		if err := app.SaveSettings(w.opts.SettingsPath, s); err != nil {
			showError(err, w.Win)
			return
		}
		engineChanged := s.Engine != w.Settings.Engine || s.Context != w.Settings.Context || s.TLSVerify != w.Settings.TLSVerify || s.CertPath != w.Settings.CertPath
		w.Settings = s
		applyTheme(fyne.CurrentApp(), s.Theme)
		if engineChanged {
			w.reconnect(s)
		}
	}, w.Win)
	d.Resize(fyne.NewSize(600, d.MinSize().Height)) // room for an engine's address
	d.Show()
}

// contextSwitcher is the status bar's engine button: the context in use;
// it opens the menu of engine contexts to switch to.
func (w *Window) contextSwitcher(c *app.Core) *widget.Button {
	name := c.Info().Context
	if name == "" {
		name = "engine" // reached by an address, not a context
	}
	var b *widget.Button
	b = widget.NewButtonWithIcon(name, theme.ComputerIcon(), func() {
		menu, err := w.ContextMenu()
		if err != nil {
			w.Status.SetText(app.Explain(err))
		}
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
		pop := widget.NewPopUpMenu(menu, w.Win.Canvas())
		pop.ShowAtPosition(pos.Subtract(fyne.NewPos(0, pop.MinSize().Height)))
	})
	return b
}

// ContextMenu lists the engine contexts, the one in use ticked and the
// docker CLI's current one marked; choosing one switches to it. The error
// names contexts that could not be read (the rest are listed).
func (w *Window) ContextMenu() (*fyne.Menu, error) {
	list, err := app.Contexts()
	inUse := ""
	if w.Core != nil {
		inUse = w.Core.Info().Context
	}
	var items []*fyne.MenuItem
	for _, c := range list {
		label := c.Name + " — " + cmp.Or(c.Host, c.Description)
		if c.DockerCurrent {
			label += " (the docker CLI's current)"
		}
		item := fyne.NewMenuItem(label, func() { w.UseContext(c.Name) })
		item.Checked = c.Name == inUse
		items = append(items, item)
	}
	items = append(items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Settings…", w.ShowSettings))
	return fyne.NewMenu("Engines", items...), err
}

// UseContext switches to the engine context name and keeps the choice.
func (w *Window) UseContext(name string) {
	s := w.Settings
	s.Context, s.Engine = name, ""
	if err := app.SaveSettings(w.opts.SettingsPath, s); err != nil {
		showError(err, w.Win)
		return
	}
	w.Settings = s
	w.reconnect(s)
}

// reconnect switches to the engine the settings s name now; the panels
// stay on the old one until the new one answers, and stay there if it
// does not.
func (w *Window) reconnect(s app.Settings) {
	old := w.Core
	if old == nil {
		w.open(s)
		return
	}
	w.Status.SetText("Connecting to the engine in the settings…")
	w.opening.Add(1)
	go func() {
		defer w.opening.Done()
		next, err := w.opts.Open(w.ctx, s, func(step string, _ float64) { onMain(func() { w.Status.SetText(step) }) })
		if err == nil {
			old.Close() // the new one answers: the old one's work ends
		}
		onMain(func() {
			if err != nil {
				w.Status.SetText(old.Status().Line)
				showError(fmt.Errorf("Berth stays on the engine it uses: %w", err), w.Win)
				return
			}
			w.Connect(next)
		})
	}()
}

// berthTheme is Fyne's theme, in a fixed variant or the system's, with
// status colours a person can read on the light background: Fyne's light
// green (#43f436), orange (#ff9800) and red stand 1.5:1, 2.2:1 and 3.7:1
// against white, so build times and warnings all but vanished.
type berthTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
	fixed   bool // variant is the settings' choice, not the system's
}

// lightStatus are the light variant's status colours, each at least 4.5:1
// against white (WCAG AA for text).
var lightStatus = map[fyne.ThemeColorName]color.Color{
	theme.ColorNameSuccess: color.NRGBA{R: 0x1a, G: 0x7f, B: 0x37, A: 0xff},
	theme.ColorNameWarning: color.NRGBA{R: 0x9a, G: 0x67, B: 0x00, A: 0xff},
	theme.ColorNameError:   color.NRGBA{R: 0xcf, G: 0x22, B: 0x2e, A: 0xff},
}

func (t berthTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.fixed {
		v = t.variant
	}
	if c, ok := lightStatus[n]; ok && v == theme.VariantLight {
		return c
	}
	return t.Theme.Color(n, v)
}

func applyTheme(a fyne.App, name string) {
	switch name {
	case "dark":
		a.Settings().SetTheme(berthTheme{theme.DefaultTheme(), theme.VariantDark, true})
	case "light":
		a.Settings().SetTheme(berthTheme{theme.DefaultTheme(), theme.VariantLight, true})
	default:
		a.Settings().SetTheme(berthTheme{Theme: theme.DefaultTheme()})
	}
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
