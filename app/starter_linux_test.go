package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/starter"
	"github.com/berth-dev/berth/engine/vm"
)

// The welcome tour's first image needs no registry: the starter project
// builds from scratch and a static busybox, and runs a web server. The
// busybox is this computer's, or, where the engine runs in Berth's VM (on
// a Mac or Windows), the one in the VM's image; here a stand-in image
// holds this computer's.
func TestStarterBuildsAndRunsOffline(t *testing.T) {
	bb, err := starter.FindBusybox()
	if err != nil {
		t.Skipf("no static busybox here (packaging/dev/setup.sh test installs busybox-static): %v", err)
	}
	bin, _ := os.ReadFile(bb)
	image := t.TempDir()
	var cpio bytes.Buffer
	vm.WriteCpio(&cpio, map[string]vm.CpioFile{"bin/busybox": {Data: bin, Mode: 0o755}})
	os.WriteFile(filepath.Join(image, "initramfs.cpio"), cpio.Bytes(), 0o644)
	os.WriteFile(filepath.Join(image, "vmlinux"), nil, 0o644)
	t.Setenv("BERTH_VM_IMAGE", image)
	e := apptest.Start(t) // a registry is there, but nothing is pulled from it
	for _, inVM := range []bool{false, true} {
		t.Run(map[bool]string{false: "this computer's busybox", true: "the VM image's busybox"}[inVM], func(t *testing.T) {
			starterRunsOffline(t, e, inVM)
		})
	}
}

func starterRunsOffline(t *testing.T, e *apptest.Engine, inVM bool) {
	ctx := context.Background()
	dir, err := app.WriteStarterSample(ctx, t.TempDir(), inVM)
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
	defer e.Core.Engine.Images.Remove(ctx, app.StarterTag, true)
	if err := e.Core.Engine.Containers.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	apptest.WaitFor(t, "the page", func() bool { return len(get(fmt.Sprintf("http://127.0.0.1:%d/", port))) > 0 })
	if body := get(fmt.Sprintf("http://127.0.0.1:%d/", port)); body == "" || !strings.Contains(body, "Hello from Berth") {
		t.Errorf("served %q", body)
	}
}
