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
	"strings"
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
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packaging/dev/setup.sh test installs xvfb, xdotool and imagemagick)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if p != nil { // where the person may run it from
		bin = p.Mkdir(t, filepath.Join(p.Runtime, "bin"))
	}
	for _, b := range []string{"berth", "berthd"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b), "../"+b).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b, err, out)
		}
	}
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")

	display := freeDisplay(t)
	// -ac: the person's app may draw on root's virtual display.
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1100x720x24", "-nolisten", "tcp", "-ac")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xvfb.Process.Kill(); xvfb.Wait() })
	waitX(t, display)

	var app *exec.Cmd
	var sock string
	bridge := fmt.Sprintf("brx%d", os.Getpid()%100000)
	if p == nil {
		sock = filepath.Join(dir, "berth.sock")
		runtimeDir := filepath.Join(dir, "xdg-run")
		os.MkdirAll(runtimeDir, 0o700)
		home := filepath.Join(dir, "home")
		os.MkdirAll(filepath.Join(home, ".config", "berth"), 0o755)
		os.MkdirAll(filepath.Join(home, ".cache"), 0o755)
		os.WriteFile(filepath.Join(home, ".config", "berth", "config.toml"), []byte("welcome = false\n"), 0o644)
		app = exec.Command(filepath.Join(bin, "berth"))
		app.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_RUNTIME_DIR="+runtimeDir,
			"DOCKER_HOST=", "BERTH_HOST=unix://"+sock, "PATH="+bin+":"+os.Getenv("PATH"),
			"BERTHD_FLAGS=--data-root "+filepath.Join(dir, "data")+" --exec-root "+filepath.Join(dir, "run")+" --bridge "+bridge+" --bip 10.251.7.1/24 --ip-masq=false")
	} else {
		// Nothing but the person's session: the app finds the engine's
		// place and starts it rootless, as it would for them.
		sock = filepath.Join(p.Runtime, "berth", "berth.sock")
		config := p.Mkdir(t, filepath.Join(p.Runtime, "config"))
		p.Mkdir(t, filepath.Join(config, "berth"))
		os.WriteFile(filepath.Join(config, "berth", "config.toml"), []byte("welcome = false\n"), 0o644)
		app = p.Command(context.Background(), filepath.Join(bin, "berth"))
		app.Env = append(app.Env, "DISPLAY="+display, "XDG_CONFIG_HOME="+config)
		t.Cleanup(func() { stopEngineAt(t, filepath.Join(p.Runtime, "berth")) })
	}
	logf, _ := os.Create(filepath.Join(dir, "app.log"))
	app.Stdout, app.Stderr = logf, logf
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.Process.Kill()
		app.Wait()
		if p == nil {
			stopEngineAt(t, filepath.Join(dir, "run"))
			exec.Command("ip", "link", "del", bridge).Run()
			exec.Command("iptables", "-D", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT").Run()
		}
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "app.log"))
			t.Logf("app log:\n%s", out)
			out, _ = os.ReadFile(filepath.Join(filepath.Dir(sock), "berthd.log"))
			t.Logf("engine log:\n%s", out)
		}
	})

	// The app started berthd: the engine answers on the socket.
	c, err := client.New("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var v client.ServerVersion
	for i := 0; ; i++ {
		if v, err = c.Version(ctx); err == nil {
			break
		}
		if i == 200 {
			t.Fatalf("the app did not start berthd: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(v.Product, "Berth") {
		t.Fatalf("engine %+v", v)
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
	x := func(args ...string) {
		cmd := exec.Command("xdotool", args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v %s", args, err, out)
		}
	}
	os.RemoveAll(shots) // this run's pictures only
	os.MkdirAll(shots, 0o755)
	shot := func(name string) image.Image {
		p := filepath.Join(shots, name+".png")
		cmd := exec.Command("import", "-window", "root", p)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v %s", err, out)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, _, err := image.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if cond() {
				return
			}
		}
		shot("failed")
		t.Fatalf("timed out waiting for %s (see %s)", what, filepath.Join(shots, "failed.png"))
	}
	// The clicks wait for what the screen shows rather than for a guessed
	// time: on a loaded machine a frame can lag seconds behind a click, and a
	// click that lands while a modal dialog is open is lost.
	probe := filepath.Join(dir, "probe.png")
	screen := func() image.Image {
		cmd := exec.Command("import", "-window", "root", probe)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if err := cmd.Run(); err != nil {
			return nil
		}
		f, err := os.Open(probe)
		if err != nil {
			return nil
		}
		defer f.Close()
		img, _, err := image.Decode(f)
		if err != nil {
			return nil
		}
		return img
	}
	pixel := func(x, y int) (r, g, b uint32, ok bool) {
		img := screen()
		if img == nil {
			return 0, 0, 0, false
		}
		r, g, b, _ = img.At(x, y).RGBA()
		return r >> 8, g >> 8, b >> 8, true
	}
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
	tabs := map[string]int{"images": 50, "search": 145, "containers": 250, "build": 345, "layers": 435}
	// The selected tab is underlined in the theme's blue.
	tabShown := func(name string) func() bool {
		return func() bool {
			r, _, b, ok := pixel(tabs[name], 40)
			return ok && b > 150 && b > r+100
		}
	}
	selectTab := func(name string) {
		t.Helper()
		for try := 0; try < 5; try++ {
			x("mousemove", fmt.Sprint(tabs[name]), "21", "click", "1")
			for i := 0; i < 10; i++ {
				if tabShown(name)() {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		shot("failed")
		t.Fatalf("the %s tab did not open (see %s)", name, filepath.Join(shots, "failed.png"))
	}
	// A modal dialog shades the whole window, plain background (the dark
	// theme's 23,23,24) included.
	const shadeX, shadeY = 20, 450
	dialogOpen := func() bool {
		r, g, b, ok := pixel(shadeX, shadeY)
		return ok && (r != 23 || g != 23 || b != 24)
	}
	dialogClosed := func() bool { return !dialogOpen() }
	eventually("the window", tabShown("images"))
	eventually("the engine's first answer", dialogClosed)

	// Search the loopback registry, pick the image, pull it: all in the window.
	selectTab("search")
	x("mousemove", "500", "61", "click", "1")
	x("type", "--delay", "5", reg.Host+"/library/busy")
	x("key", "Return")
	// Click the first result once it is listed: it turns the selection's blue.
	eventually("the search's first result", func() bool {
		x("mousemove", "300", "150", "click", "1")
		r, _, b, ok := pixel(600, 180)
		return ok && b > 60 && b > r+40
	})
	// Its tags load: the tag shown goes from "latest" to the shorter "1.36".
	eventually("the image's tags", func() bool {
		img := screen()
		return img != nil && text(img, image.Rect(55, 608, 86, 628)) && !text(img, image.Rect(86, 608, 120, 628))
	})
	shot("search")
	x("mousemove", "1026", "618", "click", "1") // Pull
	// Pull switches to Images and shows its progress in a dialog, drawn in
	// the same frame; the dialog closes when the pull is done.
	eventually("the Images tab", tabShown("images"))
	eventually("the pull", func() bool { _, err := c.Inspect(ctx, ref); return err == nil })
	eventually("the pull's progress dialog to close", dialogClosed)

	// Run it from the same panel: the Run dialog, a published port, a command.
	port := enginetest.FreePort(t)
	selectTab("search")
	x("mousemove", "1073", "618", "click", "1") // Run
	eventually("the Run dialog", dialogOpen)
	time.Sleep(300 * time.Millisecond) // its entries take focus
	x("mousemove", "604", "237", "click", "1")
	x("type", "--delay", "5", "hello-web")
	x("mousemove", "604", "276", "click", "1")
	x("type", "--delay", "5", fmt.Sprintf("127.0.0.1:%d:8080", port))
	x("mousemove", "604", "493", "click", "1")
	x("type", "--delay", "5", "mkdir /www && echo hello from the app > /www/index.html && exec httpd -f -p 8080 -h /www")
	x("mousemove", "594", "555", "click", "1") // Run
	eventually("the Run dialog to close", dialogClosed)
	cc := c.Containers()
	eventually("the container", func() bool {
		ct, err := cc.Inspect(ctx, "hello-web")
		return err == nil && ct.State.Status == engine.StatusRunning
	})
	t.Cleanup(func() { cc.Remove(context.Background(), "hello-web", true, true) })
	var body string
	eventually("the published port", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return true
	})
	if body != "hello from the app\n" {
		t.Fatalf("the container the app ran answered %q", body)
	}

	eventually("the Containers tab", tabShown("containers")) // the Run dialog's onStarted
	selectTab("images")
	time.Sleep(700 * time.Millisecond) // the table fills
	if distinctColours(shot("images")) < 8 {
		t.Fatal("the Images screenshot is blank")
	}
	for _, name := range []string{"containers", "build"} {
		selectTab(name)
		time.Sleep(500 * time.Millisecond)
		shot(name)
	}
	// Layers: type the image's name and explore it.
	selectTab("layers")
	x("mousemove", "400", "61", "click", "1")
	x("type", "--delay", "5", ref)
	x("key", "Return")
	x("mousemove", "1060", "61", "click", "1")
	time.Sleep(2 * time.Second)
	shot("layers")
	// Ctrl+E opens the engine switcher above the status bar's engine
	// button (a click on the status bar first takes the focus from the
	// layers' entry, which would keep the shortcut).
	x("mousemove", "300", "700", "click", "1")
	before := screen()
	x("key", "ctrl+e")
	eventually("the engine menu", func() bool {
		after := screen()
		return before != nil && after != nil && differs(before, after, image.Rect(600, 450, 1100, 690))
	})
	shot("engines")
	x("key", "Escape")
	if list, err := cc.List(ctx, false); err != nil || len(list) != 1 {
		t.Fatalf("containers after the tour: %v %v", list, err)
	}
}

// stopEngineAt stops the berthd whose run folder is runDir, by the PID it
// recorded there, and waits for it to end.
func stopEngineAt(t *testing.T, runDir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := app.StopBerthdAt(ctx, runDir); err != nil {
		t.Errorf("stop the test's engine: %v", err)
	}
}

func freeDisplay(t testing.TB) string {
	for n := 90 + os.Getpid()%50; n < 200; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); os.IsNotExist(err) {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); os.IsNotExist(err) {
				return fmt.Sprintf(":%d", n)
			}
		}
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
