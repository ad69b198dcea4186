package main

import (
	"context"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/enginetest"
)

// The real app under Xvfb, driven with the mouse and keyboard: it starts
// its own engine, searches a loopback registry, pulls and runs the image
// with a published port that then answers, explores the image's layers,
// and each panel is saved as a screenshot in testdata/screenshots.
func TestAppUnderXvfb(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the app's engine needs root")
	}
	appTour(t, nil, filepath.Join("testdata", "screenshots"))
}

// The same tour as an ordinary user, as a person who installed Berth would
// take it: the app starts a rootless engine by itself.
func TestAppForAnOrdinaryUser(t *testing.T) {
	p := enginetest.OrdinaryUser(t)
	appTour(t, p, filepath.Join("testdata", "screenshots-rootless"))
}

// appTour runs the app as p (nil: root, with an engine of the test's own),
// takes the tour and saves its screenshots in shots.
func appTour(t *testing.T, p *enginetest.Person, shots string) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")
	a := startXApp(t, xappOptions{person: p, settings: "welcome = false\n", shots: shots})
	c := a.c
	ctx := context.Background()
	v, err := c.Version(ctx)
	if err != nil || !strings.Contains(v.Product, "Berth") {
		t.Fatalf("engine %+v %v", v, err)
	}
	if p != nil { // the engine the app started is the person's, not root's
		data, err := os.ReadFile(filepath.Join(p.Runtime, "berth", client.PIDFile))
		if err != nil {
			t.Fatalf("the rootless engine recorded no PID: %v", err)
		}
		status, _ := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(data)), "status"))
		if want := fmt.Sprintf("Uid:\t%d\t%d", p.UID, p.UID); !strings.Contains(string(status), want) {
			t.Fatalf("the engine the app started does not run as the person (want %q):\n%s", want, status)
		}
	}
	ref := reg.Host + "/library/busybox:1.36"
	// text reports whether the screen has light text in the rectangle.
	text := func(img image.Image, r image.Rectangle) bool {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if red, _, _, _ := img.At(x, y).RGBA(); red>>8 > 150 {
					return true
				}
			}
		}
		return false
	}
	a.eventually("the window", a.tabShown("images"))
	a.eventually("the engine's first answer", a.dialogClosed)

	// Search the loopback registry, pick the image, pull it: all in the window.
	a.selectTab("search")
	a.click(500, 61)
	a.typeText(reg.Host + "/library/busy")
	a.key("Return")
	// Click the first result once it is listed: it turns the selection's blue.
	a.eventually("the search's first result", func() bool {
		a.click(300, 140)
		r, _, b, ok := a.pixel(600, 140) // a catalog's rows are one line tall
		return ok && b > 60 && b > r+40
	})
	// Its tags load: the tag shown goes from "latest" to the shorter "1.36".
	a.eventually("the image's tags", func() bool {
		img := a.screen()
		return img != nil && text(img, image.Rect(55, 608, 86, 628)) && !text(img, image.Rect(86, 608, 120, 628))
	})
	a.shot("search")
	a.click(1026, 618) // Pull
	// Pull switches to Images and shows its progress in a dialog, drawn in
	// the same frame; the dialog closes when the pull is done.
	a.eventually("the Images tab", a.tabShown("images"))
	a.eventually("the pull", func() bool { _, err := c.Inspect(ctx, ref); return err == nil })
	a.eventually("the pull's progress dialog to close", a.dialogClosed)

	// Run it from the same panel: the Run dialog, a published port, a command.
	port := enginetest.FreePort(t)
	a.selectTab("search")
	a.click(1073, 618) // Run
	a.eventually("the Run dialog", a.dialogOpen)
	time.Sleep(300 * time.Millisecond) // its entries take focus
	a.click(604, 237)
	a.typeText("hello-web")
	a.click(604, 276)
	a.typeText(fmt.Sprintf("127.0.0.1:%d:8080", port))
	a.click(604, 493)
	a.typeText("mkdir /www && echo hello from the app > /www/index.html && exec httpd -f -p 8080 -h /www")
	a.click(594, 555) // Run
	a.eventually("the Run dialog to close", a.dialogClosed)
	cc := c.Containers()
	a.eventually("the container", func() bool {
		ct, err := cc.Inspect(ctx, "hello-web")
		return err == nil && ct.State.Status == engine.StatusRunning
	})
	t.Cleanup(func() { cc.Remove(context.Background(), "hello-web", true, true) })
	httpAnswers(a, fmt.Sprintf("http://127.0.0.1:%d/", port), "hello from the app\n")

	a.eventually("the Containers tab", a.tabShown("containers")) // the Run dialog's onStarted
	a.selectTab("images")
	time.Sleep(700 * time.Millisecond) // the table fills
	if distinctColours(a.shot("images")) < 8 {
		t.Fatal("the Images screenshot is blank")
	}
	for _, name := range []string{"containers", "build"} {
		a.selectTab(name)
		time.Sleep(500 * time.Millisecond)
		a.shot(name)
	}
	// Layers: type the image's name and explore it.
	a.selectTab("layers")
	a.click(400, 61)
	a.typeText(ref)
	a.key("Return")
	a.click(1060, 61)
	time.Sleep(2 * time.Second)
	a.shot("layers")
	// Ctrl+E opens the engine switcher above the status bar's engine
	// button (a click on the status bar first takes the focus from the
	// layers' entry, which would keep the shortcut).
	a.click(300, 700)
	before := a.screen()
	a.key("ctrl+e")
	a.eventually("the engine menu", func() bool {
		after := a.screen()
		return before != nil && after != nil && differs(before, after, image.Rect(600, 450, 1100, 690))
	})
	a.shot("engines")
	a.key("Escape")
	if list, err := cc.List(ctx, false); err != nil || len(list) != 1 {
		t.Fatalf("containers after the tour: %v %v", list, err)
	}
}

// httpAnswers waits until url answers want, and fails with its last
// answer otherwise.
func httpAnswers(a *xapp, url, want string) {
	a.t.Helper()
	var body string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			body = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if body = string(b); body == want {
			return
		}
	}
	a.shot("failed")
	a.t.Fatalf("%s answered %q, want %q", url, body, want)
}

// stopEngineAt stops the berthd whose run folder is runDir, by the PID it
// recorded there, and waits for it to end.
func stopEngineAt(t testing.TB, runDir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := app.StopBerthdAt(ctx, runDir); err != nil {
		t.Errorf("stop the test's engine: %v", err)
	}
}

// startXvfb starts an Xvfb of the size the tours expect on a free display
// and stops it when the test ends: SIGTERM, so it removes its lock file
// and socket (a SIGKILL left them, and after a hundred runs no display was
// free).
func startXvfb(t testing.TB) string {
	display := freeDisplay(t)
	// -ac: a person's app may draw on root's virtual display.
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1100x720x24", "-nolisten", "tcp", "-ac")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		xvfb.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { xvfb.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			xvfb.Process.Kill()
			<-done
		}
	})
	waitX(t, display)
	return display
}

// freeDisplay is a display number no running X server holds. A lock file
// whose server is gone does not count: Xvfb replaces a stale one itself.
func freeDisplay(t testing.TB) string {
	for n := 90 + os.Getpid()%50; n < 200; n++ {
		data, err := os.ReadFile(fmt.Sprintf("/tmp/.X%d-lock", n))
		if err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			if pid <= 0 || syscall.Kill(pid, 0) == nil {
				continue // a server runs there
			}
		}
		return fmt.Sprintf(":%d", n)
	}
	t.Fatal("no free X display")
	return ""
}

func waitX(t testing.TB, display string) {
	sock := "/tmp/.X11-unix/X" + strings.TrimPrefix(display, ":")
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("Xvfb did not start")
}

func distinctColours(img image.Image) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
		}
	}
	return len(seen)
}

// differs reports whether a and b differ anywhere in r.
func differs(a, b image.Image, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y += 3 {
		for x := r.Min.X; x < r.Max.X; x += 3 {
			if a.At(x, y) != b.At(x, y) {
				return true
			}
		}
	}
	return false
}
