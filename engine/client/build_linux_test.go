package client

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/build"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/runtime"
	"github.com/berth-dev/berth/engine/store"
	"golang.org/x/sys/unix"

	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// The test binary is also the container init for RUN steps.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init()
	}
}

// serveBuilder runs the real API with a store, runtime and builder.
func serveBuilder(t *testing.T) *Client {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("builds need root: RUN steps are containers")
	}
	data := t.TempDir()
	var b *build.Builder
	st, err := store.Open(filepath.Join(data, "images"), store.WithRoots(func() []string {
		if b == nil {
			return nil
		}
		return b.CacheRoots()
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Put(context.Background(), enginetest.Busybox(t), store.PutOptions{Names: []string{"busybox"}}); err != nil {
		t.Fatal(err)
	}
	rt, err := runtime.New(data, st, runtime.WithRunDir(t.TempDir()), runtime.WithBridge(fmt.Sprintf("brc%d", os.Getpid()%100000), fmt.Sprintf("10.%d.1.1/24", 220+os.Getpid()%30), false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(); rt.RemoveBridge() })
	b, err = build.New(filepath.Join(data, "build"), st, nil, rt)
	if err != nil {
		t.Fatal(err)
	}
	host := enginetest.ServeUnix(t, api.NewHandler(api.Backend{Images: st, Archives: st, Events: events.NewLog(0), Builder: b, BuildContextDir: b.ContextDir}, api.Info{Version: "test"}))
	c, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildThroughTheAPI(t *testing.T) {
	c := serveBuilder(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nCOPY hello.txt /\nRUN echo built; cat /hello.txt > /copy.txt\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644)
	var events []engine.BuildEvent
	res, err := c.Build(context.Background(), engine.BuildOptions{ContextDir: dir, Tags: []string{"api-built"}}, func(ev engine.BuildEvent) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ImageID, "sha256:") {
		t.Fatalf("result %+v", res)
	}
	var steps []string
	var output string
	for _, ev := range events {
		switch ev.Kind {
		case engine.BuildStepDone, engine.BuildStepCached:
			steps = append(steps, fmt.Sprintf("%d/%d %s line %d size %d", ev.Step, ev.Steps, ev.Kind, ev.Line, ev.LayerSize))
			if ev.Duration <= 0 {
				t.Errorf("step %d has no duration", ev.Step)
			}
		case engine.BuildStepOutput:
			output += ev.Output
		}
	}
	want := []string{"1/3 done line 1 size 0", "2/3 done line 2 size 6", "3/3 done line 3 size 6"}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") || output != "built\n" {
		t.Fatalf("steps:\n%s\noutput %q", strings.Join(steps, "\n"), output)
	}

	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN echo oops >&2; exit 3\n"), 0o644)
	_, err = c.Build(context.Background(), engine.BuildOptions{ContextDir: dir}, nil)
	var se *engine.BuildStepError
	if !errors.As(err, &se) || se.ExitCode != 3 || se.Line != 2 || se.Command != "/bin/sh -c echo oops >&2; exit 3" {
		t.Fatalf("failed build: %v (%+v)", err, se)
	}
	if rep, err := c.PruneCache(context.Background(), true); err != nil || len(rep.Deleted) == 0 {
		t.Fatalf("prune: %+v %v", rep, err)
	}
}

func tarNames(t *testing.T, r io.ReadCloser) []string {
	t.Helper()
	defer r.Close()
	var names []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	sort.Strings(names)
	return names
}

func TestContextTarFollowsDockerignore(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"Dockerfile": "FROM busybox\n", ".dockerignore": "Dockerfile\nnode_modules\n*.log\n!keep.log\n",
		"app.js": "x", "node_modules/dep/index.js": "x", "debug.log": "x", "keep.log": "x",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd-link"))
	r, err := ContextTar(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tarNames(t, r), " ")
	if got != ".dockerignore Dockerfile app.js keep.log passwd-link" {
		t.Fatalf("context holds %q", got)
	}
}

// A file the user cannot read fails the build before anything is sent,
// naming the file, as the docker CLI does. The check runs with the file
// system identity of an unprivileged user (setfsuid is per thread).
func TestContextTarRefusesUnreadableFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to take another user's file system identity")
	}
	dir, err := os.MkdirTemp("", "berth-ctx-") // t.TempDir's parent is private to root
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.key"), []byte("x"), 0o600)
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread() // the thread ends with the goroutine, identity and all
		unix.Setfsuid(65534)
		unix.Setfsgid(65534)
		r, err := ContextTar(dir, "Dockerfile")
		if err == nil {
			r.Close()
		}
		errc <- err
	}()
	err = <-errc
	if err == nil || !strings.Contains(err.Error(), "no permission to read from '"+filepath.Join(dir, "secret.key")+"'") {
		t.Fatalf("unreadable file: %v", err)
	}
	// Excluded by .dockerignore, it is not read and not an error.
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("*.key\n"), 0o644)
	go func() {
		goruntime.LockOSThread()
		unix.Setfsuid(65534)
		unix.Setfsgid(65534)
		r, err := ContextTar(dir, "Dockerfile")
		if err == nil {
			r.Close()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatalf("excluded unreadable file: %v", err)
	}
}
