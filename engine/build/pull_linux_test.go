package build

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/registry"
)

// FROM an image the store lacks pulls it from its registry; a registry
// that is down, or an image that does not exist, is a clear error.
func TestFromPullsMissingBaseImages(t *testing.T) {
	e := newEnv(t)
	reg := enginetest.StartRegistry(t)
	reg.Push(t, enginetest.Busybox(t), "team/base:1")
	e.builder.pull = registry.New(e.store)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM " + reg.Host + "/team/base:1\nRUN echo pulled > /p.txt\n"})
	res, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: dir})
	if got, _ := e.readFile(t, res.ImageID, "/p.txt"); got != "pulled\n" {
		t.Fatalf("p.txt = %q", got)
	}
	var pulled bool
	for _, ev := range rec.events {
		pulled = pulled || ev.Kind == engine.BuildMessage && strings.HasPrefix(ev.Output, "Pulling "+reg.Host)
	}
	if !pulled {
		t.Fatal("no pull reported")
	}
	if _, _, err := e.store.Resolve(reg.Host + "/team/base:1"); err != nil {
		t.Fatalf("the base image is not in the store after the build: %v", err)
	}

	dir = writeContext(t, map[string]string{"Dockerfile": "FROM " + reg.Host + "/team/missing:1\n"})
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir}); !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "Dockerfile:1: FROM "+reg.Host+"/team/missing:1: pull base image") {
		t.Fatalf("missing base: %v", err)
	}
	dir = writeContext(t, map[string]string{"Dockerfile": "FROM Not_A/Valid:Name:x\n"})
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir}); !errors.Is(err, engine.ErrInvalidReference) {
		t.Fatalf("bad base name: %v", err)
	}
	// --pull with the registry gone: the stored base is used, with a warning.
	reg.Close()
	dir = writeContext(t, map[string]string{"Dockerfile": "FROM " + reg.Host + "/team/base:1\n"})
	_, rec, err := e.build(t, engine.BuildOptions{ContextDir: dir, Pull: true})
	if err != nil || !strings.Contains(rec.output(), "could not pull") {
		t.Fatalf("--pull with the registry down: %v %q", err, rec.output())
	}
	dir = writeContext(t, map[string]string{"Dockerfile": "FROM " + reg.Host + "/team/other:1\n"})
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir}); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("registry down: %v", err)
	}
}

func TestFromPlatform(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM --platform=$BUILDPLATFORM busybox AS build\nARG TARGETOS\nRUN echo $TARGETOS > /os.txt\nFROM --platform=" + hostPlatform() + " build\n"})
	res, _ := e.mustBuild(t, engine.BuildOptions{ContextDir: dir})
	if got, _ := e.readFile(t, res.ImageID, "/os.txt"); got != "linux\n" {
		t.Fatalf("os.txt = %q", got)
	}
	// Another CPU's base is that CPU's image, never the host's of the name.
	dir = writeContext(t, map[string]string{"Dockerfile": "FROM --platform=linux/s390x busybox\n"})
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir}); !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "busybox for linux/s390x is not in the store") {
		t.Fatalf("foreign platform: %v", err)
	}
	// RUN steps for a CPU QEMU cannot emulate are refused before anything.
	dir = writeContext(t, map[string]string{"Dockerfile": "FROM --platform=linux/sparc64 busybox\nRUN true\n"})
	if _, _, err := e.build(t, engine.BuildOptions{ContextDir: dir}); !errors.Is(err, engine.ErrNotSupported) || !strings.Contains(err.Error(), "cannot emulate linux/sparc64") {
		t.Fatalf("a CPU without emulation: %v", err)
	}
}
