package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine/enginetest"
)

// The welcome tour's first image needs no registry: the starter project
// builds from scratch and this computer's busybox, and runs a web server.
func TestStarterBuildsAndRunsOffline(t *testing.T) {
	e := apptest.Start(t) // a registry is there, but nothing is pulled from it
	ctx := context.Background()
	dir, err := app.WriteStarterSample(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ed := app.NewEditor("")
	if err := ed.Open(dir); err != nil {
		t.Fatal(err)
	}
	if res := ed.AnalyzeNow(); res.HasErrors() {
		t.Fatalf("the starter's Dockerfile has errors: %+v", res.Diagnostics)
	}
	log := &app.BuildLog{}
	if _, err := log.Build(ctx, e.Core.Engine.Builder, ed, app.BuildRequest{Tag: app.StarterTag}); err != nil {
		t.Fatal(err)
	}
	port := enginetest.FreePort(t)
	spec, err := app.ParseRunOptions(app.RunOptions{Image: app.StarterTag, Name: "starter", Ports: fmt.Sprintf("127.0.0.1:%d:8080", port)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.Core.Engine.Containers.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Core.Engine.Containers.Remove(ctx, id, true, false)
	if err := e.Core.Engine.Containers.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, "the page", func() bool { return len(get(fmt.Sprintf("http://127.0.0.1:%d/", port))) > 0 })
	if body := get(fmt.Sprintf("http://127.0.0.1:%d/", port)); body == "" || !strings.Contains(body, "Hello from Berth") {
		t.Errorf("served %q", body)
	}
}
