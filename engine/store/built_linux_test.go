package store

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine/enginetest"
	"golang.org/x/sys/unix"
)

// A layer made from a directory in unpacked form (as an overlayfs upper
// directory is) packs to a tar with Docker's whiteouts, and the image made
// from it reads back through go-containerregistry.
func TestAddLayerAndCommit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts are character devices and the opaque mark a trusted xattr: root only")
	}
	s := openStore(t)
	ctx := context.Background()
	base, err := s.Put(ctx, enginetest.Busybox(t), PutOptions{Names: []string{"busybox"}})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := s.TempDir("layer-")
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "app/cache"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "app/main.py"), []byte("print(1)\n"), 0o644))
	must(os.Link(filepath.Join(dir, "app/main.py"), filepath.Join(dir, "app/alias.py")))
	must(os.Symlink("main.py", filepath.Join(dir, "app/link.py")))
	must(unix.Mknod(filepath.Join(dir, "app/deleted.txt"), unix.S_IFCHR, 0))
	must(unix.Lsetxattr(filepath.Join(dir, "app/cache"), "trusted.overlay.opaque", []byte("y"), 0))
	must(unix.Lsetxattr(filepath.Join(dir, "app/main.py"), "user.note", []byte("kept"), 0))

	layer, ok, release, err := s.AddLayer(ctx, dir)
	if err != nil || !ok {
		t.Fatalf("AddLayer: %v ok=%v", err, ok)
	}
	defer release()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("the directory was not moved into the store")
	}
	if !s.HasLayer(layer) || layer.Unpacked != 9 {
		t.Fatalf("layer %+v present=%v", layer, s.HasLayer(layer))
	}

	cfg, layers, err := s.ConfigFile(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Config.Cmd = []string{"python", "/app/main.py"}
	id, err := s.Commit(ctx, *cfg, append(layers, layer), []string{"built:1"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Commit(ctx, *cfg, append(layers, layer), nil)
	if err != nil || again != id {
		t.Fatalf("the same config and layers gave %s, then %s (%v)", id, again, err)
	}
	img, err := s.Image("built:1")
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := img.Layers()
	if len(ls) != 2 {
		t.Fatalf("%d layers", len(ls))
	}
	diffID, _ := ls[1].DiffID()
	if diffID.String() != layer.DiffID {
		t.Fatalf("diff ID %s, want %s", diffID, layer.DiffID)
	}
	rc, err := ls[1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entry := hdr.Name
		switch hdr.Typeflag {
		case tar.TypeLink:
			entry += " link " + hdr.Linkname
		case tar.TypeSymlink:
			entry += " -> " + hdr.Linkname
		}
		if v, ok := hdr.PAXRecords["SCHILY.xattr.user.note"]; ok {
			entry += " xattr " + v
		}
		if _, ok := hdr.PAXRecords["SCHILY.xattr.trusted.overlay.opaque"]; ok {
			t.Errorf("overlayfs's own xattr leaked into the tar on %s", hdr.Name)
		}
		names = append(names, entry)
	}
	sort.Strings(names)
	want := []string{"app/", "app/.wh.deleted.txt", "app/alias.py xattr kept", "app/cache/", "app/cache/.wh..wh..opq", "app/link.py -> main.py", "app/main.py link app/alias.py xattr kept"}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tar entries:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	got, _ := img.ConfigFile()
	if got.Config.Cmd[0] != "python" || len(got.RootFS.DiffIDs) != 2 {
		t.Fatalf("config %+v", got.Config)
	}

	// An empty directory is no layer.
	empty, _ := s.TempDir("layer-")
	if _, ok, _, err := s.AddLayer(ctx, empty); ok || err != nil {
		t.Fatalf("empty directory: ok=%v err=%v", ok, err)
	}
	// A layer no image or root names goes at the next collection, once released.
	dir2, _ := s.TempDir("layer-")
	os.WriteFile(filepath.Join(dir2, "tmp.txt"), []byte("x"), 0o644)
	orphan, _, release2, err := s.AddLayer(ctx, dir2)
	if err != nil {
		t.Fatal(err)
	}
	s.Collect()
	if !s.HasLayer(orphan) {
		t.Fatal("a leased layer was collected")
	}
	release2()
	s.Collect()
	if s.HasLayer(orphan) {
		t.Fatal("an unreferenced layer survived collection")
	}
	if !s.HasLayer(layer) {
		t.Fatal("an image's layer was collected")
	}
}
