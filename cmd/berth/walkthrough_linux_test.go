package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

var updateDocs = flag.Bool("update-docs", false, "copy the walkthrough's best screenshots into docs/screenshots")

// The tutorial a beginner follows, in the real window under Xvfb, from an
// empty engine, in the light and the dark theme: pull an image, see it in
// the gallery and its layers, open a project whose Dockerfile has curly
// quotes and apply the fix, build it, run it with a port that answers,
// read its logs, type in a terminal into it, stop and remove it, tag the
// image and push it. Each step's screen is saved in
// testdata/walkthrough-<theme>.
func TestTutorialWalkthrough(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the app's engine needs root here (TestAppForAnOrdinaryUser takes the rootless tour)")
	}
	for _, theme := range []string{"dark", "light"} {
		t.Run(theme, func(t *testing.T) { walkthrough(t, theme) })
	}
}

func walkthrough(t *testing.T, theme string) {
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "library/busybox:1.36")
	base := reg.Host + "/library/busybox:1.36"
	a := startXApp(t, xappOptions{settings: fmt.Sprintf("welcome = false\ntheme = %q\n", theme), shots: filepath.Join("testdata", "walkthrough-"+theme)})
	project := filepath.Join(a.home, "web")
	os.MkdirAll(project, 0o755)
	os.WriteFile(filepath.Join(project, "index.html"), []byte("hello from my first image\n"), 0o644)
	// The curly quotes a word processor or a web page puts in.
	os.WriteFile(filepath.Join(project, "Dockerfile"), []byte(fmt.Sprintf(
		"FROM %s\nCOPY index.html /www/index.html\nEXPOSE 8080\nCMD [“httpd”, “-f”, “-v”, “-p”, “8080”, “-h”, “/www”]\n", base)), 0o644)
	c := a.c
	ctx := context.Background()
	a.eventually("the window", a.tabShown("images"))
	a.eventually("the engine's first answer", a.dialogClosed)
	a.shot("01-empty")

	// Pull: Images, Pull…, the name, Enter.
	a.click(30, 101)
	a.eventually("the Pull dialog", a.dialogOpen)
	a.shot("02-pull")
	a.typeText(base)
	a.key("Return")
	a.eventually("the pull", func() bool { _, err := c.Inspect(ctx, base); return err == nil })
	a.eventually("the pull's progress dialog to close", a.dialogClosed)
	a.shot("03-gallery")

	// Its layers: the row, then Layers.
	a.click(100, 176)
	a.click(553, 101)
	a.eventually("the Layers panel", a.tabShown("layers"))
	a.shot("04-layers")

	// The project: Ctrl+O, its folder typed, Enter. A click on the status
	// bar first takes the focus from the Layers panel's entry.
	a.click(300, 700)
	a.key("ctrl+o")
	a.eventually("the Open dialog", a.dialogOpen)
	a.key("ctrl+a")
	a.typeText("~/web") // as a person types it
	a.key("Return")
	a.eventually("the Build panel", a.tabShown("build"))
	a.eventually("the Open dialog to close", a.dialogClosed)
	// The curly quotes are the first problem: select it, apply its fix,
	// save with Ctrl+S.
	a.click(900, 250)
	a.eventually("the fix's button", func() bool {
		r, _, b, ok := a.pixel(735, 330)
		return ok && b > 150 && b > r+100
	})
	a.shot("05-editor-problem")
	a.click(905, 340)
	a.key("ctrl+s")
	a.eventually("the fixed Dockerfile saved", func() bool {
		data, _ := os.ReadFile(filepath.Join(project, "Dockerfile"))
		return strings.Contains(string(data), `CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"]`)
	})
	a.shot("06-editor-fixed")

	// Build it as my-web:v1: the tag, then Build.
	const tag = "my-web:v1"
	a.click(160, 380)
	a.key("ctrl+a")
	a.typeText(tag)
	a.click(1003, 380)
	a.eventually("the build", func() bool { _, err := c.Inspect(ctx, tag); return err == nil })
	time.Sleep(500 * time.Millisecond) // the log's last line
	a.shot("07-build")

	// Run it from the gallery, newest first: the Run dialog offers the
	// port the image EXPOSEs; publish it on a free one of this computer.
	a.click(300, 700)
	a.key("ctrl+1")
	a.eventually("the Images panel", a.tabShown("images"))
	a.click(100, 176)
	a.click(85, 101)
	a.eventually("the Run dialog", a.dialogOpen)
	time.Sleep(300 * time.Millisecond) // its entries take focus
	port := enginetest.FreePort(t)
	a.click(604, 237)
	a.typeText("my-web")
	a.click(604, 276)
	a.key("ctrl+a")
	a.typeText(fmt.Sprintf("127.0.0.1:%d:8080", port))
	a.shot("08-run")
	a.key("Return")
	cc := c.Containers()
	a.eventually("the container", func() bool {
		ct, err := cc.Inspect(ctx, "my-web")
		return err == nil && ct.State.Status == engine.StatusRunning
	})
	t.Cleanup(func() { cc.Remove(context.Background(), "my-web", true, true) })
	httpAnswers(a, fmt.Sprintf("http://127.0.0.1:%d/", port), "hello from my first image\n")
	a.eventually("the Containers panel", a.tabShown("containers"))
	a.click(100, 150)
	time.Sleep(500 * time.Millisecond)
	a.shot("09-containers")

	// Its logs: httpd's line for the request above.
	a.click(350, 61)
	time.Sleep(time.Second)
	a.focusWindow("Logs")
	a.shot("10-logs")
	a.key("Escape")

	// A terminal into it: what is typed there runs in the container, and
	// what it prints comes back. The line writes a page httpd then serves.
	a.focusWindow("Berth")
	a.click(416, 61)
	a.focusWindow("Terminal")
	time.Sleep(time.Second) // the shell's prompt
	a.typeText("echo typed in the terminal > /www/t.html; cat /www/t.html")
	a.key("Return")
	httpAnswers(a, fmt.Sprintf("http://127.0.0.1:%d/t.html", port), "typed in the terminal\n")
	a.shot("11-terminal")
	a.typeText("exit")
	a.key("Return")
	time.Sleep(500 * time.Millisecond)
	a.key("Escape")
	a.focusWindow("Berth")

	// Stop it, then remove it with Delete, which asks first.
	a.click(82, 61)
	a.eventually("the container to stop", func() bool {
		ct, err := cc.Inspect(ctx, "my-web")
		return err == nil && ct.State.Status != engine.StatusRunning
	})
	time.Sleep(500 * time.Millisecond)
	a.shot("12-stopped")
	a.key("Delete")
	a.eventually("Remove's question", a.dialogOpen)
	a.shot("13-remove")
	a.click(583, 397) // Yes
	a.eventually("the container to go", func() bool {
		_, err := cc.Inspect(ctx, "my-web")
		return err != nil
	})

	// Tag the image with the registry's name, then push it there. The tag
	// lists first, highlighted: Push sends the highlighted image.
	a.key("ctrl+1")
	a.eventually("the Images panel", a.tabShown("images"))
	a.click(100, 176)
	a.click(218, 101)
	a.eventually("the Tag dialog", a.dialogOpen)
	pushed := reg.Host + "/me/my-web:v1"
	a.typeText(pushed)
	a.shot("14-tag")
	a.key("Return")
	a.eventually("the tag", func() bool { _, err := c.Inspect(ctx, pushed); return err == nil })
	a.eventually("the Tag dialog to close", a.dialogClosed)
	time.Sleep(500 * time.Millisecond)
	a.shot("15-tagged")
	a.click(100, 176) // the new name, listed first
	a.click(274, 101) // Push
	a.eventually("the push", func() bool {
		resp, err := http.Get("http://" + reg.Host + "/v2/me/my-web/manifests/v1")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	a.eventually("the push's message", a.dialogOpen)
	time.Sleep(300 * time.Millisecond)
	a.shot("16-pushed")
	a.key("Escape")
	a.eventually("the message to close", a.dialogClosed)
	if list, err := cc.List(ctx, true); err != nil || len(list) != 0 {
		t.Errorf("containers left after the walkthrough: %v %v", list, err)
	}

	if *updateDocs { // the README's pictures
		for _, name := range map[string][]string{"light": {"04-layers", "05-editor-problem"}, "dark": {"07-build", "15-tagged"}}[theme] {
			data, err := os.ReadFile(filepath.Join(a.shots, name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", "tutorial-"+theme+"-"+name+".png"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
