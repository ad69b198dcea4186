package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// engineWithImage serves the Docker Engine API on a unix socket over a real
// store holding "wasteful": busybox plus a 300 KB cache written by one
// layer and deleted by the next.
func engineWithImage(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the store unpacks layers with their owners and whiteouts: needs root")
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	layer := func(files map[string]int) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for name, size := range files {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(size)})
			tw.Write(bytes.Repeat([]byte{'c'}, size))
		}
		tw.Close()
		return buf.Bytes()
	}
	img := enginetest.Busybox(t)
	for i, data := range [][]byte{
		layer(map[string]int{"var/cache/apt/archives/big.deb": 300_000}),
		layer(map[string]int{"var/cache/apt/archives/.wh.big.deb": 0, "app/run.sh": 20}),
	} {
		l, err := tarball.LayerFromReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		step := []string{"RUN apt-get install -y thing", "RUN rm -rf /var/cache/apt/archives/*.deb"}[i]
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: configHistory(step)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Put(context.Background(), img, store.PutOptions{Names: []string{"wasteful:latest"}}); err != nil {
		t.Fatal(err)
	}
	return enginetest.ServeUnix(t, api.NewHandler(api.Backend{Images: st, Archives: st, Events: events.NewLog(0)}, api.Info{Version: "test"}))
}

func run(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = layersCommand(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestBerthLayers(t *testing.T) {
	host := engineWithImage(t)
	out, errOut, code := run("-H", host, "wasteful")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"RUN apt-get install -y thing", "RUN rm -rf /var/cache/apt/archives/*.deb",
		"300000  /var/cache/apt/archives/big.deb  (layers 1,2)",
		"tip: 300000 bytes in 1 paths (mostly under /var/cache) written by layer 1",
		"clean the apt cache in the same RUN",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// --ci fails below the threshold, as dive --ci does.
	if _, errOut, code := run("-H", host, "--ci", "--lowest-efficiency", "0.95", "wasteful"); code != 1 || !strings.Contains(errOut, "below 0.9500") {
		t.Errorf("--ci below threshold: exit %d, %q", code, errOut)
	}
	if _, _, code := run("-H", host, "--ci", "--lowest-efficiency", "0.1", "wasteful"); code != 0 {
		t.Errorf("--ci above threshold: exit %d", code)
	}
	// JSON carries the same numbers.
	out, _, _ = run("-H", host, "--json", "wasteful")
	var js struct {
		Layers      []struct{ CreatedBy string }
		WastedBytes int64
		Efficiency  float64
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || len(js.Layers) != 3 || js.WastedBytes != 300_000 {
		t.Errorf("--json = %+v, %v\n%s", js, err, out)
	}
	// An exported archive gives the same analysis without an engine.
	c, _ := client.New(host)
	archive := filepath.Join(t.TempDir(), "wasteful.tar")
	f, _ := os.Create(archive)
	if err := c.Save(context.Background(), []string{"wasteful"}, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fromEngine, _, _ := run("-H", host, "wasteful")
	if fromTar, errOut, code := run("--tar", archive); code != 0 || fromTar != fromEngine {
		t.Errorf("--tar: exit %d %s\n--- tar\n%s\n--- engine\n%s", code, errOut, fromTar, fromEngine)
	}

	// Errors a person can act on.
	if _, errOut, code := run("-H", host, "nothing-here"); code != 2 || !strings.Contains(errOut, "Check the name and tag") || strings.Contains(errOut, "corrupt") {
		t.Errorf("unknown image: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run("-H", "unix:///nonexistent/berth.sock", "wasteful"); code != 2 || !strings.Contains(errOut, "Is the engine running?") {
		t.Errorf("engine down: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run("--tar", "/nonexistent.tar"); code != 2 || errOut == "" {
		t.Errorf("missing tarball: exit %d, %q", code, errOut)
	}
}
