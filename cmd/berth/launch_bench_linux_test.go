package main

import (
	"context"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// BenchmarkAppLaunch starts the real app under Xvfb against an engine
// holding 100 images and 50 containers, per iteration: "s-shown" is
// launch to the window shown (its first frame); ns/op launch until the
// gallery shows its rows (screenshots taken one after another, so a
// little late); "MB-idle-RSS" the app's resident memory 5 s later, idle,
// and "MB-software-GL" how much of it is Mesa's software OpenGL (LLVM
// and llvmpipe), which Xvfb needs and a desktop's GPU driver spares.
// The goals: under 1 s to the first frame, under 150 MB idle.
func BenchmarkAppLaunch(b *testing.B) {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s is not installed (packaging/dev/setup.sh test installs xvfb, xdotool and imagemagick)", tool)
		}
	}
	e := apptest.Start(b) // BERTH_HOST names it
	ctx := context.Background()
	base, err := enginetest.BusyboxImage()
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 { // 100 images, each its own
		cf, _ := base.ConfigFile()
		cfg := cf.Config.DeepCopy()
		cfg.Env = append(cfg.Env, fmt.Sprintf("N=%d", i))
		img, _ := mutate.Config(base, *cfg)
		e.Registry.Push(b, img, fmt.Sprintf("bench/app-%03d:v1", i))
		if _, err := e.Core.Engine.Registry.Pull(ctx, fmt.Sprintf("%s/bench/app-%03d:v1", e.Registry.Host, i), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 50 {
		if _, err := e.Core.Engine.Containers.Create(ctx, engine.ContainerSpec{Name: fmt.Sprintf("bench-%02d", i), Image: fmt.Sprintf("%s/bench/app-%03d:v1", e.Registry.Host, i)}); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "berth")
	if out, err := exec.Command("go", "build", "-tags", buildTags, "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	display := startXvfb(b)
	home := filepath.Join(dir, "home")
	os.MkdirAll(filepath.Join(home, ".config", "berth"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "berth", "config.toml"), []byte("welcome = false\n"), 0o644)
	env := append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "DOCKER_HOST=")
	shot := filepath.Join(dir, "shot.png")
	listed := func() bool { // the gallery's first rows are drawn: text where the table starts
		cmd := exec.Command("import", "-window", "root", "-crop", "600x120+0+120", shot)
		cmd.Env = env
		if cmd.Run() != nil {
			return false
		}
		f, err := os.Open(shot)
		if err != nil {
			return false
		}
		defer f.Close()
		img, _, err := image.Decode(f)
		return err == nil && distinctColours(img) >= 6
	}

	var shownTotal, rssTotal, glTotal float64
	for b.Loop() {
		start := time.Now()
		app := exec.Command(bin)
		app.Env = env
		if err := app.Start(); err != nil {
			b.Fatal(err)
		}
		search := exec.Command("xdotool", "search", "--sync", "--onlyvisible", "--name", "^Berth$")
		search.Env = env
		if out, err := search.CombinedOutput(); err != nil {
			app.Process.Kill()
			app.Wait()
			b.Fatalf("the window never showed: %v %s", err, out)
		}
		shown := time.Since(start)
		for deadline := time.Now().Add(30 * time.Second); !listed(); {
			if time.Now().After(deadline) {
				app.Process.Kill()
				app.Wait()
				b.Fatal("the gallery never showed its rows")
			}
		}
		shownTotal += shown.Seconds()
		b.StopTimer()
		time.Sleep(5 * time.Second)
		rssTotal += float64(rssKB(app.Process.Pid)) / 1024
		glTotal += float64(softwareGLKB(app.Process.Pid)) / 1024
		if d, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", app.Process.Pid)); d != nil {
			os.WriteFile("/tmp/app-smaps.txt", d, 0o644)
		}
		app.Process.Kill()
		app.Wait()
		b.StartTimer()
	}
	b.ReportMetric(shownTotal/float64(b.N), "s-shown")
	b.ReportMetric(glTotal/float64(b.N), "MB-software-GL")
	b.ReportMetric(rssTotal/float64(b.N), "MB-idle-RSS")
}

// softwareGLKB is the resident memory of a process's mappings of Mesa's
// software OpenGL libraries, in kB.
func softwareGLKB(pid int) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	total, gl := 0, false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-"): // a mapping's first line
			gl = len(f) >= 6 && (strings.Contains(f[5], "libLLVM") || strings.Contains(f[5], "swrast") || strings.Contains(f[5], "libgallium"))
		case gl && len(f) == 3 && f[0] == "Rss:":
			n, _ := strconv.Atoi(f[1])
			total += n
		}
	}
	return total
}

// rssKB is a process's resident memory in kB, from /proc.
func rssKB(pid int) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}
