package views

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
)

// DiskDialog shows what images, containers, volumes and the build cache
// take on disk, and cleans up after saying what that removes.
type DiskDialog struct {
	Rows    []app.DiskRow
	CleanUp *widget.Button
	Result  *widget.Label
	Dialog  dialog.Dialog
}

// ShowDiskUsage opens the disk usage view for c.
func ShowDiskUsage(c *app.Core, w fyne.Window) *DiskDialog {
	d := &DiskDialog{Result: widget.NewLabel("Counting…")}
	d.Result.Wrapping = fyne.TextWrapWord
	grid := container.NewGridWithColumns(4, bold("What"), bold("How many"), bold("Size"), bold("Clean up gives back"))
	d.CleanUp = widget.NewButton("Clean up…", func() { d.confirmCleanUp(c, w) })
	d.CleanUp.Disable()
	d.Dialog = dialog.NewCustom("Disk usage", "Close", container.NewVBox(grid, widget.NewSeparator(), d.Result, d.CleanUp), w)
	d.Dialog.Resize(fyne.NewSize(640, 360))
	d.Dialog.Show()
	go func() {
		rows, err := c.DiskUsage(c.Context())
		onMain(func() {
			if err != nil {
				d.Result.SetText(app.Explain(err))
				return
			}
			d.Rows = rows
			var total int64
			for _, r := range rows {
				grid.Add(widget.NewLabel(r.Kind))
				grid.Add(widget.NewLabel(fmt.Sprint(r.Count)))
				grid.Add(widget.NewLabel(HumanSize(r.Size)))
				grid.Add(widget.NewLabel(HumanSize(r.Reclaimable)))
				total += r.Reclaimable
			}
			d.Result.SetText("Clean up can give back about " + HumanSize(total) + ".")
			d.CleanUp.Enable()
		})
	}()
	return d
}

func bold(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.TextStyle.Bold = true
	return l
}

// confirmCleanUp says, row by row, what Clean up removes, and does it
// once the person agrees.
func (d *DiskDialog) confirmCleanUp(c *app.Core, w fyne.Window) {
	var lines []string
	for _, r := range d.Rows {
		lines = append(lines, "• "+r.Removes+" ("+HumanSize(r.Reclaimable)+")")
	}
	dialog.ShowConfirm("Clean up?", "This removes:\n"+strings.Join(lines, "\n")+"\n\nRunning containers, named images and named volumes stay.", func(ok bool) {
		if !ok {
			return
		}
		d.CleanUp.Disable()
		d.Result.SetText("Cleaning up…")
		go func() {
			n, err := c.CleanUp(c.Context())
			onMain(func() {
				if err != nil {
					d.Result.SetText("Cleaned up part of it: " + app.Explain(err))
					return
				}
				d.Result.SetText("Cleaned up: " + HumanSize(n) + " given back.")
			})
		}()
	}, w)
}
