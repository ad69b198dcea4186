package main

import (
	"context"
	"fmt"
	"image"
	_ "image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/enginetest"
)

// The real app under Xvfb: it starts its own engine, shows what the
// engine does (a pull and a run made through the API, followed through
// the event stream), explores a layer tree the user asks for, and each
// panel is saved as a screenshot in testdata/screenshots (README shows one).
func TestAppUnderXvfb(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the app's engine needs root")
	}
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packaging/dev/setup.sh test installs xvfb, xdotool and imagemagick)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	for _, b := range []string{"berth", "berthd"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b), "../"+b).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b, err, out)
		}
	}
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")

	display := freeDisplay(t)
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1100x720x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xvfb.Process.Kill(); xvfb.Wait() })
	waitX(t, display)

	sock := filepath.Join(dir, "berth.sock")
	bridge := fmt.Sprintf("brx%d", os.Getpid()%100000)
	runtimeDir := filepath.Join(dir, "xdg-run")
	os.MkdirAll(runtimeDir, 0o700)
	home := filepath.Join(dir, "home")
	os.MkdirAll(filepath.Join(home, ".config", "berth"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "berth", "config.toml"), []byte("welcome = false\n"), 0o644)
	app := exec.Command(filepath.Join(bin, "berth"))
	app.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_RUNTIME_DIR="+runtimeDir,
		"DOCKER_HOST=", "BERTH_HOST=unix://"+sock, "PATH="+bin+":"+os.Getenv("PATH"),
		"BERTHD_FLAGS=--data-root "+filepath.Join(dir, "data")+" --exec-root "+filepath.Join(dir, "run")+" --bridge "+bridge+" --bip 10.251.7.1/24 --ip-masq=false")
	logf, _ := os.Create(filepath.Join(dir, "app.log"))
	app.Stdout, app.Stderr = logf, logf
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.Process.Kill()
		app.Wait()
		exec.Command("pkill", "-f", "berthd -H unix://"+sock).Run()
		time.Sleep(500 * time.Millisecond)
		exec.Command("ip", "link", "del", bridge).Run()
		exec.Command("iptables", "-D", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT").Run()
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "app.log"))
			t.Logf("app log:\n%s", out)
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
	ref := reg.Host + "/library/busybox:1.36"
	if _, err := c.Pull(ctx, ref, nil, nil); err != nil {
		t.Fatal(err)
	}
	cc := c.Containers()
	id, err := cc.Create(ctx, engine.ContainerSpec{Name: "hello-web", Image: ref, Ports: []engine.PortBinding{{HostIP: "127.0.0.1", ContainerPort: 8080}},
		Cmd: []string{"sh", "-c", "mkdir /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Remove(context.Background(), id, true, true) })

	shots := filepath.Join("testdata", "screenshots")
	os.MkdirAll(shots, 0o755)
	time.Sleep(1500 * time.Millisecond) // the events reach the window
	x := func(args ...string) {
		cmd := exec.Command("xdotool", args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v %s", args, err, out)
		}
	}
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
	images := shot("images")
	if distinctColours(images) < 8 {
		t.Fatal("the Images screenshot is blank")
	}
	tabs := map[string]string{"search": "145", "containers": "250", "build": "345", "layers": "435"}
	for _, name := range []string{"search", "containers", "build"} {
		x("mousemove", tabs[name], "21", "click", "1")
		time.Sleep(700 * time.Millisecond)
		shot(name)
	}
	// Layers: type the image's name and explore it.
	x("mousemove", tabs["layers"], "21", "click", "1")
	time.Sleep(500 * time.Millisecond)
	x("mousemove", "400", "61", "click", "1")
	x("type", "--delay", "5", ref)
	x("key", "Return")
	x("mousemove", "1060", "61", "click", "1")
	time.Sleep(2 * time.Second)
	shot("layers")
	// The app itself still drives the engine: nothing it did broke it.
	if list, err := cc.List(ctx, false); err != nil || len(list) != 1 {
		t.Fatalf("containers after the tour: %v %v", list, err)
	}
}

func freeDisplay(t *testing.T) string {
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

func waitX(t *testing.T, display string) {
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
