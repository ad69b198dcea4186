package views

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
)

// The disk usage view counts what is there and what Clean up gives back,
// says what Clean up removes before it does, and then does it.
func TestDiskUsageSaysWhatCleanUpRemoves(t *testing.T) {
	core, fake := fakeCore(t)
	test.NewTempApp(t)
	ctx := context.Background()
	fake.Store("busybox:1.36", smallImage(t))
	for _, name := range []string{"running", "stopped"} {
		if _, err := core.Containers.Run(ctx, app.RunOptions{Image: "busybox:1.36", Name: name, Command: "sleep 300"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := core.Engine.Containers.Stop(ctx, "stopped", nil); err != nil {
		t.Fatal(err)
	}
	w := test.NewTempWindow(t, nil)
	w.Resize(sizeOf(900, 600))
	d := ShowDiskUsage(core, w)
	waitUI(t, "the counts", func() bool { return len(d.Rows) == 4 && !d.CleanUp.Disabled() })
	if r := d.Rows[1]; r.Kind != "Containers" || r.Count != 2 || r.Size != 2000 || r.Reclaimable != 1000 || r.Removes != "1 stopped container" {
		t.Fatalf("containers row %+v", r)
	}
	if r := d.Rows[0]; r.Kind != "Images" || r.Count != 1 || r.Reclaimable != 0 {
		t.Fatalf("images row %+v (a named image is never cleaned up)", r)
	}
	test.Tap(d.CleanUp)
	text := find(topOverlay(w), func(o fyne.CanvasObject) bool {
		l, ok := o.(*widget.Label)
		return ok && strings.Contains(l.Text, "This removes:")
	})
	if text == nil || !strings.Contains(text.(*widget.Label).Text, "• 1 stopped container (1kB)") {
		t.Fatalf("the confirmation does not say what it removes: %v", text)
	}
	test.Tap(buttonIn(topOverlay(w), "Yes"))
	waitUI(t, "the cleanup", func() bool { return strings.HasPrefix(d.Result.Text, "Cleaned up") })
}
