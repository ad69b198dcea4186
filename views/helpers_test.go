package views

import (
	"context"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/views/internal/terminal"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

func TestMain(m *testing.M) { apptest.Main(m) }

// find walks a canvas object tree for the first object ok accepts.
func find(o fyne.CanvasObject, ok func(fyne.CanvasObject) bool) fyne.CanvasObject {
	if o == nil {
		return nil
	}
	if ok(o) {
		return o
	}
	var kids []fyne.CanvasObject
	switch c := o.(type) {
	case *fyne.Container:
		kids = c.Objects
	case *container.Scroll:
		kids = []fyne.CanvasObject{c.Content}
	case fyne.Widget:
		kids = widgetChildren(c)
	}
	for _, k := range kids {
		if f := find(k, ok); f != nil {
			return f
		}
	}
	return nil
}

func widgetChildren(w fyne.Widget) []fyne.CanvasObject {
	r := cacheRenderer(w)
	if r == nil {
		return nil
	}
	return r.Objects()
}

// buttonIn finds a button by its text under o (a window's content or a dialog overlay).
func buttonIn(o fyne.CanvasObject, text string) *widget.Button {
	b, _ := find(o, func(c fyne.CanvasObject) bool {
		b, ok := c.(*widget.Button)
		return ok && b.Text == text && b.Visible()
	}).(*widget.Button)
	return b
}

// topOverlay is the dialog or pop-up on top of the window.
func topOverlay(w fyne.Window) fyne.CanvasObject { return w.Canvas().Overlays().Top() }

func sizeOf(w, h float32) fyne.Size { return fyne.NewSize(w, h) }

// fakeCore is a Core over an engine in memory: views' tests need no
// root and no engine (the tests in integration_linux_test.go use a real
// one).
func fakeCore(t testing.TB) (*app.Core, *enginetest.Fake) {
	f := enginetest.NewFake()
	roles := fakeRoles(f)
	c := app.NewCore(context.Background(), roles, app.DefaultSettings(), nil)
	t.Cleanup(func() { c.Close() })
	return c, f
}

// fakeRoles are a fake engine in every role it plays.
func fakeRoles(f *enginetest.Fake) app.Roles {
	return app.Roles{Images: f, Registry: f, Archives: f, Events: f, Builder: f, Containers: f.Containers(), Disk: f, Volumes: f}
}

// startOverFake starts the whole window over a fake engine, the welcome
// tour off, and hands back the fake once the panels are drawn.
func startOverFake(t *testing.T, a fyne.App) (*Window, *enginetest.Fake) {
	t.Helper()
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("welcome = false\n"), 0o644)
	var fake *enginetest.Fake
	open := func(ctx context.Context, s app.Settings, progress app.Progress, _ ...app.OpenOption) (*app.Core, error) {
		fake = enginetest.NewFake()
		return app.NewCore(ctx, fakeRoles(fake), s, nil), nil
	}
	w := Start(a, Options{SettingsPath: settings, Open: open})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	t.Cleanup(w.Win.Close)
	return w, fake
}

// smallImage is an image of two random layers, about 300 kB.
func smallImage(t testing.TB) v1.Image {
	img, err := random.Image(150_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// In tests, UI updates from other goroutines wait in uiQueue until the
// test goroutine drains it (pump), as Fyne's main loop would: the test
// driver would otherwise run them on whatever goroutine asked.
var uiQueue = make(chan func(), 1024)

func init() {
	onMain = func(f func()) { uiQueue <- f }
	onMainAndWait = func(f func()) {
		done := make(chan struct{})
		uiQueue <- func() { f(); close(done) }
		<-done
	}
	terminal.SetScheduler(onMain, onMainAndWait)
}

// pump runs the queued UI updates on the test goroutine.
func pump() {
	for {
		select {
		case f := <-uiQueue:
			f()
		default:
			return
		}
	}
}

// waitUI pumps UI updates until cond holds.
func waitUI(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 600; i++ {
		pump()
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// assertCentred checks, on the painted window, that l's text is drawn
// about the middle of the window's width.
func assertCentred(t *testing.T, l *widget.Label, w fyne.Window) {
	t.Helper()
	img, at := paintedAt(w, l)
	bg := img.At(0, at.Min.Y)
	left, right := -1, -1
	for y := at.Min.Y; y < at.Max.Y; y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			if img.At(x, y) != bg {
				if left < 0 || x < left {
					left = x
				}
				right = max(right, x)
			}
		}
	}
	if left < 0 {
		t.Fatalf("%q is not drawn", l.Text)
	}
	if mid, want := (left+right)/2, img.Bounds().Dx()/2; mid < want-20 || mid > want+20 {
		t.Errorf("%q is drawn from x=%d to %d: its middle %d is not the window's %d", l.Text, left, right, mid, want)
	}
}

// painted reports whether the painted window shows colour c, drawn over
// the theme's background, somewhere in the column x points from o's left
// edge, down o's height.
func painted(w fyne.Window, o fyne.CanvasObject, x float32, c color.Color) bool {
	img, at := paintedAt(w, o)
	want := over(c, theme.Color(theme.ColorNameBackground))
	px := at.Min.X + int(x*float32(img.Bounds().Dx())/w.Canvas().Size().Width)
	for y := at.Min.Y; y < at.Max.Y; y++ {
		r, g, b, _ := img.At(px, y).RGBA()
		got := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
		if abs(got[0]-want[0]) <= 2 && abs(got[1]-want[1]) <= 2 && abs(got[2]-want[2]) <= 2 {
			return true
		}
	}
	return false
}

// paintedAt paints w and says where o lies in the picture, in pixels.
func paintedAt(w fyne.Window, o fyne.CanvasObject) (image.Image, image.Rectangle) {
	img := w.Canvas().Capture()
	scale := float32(img.Bounds().Dx()) / w.Canvas().Size().Width
	pos, size := fyne.CurrentApp().Driver().AbsolutePositionForObject(o), o.Size()
	return img, image.Rect(int(pos.X*scale), int(pos.Y*scale), int((pos.X+size.Width)*scale), int((pos.Y+size.Height)*scale))
}

// over is colour c (premultiplied, as color.Color is) drawn on bg.
func over(c, bg color.Color) [3]int {
	r, g, b, a := c.RGBA()
	br, bgg, bb, _ := bg.RGBA()
	mix := func(x, y uint32) int { return int((x + y*(0xffff-a)/0xffff) >> 8) }
	return [3]int{mix(r, br), mix(g, bgg), mix(b, bb)}
}

func abs(n int) int { return max(n, -n) }
