package store

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// saved is a docker save archive of a random image named name.
func saved(t testing.TB, name string) []byte {
	t.Helper()
	s := openStore(t)
	mustPut(t, s, randomImage(t, 2), name)
	var b bytes.Buffer
	if err := s.Save(context.Background(), []string{name}, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// docker load takes an archive compressed with gzip, bzip2, xz or zstd,
// as docker does.
func TestLoadCompressedArchives(t *testing.T) {
	plain := saved(t, "example/app:v1")
	for name, compress := range map[string]func(io.Writer) io.WriteCloser{
		"gzip": func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		"xz":   func(w io.Writer) io.WriteCloser { zw, _ := xz.NewWriter(w); return zw },
		"zstd": func(w io.Writer) io.WriteCloser { zw, _ := zstd.NewWriter(w); return zw },
	} {
		var b bytes.Buffer
		zw := compress(&b)
		zw.Write(plain)
		zw.Close()
		if loaded, err := openStore(t).Load(context.Background(), &b, nil); err != nil || len(loaded) != 1 {
			t.Errorf("%s archive: %v %v", name, loaded, err)
		}
	}
}

// An archive whose links run in a long chain is refused at once (it cost
// ~50 s of CPU and 2,000 open files in go-containerregistry), and one
// whose manifest disagrees with its config loads nothing.
func TestLoadRefusesCraftedArchives(t *testing.T) {
	var chain bytes.Buffer
	tw := tar.NewWriter(&chain)
	manifest, _ := json.Marshal([]map[string]any{{"Config": "l0", "RepoTags": []string{"x:1"}, "Layers": []string{"l0"}}})
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(manifest))})
	tw.Write(manifest)
	for i := 0; i < 2000; i++ {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("l%d", i), Typeflag: tar.TypeSymlink, Linkname: fmt.Sprintf("l%d", i+1)})
	}
	tw.WriteHeader(&tar.Header{Name: "l2000", Mode: 0o644, Size: 2})
	tw.Write([]byte("{}"))
	tw.Close()
	start := time.Now()
	if _, err := openStore(t).Load(context.Background(), &chain, nil); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("a 2,000-link chain: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Logf("refusing the chain took %v", d) // a figure, not an assertion
	}

	// The manifest names one layer, the config two diff IDs.
	var tb bytes.Buffer
	tr := tar.NewReader(bytes.NewReader(saved(t, "example/two:v1")))
	tw = tar.NewWriter(&tb)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		data, _ := io.ReadAll(tr)
		if hdr.Name == "manifest.json" {
			var m []map[string]any
			json.Unmarshal(data, &m)
			m[0]["Layers"] = m[0]["Layers"].([]any)[:1]
			data, _ = json.Marshal(m)
			hdr.Size = int64(len(data))
		}
		tw.WriteHeader(hdr)
		tw.Write(data)
	}
	tw.Close()
	s := openStore(t)
	if _, err := s.Load(context.Background(), &tb, nil); err == nil || !errors.Is(err, engine.ErrInvalidArgument) {
		t.Errorf("a manifest that disagrees with its config: %v", err)
	}
	if list, _ := s.List(context.Background()); len(list) != 0 {
		t.Errorf("it loaded %+v", list)
	}
}

// FuzzLoad feeds docker load any bytes, seeded with a real archive: it
// either loads images that can be read back whole or refuses and keeps
// nothing.
func FuzzLoad(f *testing.F) {
	f.Add(saved(f, "example/fuzz:v1"))
	f.Add([]byte{})
	f.Add([]byte("\x1f\x8b\x08"))
	f.Fuzz(func(t *testing.T, archive []byte) {
		s := openStore(t)
		loaded, err := s.Load(context.Background(), bytes.NewReader(archive), nil)
		list, lerr := s.List(context.Background())
		if lerr != nil {
			t.Fatal(lerr)
		}
		if err != nil && len(loaded) == 0 && len(list) != 0 {
			t.Fatalf("a refused archive left %d images", len(list))
		}
		for _, img := range list {
			if _, err := s.Inspect(context.Background(), img.ID); err != nil {
				t.Fatalf("loaded image %s cannot be inspected: %v", img.ID, err)
			}
		}
		if entries, _ := os.ReadDir(filepath.Join(s.Root(), "tmp")); len(entries) != 0 {
			t.Fatalf("tmp/ keeps %d entries", len(entries))
		}
	})
}
