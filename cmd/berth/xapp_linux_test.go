package main

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/enginetest"
)

// xapp is the real app running under its own Xvfb, with an engine it
// started itself, driven by xdotool and watched through screenshots.
type xapp struct {
	t       testing.TB
	pid     int // the app's process
	display string
	dir     string
	home    string // the person's home folder (root's tour: one of the test's own)
	sock    string
	c       *client.Client
	shots   string // where shot saves its pictures
	probe   string
	// background is the window's plain background in its theme: a modal
	// dialog shades it.
	background [3]uint32
}

// xappOptions says whom the app runs as (nil: root, with an engine of the
// test's own in a temporary folder) and what its settings file holds.
type xappOptions struct {
	person   *enginetest.Person
	settings string
	shots    string
}

// buildTags are the tags the package's binaries are built with
// (packaging/linux/build.sh).
const buildTags = "seccomp,no_emoji"

// tabX is where each panel's tab is, across the top of a 1100 px window.
var tabX = map[string]int{"images": 50, "search": 145, "containers": 250, "build": 345, "layers": 435, "volumes": 530}

// startXApp builds berth and berthd, starts Xvfb and the app, and waits
// until the engine the app started answers.
func startXApp(t testing.TB, o xappOptions) *xapp {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packaging/dev/setup.sh test installs xvfb, xdotool and imagemagick)", tool)
		}
	}
	p := o.person
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if p != nil { // where the person may run it from
		bin = p.Mkdir(t, filepath.Join(p.Runtime, "bin"))
	}
	for _, b := range []string{"berth", "berthd"} {
		if out, err := exec.Command("go", "build", "-tags", buildTags, "-o", filepath.Join(bin, b), "../"+b).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b, err, out)
		}
	}
	display := startXvfb(t)

	var cmd *exec.Cmd
	var sock, home string
	// A bridge and subnet of this test process's own: two tours at once
	// (a benchmark beside the tests) on one subnet reset each other's
	// connections.
	bridge, bip := fmt.Sprintf("brx%d", os.Getpid()%100000), fmt.Sprintf("10.251.%d.1/24", os.Getpid()%250)
	if p == nil {
		sock = filepath.Join(dir, "berth.sock")
		runtimeDir := filepath.Join(dir, "xdg-run")
		os.MkdirAll(runtimeDir, 0o700)
		home = filepath.Join(dir, "home")
		os.MkdirAll(filepath.Join(home, ".config", "berth"), 0o755)
		os.MkdirAll(filepath.Join(home, ".cache"), 0o755)
		os.WriteFile(filepath.Join(home, ".config", "berth", "config.toml"), []byte(o.settings), 0o644)
		cmd = exec.Command(filepath.Join(bin, "berth"))
		cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_RUNTIME_DIR="+runtimeDir,
			"DOCKER_HOST=", "BERTH_HOST=unix://"+sock, "PATH="+bin+":"+os.Getenv("PATH"),
			"BERTHD_FLAGS=--data-root "+filepath.Join(dir, "data")+" --exec-root "+filepath.Join(dir, "run")+" --bridge "+bridge+" --bip "+bip+" --ip-masq=false")
	} else {
		// Nothing but the person's session: the app finds the engine's
		// place and starts it rootless, as it would for them.
		sock, home = filepath.Join(p.Runtime, "berth", "berth.sock"), p.Home
		config := p.Mkdir(t, filepath.Join(p.Runtime, "config"))
		p.Mkdir(t, filepath.Join(config, "berth"))
		os.WriteFile(filepath.Join(config, "berth", "config.toml"), []byte(o.settings), 0o644)
		cmd = p.Command(context.Background(), filepath.Join(bin, "berth"))
		cmd.Env = append(cmd.Env, "DISPLAY="+display, "XDG_CONFIG_HOME="+config)
		t.Cleanup(func() { stopEngineAt(t, filepath.Join(p.Runtime, "berth")) })
	}
	logf, _ := os.Create(filepath.Join(dir, "app.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
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

	c, err := client.New("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	a := &xapp{t: t, pid: cmd.Process.Pid, display: display, dir: dir, home: home, sock: sock, c: c, shots: o.shots, probe: filepath.Join(dir, "probe.png"), background: [3]uint32{23, 23, 24}}
	if strings.Contains(o.settings, `theme = "light"`) {
		a.background = [3]uint32{255, 255, 255}
	}
	os.RemoveAll(a.shots) // this run's pictures only
	os.MkdirAll(a.shots, 0o755)
	for i := 0; ; i++ {
		if _, err = c.Version(context.Background()); err == nil {
			break
		}
		if i == 200 {
			t.Fatalf("the app did not start berthd: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return a
}

// x runs xdotool on the app's display.
func (a *xapp) x(args ...string) {
	a.t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+a.display)
	if out, err := cmd.CombinedOutput(); err != nil {
		a.t.Fatalf("xdotool %v: %v %s", args, err, out)
	}
}

// click clicks at (x, y); typeText types s where the focus is.
func (a *xapp) click(x, y int) {
	a.t.Helper()
	a.x("mousemove", fmt.Sprint(x), fmt.Sprint(y), "click", "1")
}

func (a *xapp) typeText(s string) { a.t.Helper(); a.x("type", "--delay", "5", s) }

func (a *xapp) key(keys ...string) { a.t.Helper(); a.x(append([]string{"key"}, keys...)...) }

// focusWindow gives the keyboard to the app's window whose title starts
// with title (Xvfb has no window manager to do it), and raises it.
func (a *xapp) focusWindow(title string) {
	a.t.Helper()
	var out []byte
	var err error
	for try := 0; try < 10; try++ { // a window closing meanwhile fails the search
		cmd := exec.Command("xdotool", "search", "--sync", "--name", "^"+title, "windowraise", "windowfocus")
		cmd.Env = append(os.Environ(), "DISPLAY="+a.display)
		if out, err = cmd.CombinedOutput(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.t.Fatalf("focus the window %q: %v %s", title, err, out)
}

// capture saves the screen as path and reads it back.
func (a *xapp) capture(path string) (image.Image, error) {
	cmd := exec.Command("import", "-window", "root", path)
	cmd.Env = append(os.Environ(), "DISPLAY="+a.display)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("screenshot: %v %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// shot saves the screen as name.png among the test's pictures.
func (a *xapp) shot(name string) image.Image {
	a.t.Helper()
	img, err := a.capture(filepath.Join(a.shots, name+".png"))
	if err != nil {
		a.t.Fatal(err)
	}
	return img
}

// screen is the screen now, or nil when it could not be read.
func (a *xapp) screen() image.Image {
	img, _ := a.capture(a.probe)
	return img
}

func (a *xapp) pixel(x, y int) (r, g, b uint32, ok bool) {
	img := a.screen()
	if img == nil {
		return 0, 0, 0, false
	}
	r, g, b, _ = img.At(x, y).RGBA()
	return r >> 8, g >> 8, b >> 8, true
}

// eventually waits up to 30 s for cond, and otherwise fails with a
// picture of the screen. The steps wait for what the screen or the
// engine shows rather than for a guessed time: on a loaded machine a
// frame can lag seconds behind a click, and a click that lands while a
// modal dialog is open is lost.
func (a *xapp) eventually(what string, cond func() bool) {
	a.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	a.shot("failed")
	a.t.Fatalf("timed out waiting for %s (see %s)", what, filepath.Join(a.shots, "failed.png"))
}

// tabShown reports whether the named tab is selected: it is underlined in
// the theme's blue.
func (a *xapp) tabShown(name string) func() bool {
	return func() bool {
		r, _, b, ok := a.pixel(tabX[name], 40)
		return ok && b > 150 && b > r+100
	}
}

func (a *xapp) selectTab(name string) {
	a.t.Helper()
	for try := 0; try < 5; try++ {
		a.click(tabX[name], 21)
		for i := 0; i < 10; i++ {
			if a.tabShown(name)() {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	a.shot("failed")
	a.t.Fatalf("the %s tab did not open (see %s)", name, filepath.Join(a.shots, "failed.png"))
}

// A modal dialog shades the whole window, its plain background included.
const shadeX, shadeY = 20, 450

func (a *xapp) dialogOpen() bool {
	r, g, b, ok := a.pixel(shadeX, shadeY)
	return ok && [3]uint32{r, g, b} != a.background
}

func (a *xapp) dialogClosed() bool { return !a.dialogOpen() }
