package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/registry"
	"github.com/berth-dev/berth/engine/runtime"
	"github.com/berth-dev/berth/engine/store"
)

// serveEngine runs the whole API (store, registry, runtime) on a socket.
func serveEngine(t *testing.T) (*Client, *enginetest.Registry) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("containers need root")
	}
	data := t.TempDir()
	evlog := events.NewLog(0)
	st, err := store.Open(filepath.Join(data, "images"), store.WithEvents(evlog.Publish))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := registry.New(st, registry.WithEvents(evlog.Publish))
	rt, err := runtime.New(data, st, runtime.WithRunDir(t.TempDir()), runtime.WithEvents(evlog.Publish),
		runtime.WithBridge(fmt.Sprintf("brk%d", os.Getpid()%100000), fmt.Sprintf("10.%d.2.1/24", 220+os.Getpid()%30), false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		list, _ := rt.List(context.Background(), true)
		for _, c := range list {
			rt.Remove(context.Background(), c.ID, true, true)
		}
		rt.Close()
		rt.RemoveBridge()
	})
	host := enginetest.ServeUnix(t, api.NewHandler(api.Backend{Images: st, Registry: reg, Archives: st, Events: evlog,
		Containers: rt, ContainerViews: rt, ContainerControls: rt, ContainerIO: rt}, api.Info{Version: "test"}))
	c, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	r := enginetest.StartRegistry(t)
	r.Push(t, enginetest.Busybox(t), "library/busybox:1.36")
	return c, r
}

func TestClientDrivesImagesRegistryAndEvents(t *testing.T) {
	c, reg := serveEngine(t)
	ctx := context.Background()
	evs := c.Subscribe(ctx, engine.EventFilter{Types: []string{"image"}})

	var layers int
	ref := reg.Host + "/library/busybox:1.36"
	id, err := c.Pull(ctx, ref, nil, func(p engine.Progress) {
		if p.Status == engine.ProgressPullComplete {
			layers++
		}
	})
	if err != nil || !strings.HasPrefix(id, "sha256:") || layers != 1 {
		t.Fatalf("pull: id %q, %d layers complete, %v", id, layers, err)
	}
	for pulled := false; !pulled; {
		select {
		case e := <-evs:
			pulled = e.Action == "pull" && e.ID == ref
		case <-time.After(5 * time.Second):
			t.Fatal("no pull event")
		}
	}
	if _, err := c.Pull(ctx, reg.Host+"/library/nope:1", nil, nil); !errors.Is(err, engine.ErrNotFound) || strings.Count(err.Error(), "pull ") != 1 {
		t.Fatalf("pull of a missing image: %v (it should say pull once)", err)
	}
	if err := c.Tag(ctx, ref, "mine/bb:v1"); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 1 || len(list[0].RepoTags) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	d, err := c.Inspect(ctx, "mine/bb:v1")
	if err != nil || d.ID != id || len(d.Layers) != 1 || !equalStrings(d.Config.Cmd, []string{"sh"}) || d.Architecture == "" {
		t.Fatalf("inspect: %+v %v", d, err)
	}
	if _, err := c.Inspect(ctx, "missing"); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("inspect missing: %v", err)
	}
	h, err := c.History(ctx, id)
	if err != nil || len(h) != 2 || h[0].ID != id {
		t.Fatalf("history: %+v %v", h, err)
	}
	tags, err := c.Tags(ctx, reg.Host+"/library/busybox", nil)
	if err != nil || !equalStrings(tags, []string{"1.36"}) {
		t.Fatalf("tags: %v %v", tags, err)
	}
	res, err := c.Search(ctx, reg.Host+"/busy", 10, nil)
	if err != nil || len(res) != 1 || res[0].Name != reg.Host+"/library/busybox" {
		t.Fatalf("search: %+v %v", res, err)
	}
	if err := c.Tag(ctx, id, reg.Host+"/team/bb:2"); err != nil {
		t.Fatal(err)
	}
	digest, err := c.Push(ctx, reg.Host+"/team/bb:2", nil, nil)
	if err != nil || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("push: %q %v", digest, err)
	}
	// Login: the engine asks the registry (which now wants an account).
	reg.RequireLogin(enginetest.Login{User: "me", Password: "s3cret", Bearer: true})
	if err := c.Login(ctx, &engine.AuthConfig{Username: "me", Password: "s3cret", ServerAddress: reg.Host}); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := c.Login(ctx, &engine.AuthConfig{Username: "me", Password: "wrong", ServerAddress: reg.Host}); !errors.Is(err, engine.ErrUnauthorized) {
		t.Fatalf("login with a wrong password: %v", err)
	}
	del, err := c.Remove(ctx, "mine/bb:v1", false)
	if err != nil || len(del) != 1 || del[0].Untagged != "mine/bb:v1" {
		t.Fatalf("remove: %+v %v", del, err)
	}
	if _, err := c.Prune(ctx, true); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.List(ctx); len(list) != 0 {
		t.Fatalf("after prune -a: %+v", list)
	}
}

func TestClientDrivesContainers(t *testing.T) {
	c, reg := serveEngine(t)
	ctx := context.Background()
	ref := reg.Host + "/library/busybox:1.36"
	if _, err := c.Pull(ctx, ref, nil, nil); err != nil {
		t.Fatal(err)
	}
	cc := c.Containers()
	id, err := cc.Create(ctx, engine.ContainerSpec{Name: "web", Image: ref, Env: []string{"MSG=hello"},
		Cmd:   []string{"sh", "-c", "echo $MSG; echo oops >&2; mkdir /www; echo served > /www/index.html; exec httpd -f -p 8080 -h /www"},
		Ports: []engine.PortBinding{{HostIP: "127.0.0.1", ContainerPort: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	got, err := cc.Inspect(ctx, id)
	if err != nil || got.Name != "web" || got.State.Status != engine.StatusRunning || len(got.Ports) != 1 || got.Ports[0].HostPort == 0 || got.IPAddress == "" {
		t.Fatalf("inspect: %+v %v", got, err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", got.Ports[0].HostPort)
	var body string
	for i := 0; i < 100 && body == ""; i++ {
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
		} else {
			time.Sleep(30 * time.Millisecond)
		}
	}
	if body != "served\n" {
		t.Fatalf("GET %s = %q", url, body)
	}
	list, err := cc.List(ctx, false)
	if err != nil || len(list) != 1 || list[0].Name != "web" || len(list[0].Ports) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	var out, errs string
	err = cc.Logs(ctx, "web", engine.LogOptions{Stdout: true, Stderr: true, Tail: -1}, func(e engine.LogEntry) error {
		if e.Stream == "stderr" {
			errs += string(e.Data)
		} else {
			out += string(e.Data)
		}
		if e.Time.IsZero() {
			t.Errorf("log entry without a time: %+v", e)
		}
		return nil
	})
	if err != nil || out != "hello\n" || errs != "oops\n" {
		t.Fatalf("logs: %q %q %v", out, errs, err)
	}
	if s, err := cc.Stats(ctx, "web"); err != nil || s.MemoryUsage == 0 {
		t.Fatalf("stats: %+v %v", s, err)
	}
	zero := time.Duration(0)
	if err := cc.Restart(ctx, "web", &zero); err != nil {
		t.Fatal(err)
	}
	if err := cc.Stop(ctx, "web", &zero); err != nil {
		t.Fatal(err)
	}
	if got, _ := cc.Inspect(ctx, "web"); got.State.Status != engine.StatusExited {
		t.Fatalf("after stop: %s", got.State.Status)
	}
	if err := cc.Remove(ctx, "web", false, true); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Inspect(ctx, "web"); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("after remove: %v", err)
	}
}

func equalStrings(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }
