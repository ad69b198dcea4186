package views

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// EditorPanel edits a Dockerfile with live validation and builds it.
type EditorPanel struct {
	Object fyne.CanvasObject
	Text   *shortcutEntry
	Gutter *widget.RichText
	// Costs shows, beside each instruction, what it cost in the last
	// build: the layer it made and its time, or that it came cached.
	Costs *widget.RichText
	// Coloured is the syntax-coloured copy of Text drawn beneath it.
	Coloured *widget.RichText
	Problems *widget.List
	Fix      *widget.Button
	Note     *widget.Label
	File     *widget.Label

	Tag, BuildArgs, Target *widget.Entry
	Build, Cancel          *widget.Button
	Log                    *widget.List
	LogStatus              *widget.Label

	// Watch rebuilds on every save; KeepRunning replaces the container.
	Watch       *widget.Check
	KeepRunning *widget.Check
	// Sync copies saves the last COPY takes into the kept container
	// instead of rebuilding first; SyncRestart restarts its process after.
	Sync, SyncRestart *widget.Check
	RunPorts          *widget.Entry
	WatchStatus       *widget.Label
	AppLogs           *widget.TextGrid

	containers *app.Containers
	session    *app.WatchSession
	logCancel  context.CancelFunc
	followed   string    // the container whose output AppLogs shows
	lastLog    time.Time // when the last line shown was written
	logLines   []string

	core     *app.Core
	ed       *app.Editor
	log      *app.BuildLog
	builder  engine.Builder
	win      fyne.Window
	diags    []engine.Diagnostic
	problem  int
	steps    []app.BuildStep
	onBuilt  func(engine.BuildResult)
	lastLine int

	// OnLineLayer is told the layer the step on the cursor's line made in
	// the last build, so the Layers panel selects it; the window sets it.
	OnLineLayer func(diffID string)
}

// NewEditorPanel builds the Editor panel; onBuilt runs after a build
// succeeds (the window shows the image's layers).
func NewEditorPanel(c *app.Core, ed *app.Editor, log *app.BuildLog, w fyne.Window, onBuilt func(engine.BuildResult)) *EditorPanel {
	p := &EditorPanel{core: c, ed: ed, log: log, builder: c.Engine.Builder, containers: c.Containers, win: w, problem: -1, onBuilt: onBuilt}
	p.Text = newShortcutEntry()
	p.Text.TextStyle = fyne.TextStyle{Monospace: true}
	p.Text.Wrapping = fyne.TextWrapOff
	p.Text.Scroll = fyne.ScrollNone // the panel scrolls, gutter and text together
	p.Coloured = widget.NewRichText()
	p.Text.OnChanged = func(text string) {
		ed.SetText(text)
		p.colour()
	}
	p.Text.SetText(ed.Text())
	p.Text.OnCursorChanged = func() {
		if row := p.Text.CursorRow + 1; row != p.lastLine {
			p.lastLine = row
			p.showNote(row)
		}
	}
	p.Gutter = widget.NewRichText()
	p.Costs = widget.NewRichText()
	p.File = widget.NewLabel("New Dockerfile (not saved)")
	p.File.Truncation = fyne.TextTruncateEllipsis
	p.Note = widget.NewLabel(noteHint)
	p.Note.Wrapping = fyne.TextWrapWord
	p.Problems = widget.NewList(
		func() int { return len(p.diags) },
		func() fyne.CanvasObject { return widget.NewLabel("12:3 error RuleName message") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(p.diags) {
				return
			}
			d := p.diags[i]
			l := o.(*widget.Label)
			l.SetText(fmt.Sprintf("%d:%d %s  %s", d.Line, d.Column, d.Severity, d.Message))
			l.Importance = map[engine.Severity]widget.Importance{engine.SeverityError: widget.DangerImportance, engine.SeverityWarning: widget.WarningImportance}[d.Severity]
			l.Truncation = fyne.TextTruncateEllipsis
			l.Refresh()
		})
	p.Fix = widget.NewButton("Apply fix", func() {
		if p.problem >= 0 && p.problem < len(p.diags) && p.diags[p.problem].Fix != nil {
			d := p.diags[p.problem]
			p.ed.ApplyFix(d.Fix)
			p.log.FixApplied(d)
			p.Text.SetText(p.ed.Text())
		}
	})
	p.Fix.Importance = widget.HighImportance // the one thing to do about the selected problem
	p.Fix.Disable()
	p.Problems.OnSelected = func(i widget.ListItemID) {
		p.problem = i
		d := p.diags[i]
		p.goToLine(d.Line)
		if d.Fix != nil {
			p.Fix.SetText(d.Fix.Title)
			p.Fix.Enable()
		} else {
			p.Fix.SetText("Apply fix")
			p.Fix.Disable()
		}
		// The list cuts a long message short: the note reads it whole.
		note := fmt.Sprintf("Line %d: %s", d.Line, d.Message)
		if r, ok := ruleExplanation(d.Rule); ok {
			note += "\n\n" + d.Rule + ": " + r
		}
		p.Note.SetText(note)
	}

	top := p.fileBar(w)
	editor, side := p.editorArea()
	buildBox := p.buildArea(w)
	main := container.NewHSplit(editor, side)
	main.Offset = 0.65
	whole := container.NewVSplit(container.NewBorder(top, nil, nil, nil, main), buildBox)
	whole.Offset = 0.5 // the build log shows several steps, not two
	p.Object = whole

	ed.OnAnalyzed(func() { onMain(p.showDiagnostics) })
	ed.OnFileState(func() { onMain(p.updateFile) })
	log.OnChange(func() { onMain(p.showLog) })
	p.showDiagnostics()
	p.updateFile()
	return p
}

// fileBar is the row above the text: open, save, the file's name.
func (p *EditorPanel) fileBar(w fyne.Window) fyne.CanvasObject {
	open := widget.NewButton("Open folder…", p.OpenFolder)
	save := widget.NewButton("Save", p.Save)
	return container.NewBorder(nil, nil, container.NewHBox(open, save), NewConcept("layer"), p.File)
}

// OpenFolder asks for a folder and opens its Dockerfile. The path can be
// typed or pasted (Enter opens it), or found with Browse…, since Fyne's
// folder picker takes no typed path.
func (p *EditorPanel) OpenFolder() {
	entry := newEscEntry(p.win)
	entry.SetPlaceHolder("a folder with a Dockerfile, e.g. ~/myapp")
	entry.SetText(p.ed.ContextDir())
	var d *dialog.FormDialog
	browse := widget.NewButton("Browse…", func() {
		picker := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil || u == nil {
				return
			}
			d.Hide()
			p.Open(u.Path())
		}, p.win)
		if dir, err := storage.ListerForURI(storage.NewFileURI(app.ExpandHome(strings.TrimSpace(entry.Text)))); err == nil {
			picker.SetLocation(dir)
		}
		picker.Show()
	})
	d = newFormDialog("Open a folder", "Open", []*widget.FormItem{
		widget.NewFormItem("Folder", container.NewBorder(nil, nil, nil, browse, entry)),
	}, func(ok bool) {
		if path := strings.TrimSpace(entry.Text); ok && path != "" {
			p.Open(path)
		}
	}, p.win)
	d.Resize(fyne.NewSize(560, d.MinSize().Height))
	d.Show()
	p.win.Canvas().Focus(entry)
}

// Save writes the Dockerfile, asking where when it has no file yet.
func (p *EditorPanel) Save() {
	if p.ed.Path() == "" {
		dialog.ShowFileSave(func(uc fyne.URIWriteCloser, err error) {
			if err != nil || uc == nil {
				return
			}
			uc.Close()
			showError(p.ed.Save(uc.URI().Path()), p.win)
			p.updateFile()
		}, p.win)
		return
	}
	showError(p.ed.Save(""), p.win)
	p.updateFile()
}

// editorArea is the text with its gutter, and beside it the note on the
// line under the cursor and the problems.
func (p *EditorPanel) editorArea() (editor, side fyne.CanvasObject) {
	textArea := container.NewStack(p.Coloured, container.NewThemeOverride(p.Text, clearTextTheme{theme.DefaultTheme()}))
	// The text scrolls sideways on its own, so the costs beside it stay in
	// sight however long a line is; all three scroll down together.
	editor = container.NewVScroll(container.NewBorder(nil, nil, p.Gutter, p.Costs, container.NewHScroll(textArea)))
	problems := container.NewBorder(widget.NewLabel("Problems"), p.Fix, nil, nil, p.Problems)
	split := container.NewVSplit(container.NewVScroll(p.Note), problems)
	split.Offset = 0.35 // the problems list shows several, not one and a half
	return editor, split
}

// buildArea is the build's fields and buttons, the Watch row, the build
// log and the output of the container Watch keeps running.
func (p *EditorPanel) buildArea(w fyne.Window) fyne.CanvasObject {
	p.Tag = widget.NewEntry()
	p.Tag.SetPlaceHolder("name:tag, e.g. myapp:dev")
	p.BuildArgs = widget.NewEntry()
	p.BuildArgs.SetPlaceHolder("build args: NAME=value, …")
	p.Target = widget.NewEntry()
	p.Target.SetPlaceHolder("stage (optional)")
	p.Build = widget.NewButton("Build", p.startBuild)
	p.Build.Importance = widget.HighImportance
	p.Cancel = widget.NewButton("Cancel", p.log.Cancel)
	p.Cancel.Disable()
	p.LogStatus = widget.NewLabel("")
	p.LogStatus.Wrapping = fyne.TextWrapWord // a build's failure is read whole, and never widens the window
	p.Log = widget.NewList(
		func() int { return len(p.steps) },
		func() fyne.CanvasObject {
			return container.NewBorder(nil, nil, nil, widget.NewLabel("CACHED"), widget.NewLabel("Step 1: FROM image"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(p.steps) {
				return
			}
			s := p.steps[i]
			c := o.(*fyne.Container)
			text := c.Objects[0].(*widget.Label)
			line := fmt.Sprintf("%d  %s", s.Number, s.Instruction)
			if why := shortReason(s.Reason, s.Instruction); why != "" {
				line += "  — " + why
			}
			text.SetText(line)
			text.Truncation = fyne.TextTruncateEllipsis
			st := c.Objects[1].(*widget.Label)
			st.SetText(stepStatus(s))
			st.Importance = map[app.StepState]widget.Importance{app.StepFailed: widget.DangerImportance, app.StepDone: widget.SuccessImportance, app.StepCached: widget.LowImportance}[s.State]
			st.Refresh()
		})
	p.Log.OnSelected = func(i widget.ListItemID) {
		if i < len(p.steps) {
			s := p.steps[i]
			p.goToLine(s.Line)
			if body := strings.TrimSpace(s.Reason + "\n\n" + s.Output); body != "" {
				showText(fmt.Sprintf("Step %d: %s", s.Number, s.Instruction), body, w)
			}
		}
	}

	fields := container.NewGridWithColumns(3, p.Tag, p.BuildArgs, p.Target)
	p.WatchStatus = widget.NewLabel("")
	p.WatchStatus.Wrapping = fyne.TextWrapWord // the size guard's line is read whole
	p.RunPorts = widget.NewEntry()
	p.RunPorts.SetPlaceHolder("ports, e.g. 8080:8080")
	p.Sync = widget.NewCheck("Sync saves", nil)
	p.SyncRestart = widget.NewCheck("restart process", nil)
	p.Sync.SetChecked(true)
	p.SyncRestart.SetChecked(true)
	p.KeepRunning = widget.NewCheck("Keep running", func(on bool) {
		for _, c := range []*widget.Check{p.Sync, p.SyncRestart} {
			if on {
				c.Enable()
			} else {
				c.Disable()
			}
		}
	})
	p.KeepRunning.OnChanged(false)
	p.Watch = widget.NewCheck("Watch: rebuild on save", p.toggleWatch)
	p.AppLogs = widget.NewTextGrid()
	watchRow := container.NewBorder(nil, nil, container.NewHBox(p.Watch, p.KeepRunning, p.Sync, p.SyncRestart), nil, container.NewBorder(nil, nil, nil, nil, p.RunPorts))
	logs := container.NewHSplit(p.Log, container.NewBorder(widget.NewLabel("Container output"), nil, nil, nil, container.NewScroll(p.AppLogs)))
	logs.Offset = 0.6
	buildBox := container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(p.Build, p.Cancel), fields), watchRow, p.LogStatus, p.WatchStatus), nil, nil, nil, logs)
	return buildBox
}

func (p *EditorPanel) colour() {
	p.Coloured.Segments = dockerfileSegments(p.Text.Text)
	p.Coloured.Refresh()
}

func stepStatus(s app.BuildStep) string {
	switch s.State {
	case app.StepRunning:
		return "running…"
	case app.StepCached:
		return "CACHED"
	case app.StepFailed:
		return "failed"
	}
	out := fmt.Sprintf("%.2fs", s.Duration.Seconds())
	if s.LayerSize > 0 {
		out += " · " + HumanSize(s.LayerSize)
	}
	return out
}

func ruleExplanation(id string) (string, bool) {
	r, ok := app.RuleExplanation(id)
	return r, ok
}

// Open opens a folder (the build context) or a Dockerfile.
func (p *EditorPanel) Open(path string) {
	if err := p.ed.Open(path); err != nil {
		showError(err, p.win)
		return
	}
	p.Text.SetText(p.ed.Text())
	p.log.ForgetLines() // they were another Dockerfile's
	if p.Tag.Text == "" {
		p.Tag.SetText(app.SuggestTag(p.ed.ContextDir()))
	}
}

func (p *EditorPanel) updateFile() {
	name := app.TildePath(p.ed.Path())
	if name == "" {
		name = "New Dockerfile (not saved)"
	} else if p.ed.Dirty() {
		name += " •"
	}
	p.File.SetText(name)
}

const noteHint = "Put the cursor on an instruction to see what it does to the image."

// severityRank orders problems by how much they matter.
var severityRank = map[engine.Severity]int{engine.SeverityInfo: 1, engine.SeverityWarning: 2, engine.SeverityError: 3}

func (p *EditorPanel) showDiagnostics() {
	res := p.ed.Result()
	// Errors first: what stops the build is read before advice.
	p.diags = slices.Clone(res.Diagnostics)
	slices.SortStableFunc(p.diags, func(a, b engine.Diagnostic) int {
		return cmp.Compare(severityRank[b.Severity], severityRank[a.Severity])
	})
	if p.problem >= 0 { // the note spoke of a problem the new text may not have
		p.Note.SetText(noteHint)
		p.showNote(p.lastLine)
	}
	p.problem = -1
	p.Problems.UnselectAll()
	p.Problems.Refresh()
	p.Fix.Disable()
	// The gutter: line numbers, a marker on lines with problems.
	worst := map[int]engine.Severity{}
	for _, d := range p.diags {
		for ln := d.Line; ln <= d.EndLine; ln++ {
			if severityRank[d.Severity] > severityRank[worst[ln]] {
				worst[ln] = d.Severity
			}
		}
	}
	lines := strings.Count(p.Text.Text, "\n") + 1
	var segs []widget.RichTextSegment
	for ln := 1; ln <= lines; ln++ {
		mark := "  "
		style := widget.RichTextStyle{TextStyle: fyne.TextStyle{Monospace: true}, Inline: true, ColorName: "disabled"}
		switch worst[ln] {
		case engine.SeverityError:
			mark, style.ColorName = "● ", "error"
		case engine.SeverityWarning:
			mark, style.ColorName = "▲ ", "warning"
		case engine.SeverityInfo:
			mark, style.ColorName = "· ", "primary"
		}
		text := fmt.Sprintf("%s%3d", mark, ln)
		if ln < lines {
			text += "\n"
		}
		segs = append(segs, &widget.TextSegment{Text: text, Style: style})
	}
	p.Gutter.Segments = segs
	p.Gutter.Refresh()
	p.updateFile()
}

// Diagnostics are the problems listed.
func (p *EditorPanel) Diagnostics() []engine.Diagnostic { return p.diags }

func (p *EditorPanel) showNote(line int) {
	n := p.ed.Note(line)
	if n == "" {
		return
	}
	if s, ok := p.stepOn(line); ok {
		if added := s.Added(); added != "" {
			n = "Last build: " + added + ".\n\n" + n
		}
		if s.Layer != "" && p.OnLineLayer != nil {
			p.OnLineLayer(s.Layer)
		}
	}
	p.Note.SetText(n)
}

// stepOn is the last build's step that starts on line.
func (p *EditorPanel) stepOn(line int) (app.BuildStep, bool) {
	for i := len(p.steps) - 1; i >= 0; i-- {
		if p.steps[i].Line == line {
			return p.steps[i], true
		}
	}
	return app.BuildStep{}, false
}

func (p *EditorPanel) goToLine(line int) {
	if line < 1 {
		return
	}
	p.Text.CursorRow, p.Text.CursorColumn = line-1, 0
	p.Text.Refresh()
	p.win.Canvas().Focus(p.Text)
	p.showNote(line)
}

func (p *EditorPanel) startBuild() {
	req := app.BuildRequest{Tag: p.Tag.Text, BuildArgs: p.BuildArgs.Text, Target: p.Target.Text}
	p.Build.Disable()
	p.Cancel.Enable()
	p.LogStatus.SetText("Building…")
	start := time.Now()
	go func() {
		res, err := p.log.Build(p.core.Context(), p.builder, p.ed, req)
		p.core.Attention.Done("Build "+cmp.Or(strings.TrimSpace(req.Tag), "of "+p.ed.Path()), start, err)
		onMain(func() {
			p.Build.Enable()
			p.Cancel.Disable()
			if err != nil {
				p.LogStatus.SetText("Failed: " + app.Explain(err))
				if line := p.log.FailedLine(); line > 0 {
					p.goToLine(line)
				}
				return
			}
			built := strings.TrimPrefix(res.ImageID, "sha256:")[:12]
			if tag := strings.TrimSpace(req.Tag); tag != "" {
				built = tag + " (" + built + ")"
			}
			status := fmt.Sprintf("Built %s in %s", built, time.Since(start).Round(time.Millisecond))
			if saved := p.log.Saved(); saved != "" {
				status += ". " + saved
			}
			p.LogStatus.SetText(status)
			if p.onBuilt != nil {
				p.onBuilt(res)
			}
		})
	}()
}

func (p *EditorPanel) showLog() {
	p.steps, _, _, _, _ = p.log.Snapshot()
	p.Log.Refresh()
	if n := len(p.steps); n > 0 {
		p.Log.ScrollToBottom()
	}
	p.showCosts()
}

// showCosts writes each step's cost on the line it starts on, lined up
// with the text as the gutter is.
func (p *EditorPanel) showCosts() {
	costs := map[int]string{}
	for _, s := range p.steps {
		if c := stepCost(s); c != "" && s.Line > 0 {
			costs[s.Line] = c
		}
	}
	lines := strings.Count(p.Text.Text, "\n") + 1
	var segs []widget.RichTextSegment
	style := widget.RichTextStyle{TextStyle: fyne.TextStyle{Monospace: true}, Inline: true, ColorName: "disabled"}
	for ln := 1; ln <= lines; ln++ {
		text := costs[ln]
		if ln < lines {
			text += "\n"
		}
		segs = append(segs, &widget.TextSegment{Text: text, Style: style})
	}
	p.Costs.Segments = segs
	p.Costs.Refresh()
}

// stepCost is a step's cost as the editor's margin shows it: "12MB 1.4s
// /big" (with its biggest file), "850ms" for a step that made no layer,
// "cached"; nothing for a step that made no layer in under 10 ms.
func stepCost(s app.BuildStep) string {
	biggest := ""
	if len(s.Biggest) > 0 {
		biggest = " " + shortPath(s.Biggest[0].Path, 20)
	}
	switch s.State {
	case app.StepCached:
		return "cached" + biggest
	case app.StepDone:
		d := s.Duration.Round(time.Millisecond).String()
		if s.LayerSize > 0 {
			return HumanSize(s.LayerSize) + " " + d + biggest
		}
		if s.Duration < 10*time.Millisecond {
			return "" // a step that only set metadata: nothing to weigh
		}
		return d
	}
	return ""
}

// shortPath keeps a path within max characters by its last elements:
// "…/core/_multiarray_umath.so".
func shortPath(p string, max int) string {
	if len(p) <= max {
		return p
	}
	parts := strings.Split(p, "/")
	out := parts[len(parts)-1]
	for i := len(parts) - 2; i > 0 && len(out)+len(parts[i])+3 <= max; i-- {
		out = parts[i] + "/" + out
	}
	return "…/" + out
}

// toggleWatch starts or stops rebuilding on every save.
func (p *EditorPanel) toggleWatch(on bool) {
	if p.session != nil {
		p.session.Stop()
		p.session = nil
	}
	if !on {
		p.WatchStatus.SetText("")
		return
	}
	if p.ed.Dirty() {
		if err := p.ed.Save(""); err != nil {
			showError(err, p.win)
			p.Watch.SetChecked(false)
			return
		}
	}
	var cengine app.ContainerEngine
	if p.containers != nil {
		cengine = p.containers.Engine()
	}
	opts := app.WatchOptions{
		Build:       app.BuildRequest{Tag: p.Tag.Text, BuildArgs: p.BuildArgs.Text, Target: p.Target.Text},
		KeepRunning: p.KeepRunning.Checked && cengine != nil,
		Ports:       p.RunPorts.Text,
		Debounce:    p.ed.Debounce,
		OnEvent:     p.log.Apply,
	}
	if opts.KeepRunning && p.Sync.Checked && p.core.Engine.Files != nil {
		opts.Sync = &app.SyncOptions{Files: p.core.Engine.Files, Restart: p.SyncRestart.Checked, Images: p.core.Engine.Images}
	}
	opts.OnResult = func(res app.RebuildResult) {
		if res.Synced == nil {
			p.log.Finish(res.Err)
		}
		onMain(func() {
			if res.Synced == nil && res.Err == nil && res.ImageID != "" {
				status := fmt.Sprintf("Watch built %s at %s in %s", app.ShortID(res.ImageID), res.Started.Format("15:04:05"), res.Duration.Round(time.Millisecond))
				if saved := p.log.Saved(); saved != "" {
					status += ". " + saved
				}
				p.LogStatus.SetText(status)
			}
			if p.session != nil {
				p.WatchStatus.SetText(p.session.Status())
			}
			if res.Err != nil {
				if se := p.log.FailedLine(); se > 0 {
					p.goToLine(se)
				}
				return
			}
			switch {
			case res.Restarted:
				p.followLogs(res.Container, res.Started)
			case res.Container != "" && res.Container != p.followed:
				p.followLogs(res.Container, time.Time{})
			}
		})
	}
	s, err := app.StartWatch(p.core.Context(), p.builder, cengine, p.ed, opts)
	if err != nil {
		showError(err, p.win)
		p.Watch.SetChecked(false)
		return
	}
	p.session = s
	p.WatchStatus.SetText(s.Status())
}

// Watching is the running watch session, nil when the toggle is off.
func (p *EditorPanel) Watching() *app.WatchSession { return p.session }

// followLogs shows the output of the container the watch keeps running,
// switching to the new container after each rebuild; after a sync's
// restart, what the new run writes from since on.
func (p *EditorPanel) followLogs(id string, since time.Time) {
	if p.logCancel != nil {
		p.logCancel()
	}
	ctx, cancel := context.WithCancel(p.core.Context())
	p.logCancel, p.followed = cancel, id
	what := " new container "
	if !since.IsZero() {
		what = " synced and restarted "
	}
	p.logLines = append(p.logLines, "── "+time.Now().Format("15:04:05")+what+app.ShortID(id)+" ──")
	p.AppLogs.SetText(strings.Join(p.logLines, "\n"))
	show := func(e engine.LogEntry) {
		line := strings.TrimRight(string(e.Data), "\n")
		onMain(func() {
			// After a sync's restart the old stream may still hand over
			// what the new one does: each line is shown once, by its time.
			if !e.Time.IsZero() {
				if !e.Time.After(p.lastLog) {
					return
				}
				p.lastLog = e.Time
			}
			p.logLines = append(p.logLines, line)
			if len(p.logLines) > 500 {
				p.logLines = p.logLines[len(p.logLines)-500:]
			}
			p.AppLogs.SetText(strings.Join(p.logLines, "\n"))
		})
	}
	if since.IsZero() {
		go p.containers.Logs(ctx, id, true, show)
	} else {
		go p.containers.FollowSince(ctx, id, since, show)
	}
}

// AppLogText is what the container output pane shows.
func (p *EditorPanel) AppLogText() string { return strings.Join(p.logLines, "\n") }
