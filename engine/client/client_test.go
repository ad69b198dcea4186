package client

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// serve runs the real API over a store on a unix socket.
func serve(t *testing.T) (*Client, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	host := enginetest.ServeUnix(t, api.NewHandler(api.Backend{Images: st, Archives: st, Events: events.NewLog(0)}, api.Info{Version: "test"}))
	c, err := New(host)
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

func TestSaveLoadRoundTrip(t *testing.T) {
	src, st := serve(t)
	img, _ := random.Image(4096, 2)
	want, err := st.Put(context.Background(), img, store.PutOptions{Names: []string{"app:v1"}})
	if err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := src.Save(context.Background(), []string{"app:v1"}, &archive); err != nil {
		t.Fatal(err)
	}
	dst, dstStore := serve(t)
	loaded, err := dst.Load(context.Background(), &archive, nil)
	if err != nil || len(loaded) != 1 || loaded[0] != "app:v1" {
		t.Fatalf("Load = %v, %v", loaded, err)
	}
	if id, _, err := dstStore.Resolve("app:v1"); err != nil || id != want {
		t.Errorf("loaded image %s, %v; want %s", id, err, want)
	}
	if err := src.Save(context.Background(), []string{"nothing"}, &bytes.Buffer{}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Save of a missing image: %v, want ErrNotFound", err)
	}
	if _, err := dst.Load(context.Background(), bytes.NewReader([]byte("junk")), nil); err == nil {
		t.Error("Load of junk gave no error")
	}
}

func TestAddresses(t *testing.T) {
	for _, bad := range []string{"", "/run/berth.sock", "ftp://x", "unix://"} {
		if _, err := New(bad); !errors.Is(err, engine.ErrInvalidArgument) {
			t.Errorf("New(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
	c, _ := New("unix:///nonexistent/berth.sock")
	if err := c.Save(context.Background(), []string{"x"}, &bytes.Buffer{}); !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("Save to a missing socket: %v, want ErrUnavailable", err)
	}
}

func TestExitCodeIn(t *testing.T) {
	for status, want := range map[string]int{
		"Exited (137) 5 seconds ago":        137,
		"Exited (0) Less than a second ago": 0,
		"Exited (2) 3 hours ago":            2,
		"Up 2 minutes":                      0,
		"Created":                           0,
		"":                                  0,
	} {
		if got := exitCodeIn(status); got != want {
			t.Errorf("exitCodeIn(%q) = %d, want %d", status, got, want)
		}
	}
}
