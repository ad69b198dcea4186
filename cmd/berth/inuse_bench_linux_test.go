package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

// BenchmarkAppInUse is the app in use for a while (BERTH_SOAK, default
// 3m; the figure came after 11m): a panel switched every second
// (Ctrl+1…6), a row clicked every 3 s, and a build of an edited project
// every 20 s, with 5 containers printing a line a second. It reports the
// app's resident memory after the first minute and at the end, and the
// growth between: memory that keeps growing in use is a leak.
func BenchmarkAppInUse(b *testing.B) {
	soak := 3 * time.Minute
	if v := os.Getenv("BERTH_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("BERTH_SOAK=%q: %v", v, err)
		}
		soak = d
	}
	reg := enginetest.StartRegistry(b)
	reg.Push(b, enginetest.Busybox(b), "library/busybox:1.36")
	base := reg.Host + "/library/busybox:1.36"
	a := startXApp(b, xappOptions{settings: "welcome = false\n", shots: b.TempDir()})
	ctx := context.Background()
	if _, err := a.c.Pull(ctx, base, nil, nil); err != nil {
		b.Fatal(err)
	}
	cc := a.c.Containers()
	for i := range 5 {
		name := fmt.Sprintf("talker-%d", i)
		if _, err := cc.Create(ctx, engine.ContainerSpec{Name: name, Image: base, Cmd: []string{"sh", "-c", "while true; do echo line $(date); sleep 1; done"}}); err != nil {
			b.Fatal(err)
		}
		if err := cc.Start(ctx, name); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cc.Remove(context.Background(), name, true, false) })
	}
	project := filepath.Join(a.home, "web")
	os.MkdirAll(project, 0o755)
	os.WriteFile(filepath.Join(project, "Dockerfile"), []byte("FROM "+base+"\nCOPY index.html /www/\nRUN wc -c /www/index.html\n"), 0o644)
	os.WriteFile(filepath.Join(project, "index.html"), []byte("0\n"), 0o644)
	a.eventually("the window", a.tabShown("images"))
	a.eventually("the engine's first answer", a.dialogClosed)
	a.key("ctrl+o")
	a.eventually("the Open dialog", a.dialogOpen)
	a.key("ctrl+a")
	a.typeText("~/web")
	a.key("Return")
	a.eventually("the project", a.dialogClosed)

	var first, last int
	builds := 0
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		for tick := 0; time.Since(start) < soak; tick++ {
			if tick%20 == 19 { // an edit, then Ctrl+B
				builds++
				os.WriteFile(filepath.Join(project, "index.html"), []byte(strconv.Itoa(builds)+"\n"), 0o644)
				a.click(300, 700) // the focus off any entry
				a.key("ctrl+b")
			}
			a.key(fmt.Sprintf("ctrl+%d", tick%6+1))
			if tick%3 == 0 {
				a.click(200, 176)
			}
			if first == 0 && time.Since(start) > time.Minute {
				first = rssKB(a.pid)
			}
			time.Sleep(time.Until(start.Add(time.Duration(tick+1) * time.Second)))
		}
		last = rssKB(a.pid)
	}
	b.StopTimer()
	if list, err := a.c.List(ctx); err != nil || builds > 0 && len(list) < 2 {
		b.Fatalf("the builds made no image (%d images, %v)", len(list), err)
	}
	b.ReportMetric(float64(first)/1024, "MB-RSS-at-1min")
	b.ReportMetric(float64(last)/1024, "MB-RSS-at-end")
	b.ReportMetric(float64(last-first)/1024, "MB-growth")
	b.ReportMetric(float64(builds), "builds")
}
