package buildcontext

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/engine"
)

// An uploaded build context cannot write outside its directory: ".."
// names are clamped, and a symlink it plants is not written through.
func TestExtractContextStaysInside(t *testing.T) {
	outside := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		h.Mode = 0o644
		tw.WriteHeader(h)
		tw.Write([]byte(body))
	}
	add(&tar.Header{Name: "Dockerfile"}, "FROM busybox\n")
	add(&tar.Header{Name: "../../escape.txt"}, "escaped")
	add(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside}, "")
	add(&tar.Header{Name: "link/through.txt"}, "through")
	add(&tar.Header{Name: "src/app.py"}, "print(1)\n")
	tw.Close()

	dir := t.TempDir()
	if err := Unpack(&buf, dir); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "src/app.py")); string(data) != "print(1)\n" {
		t.Fatalf("app.py = %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "escape.txt")); string(data) != "escaped" {
		t.Fatalf("a '..' name was not kept inside: %q", data)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("the context wrote outside its directory: %v", entries)
	}
	if err := Unpack(bytes.NewReader([]byte("not a tar archive at all, just text that goes on for a while ........................................................................................................................................................................................................................................................................................................................................................................................................................................................................................")), t.TempDir()); !errors.Is(err, engine.ErrInvalidArgument) {
		t.Fatalf("junk upload: %v", err)
	}
}
