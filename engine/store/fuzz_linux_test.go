package store

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// tarOf builds a layer from headers; a header with a Size gets that many
// bytes of content.
func tarOf(hdrs ...tar.Header) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hdrs {
		tw.WriteHeader(&h)
		tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
	}
	tw.Close()
	return b.Bytes()
}

// FuzzUnpack feeds the store's layer unpacker any bytes, seeded with the
// escapes layers try: whatever it does with them, nothing beside the
// layer's directory changes.
func FuzzUnpack(f *testing.F) {
	f.Add(tarOf(tar.Header{Name: "../outside/planted", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644}))
	f.Add(tarOf(
		tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../outside"},
		tar.Header{Name: "up/planted", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644}))
	f.Add(tarOf(
		tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../outside"},
		tar.Header{Name: "up/", Typeflag: tar.TypeDir, Mode: 0o777}))
	f.Add(tarOf(tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "../outside/secret"}))
	f.Add(tarOf(
		tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "d/l", Typeflag: tar.TypeSymlink, Linkname: "/"},
		tar.Header{Name: "d/l/../../outside/secret", Typeflag: tar.TypeReg, Size: 3}))
	f.Add(tarOf(
		tar.Header{Name: "a/.wh..wh..opq", Typeflag: tar.TypeReg},
		tar.Header{Name: ".wh.b", Typeflag: tar.TypeReg},
		tar.Header{Name: "c", Typeflag: tar.TypeChar}))
	f.Fuzz(func(t *testing.T, layer []byte) {
		base := t.TempDir()
		dir, outside := filepath.Join(base, "layer"), filepath.Join(base, "outside")
		for _, d := range []string{dir, outside} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		secret := filepath.Join(outside, "secret")
		if err := os.WriteFile(secret, []byte("kept"), 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			unpack(context.Background(), bytes.NewReader(layer), dir) // an error is fine; an escape or a hang is not
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("unpack hangs")
		}

		entries, _ := os.ReadDir(base)
		if len(entries) != 2 {
			t.Fatalf("the layer's parent holds %d entries, want layer and outside", len(entries))
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 1 {
			t.Fatalf("a file was planted beside the layer: %v", entries)
		}
		fi, err := os.Lstat(secret)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Fatalf("the file beside the layer changed: %v %v", fi, err)
		}
		if n := fi.Sys().(*syscall.Stat_t).Nlink; n != 1 {
			t.Fatalf("the file beside the layer got %d links", n)
		}
		if data, _ := os.ReadFile(secret); string(data) != "kept" {
			t.Fatalf("the file beside the layer now reads %q", data)
		}
	})
}
