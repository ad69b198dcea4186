package views

import (
	"context"
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/berth-dev/berth/engine"
)

// Scrolling the gallery and the container list through 1,000 rows: each
// iteration moves the view by 7 rows. "update" is the work Fyne does on
// the CPU for a frame (the rows bound to new items, laid out); "painted"
// adds drawing the whole 1024x640 window with Fyne's software painter,
// which the GL driver does on the GPU instead, so it is an upper bound.
// ns/op is one frame; the goal is under 16 ms (60 frames a second).
func BenchmarkGalleryScroll1000(b *testing.B) {
	core, fake := fakeCore(b)
	test.NewTempApp(b)
	img, _ := random.Image(64, 1)
	for i := range 1000 {
		fake.Store(fmt.Sprintf("registry.example/team/app-%04d:v%d", i, i%7), img)
	}
	if err := core.Images.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	w := test.NewTempWindow(b, nil)
	g := NewGallery(core, w, GalleryActions{})
	w.SetContent(g.Object)
	w.Resize(fyne.NewSize(1024, 640))
	pump()
	if len(g.Rows()) != 1000 {
		b.Fatalf("%d rows", len(g.Rows()))
	}
	scrollFrames(b, w, func(row int) { g.Table.ScrollTo(widget.TableCellID{Row: row, Col: 0}) })
}

func BenchmarkContainerListScroll1000(b *testing.B) {
	core, fake := fakeCore(b)
	test.NewTempApp(b)
	ctx := context.Background()
	fake.Store("busybox:1.36", smallImage(b))
	for i := range 1000 {
		if _, err := fake.Containers().Create(ctx, engine.ContainerSpec{Name: fmt.Sprintf("web-%04d", i), Image: "busybox:1.36"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := core.Containers.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	w := test.NewTempWindow(b, nil)
	p := NewContainersPanel(core, w)
	w.SetContent(p.Object)
	w.Resize(fyne.NewSize(1024, 640))
	pump()
	scrollFrames(b, w, func(row int) { p.List.ScrollTo(row) })
}

// scrollFrames moves the view 7 rows at a time through 1,000 rows, with
// and without painting each frame.
func scrollFrames(b *testing.B, w fyne.Window, scrollTo func(row int)) {
	for _, painted := range []bool{false, true} {
		name := map[bool]string{false: "update", true: "painted"}[painted]
		b.Run(name, func(b *testing.B) {
			row := 0
			for b.Loop() {
				row = (row + 7) % 1000
				scrollTo(row)
				if painted {
					w.Canvas().Capture()
				}
			}
		})
	}
}
