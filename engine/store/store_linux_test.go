package store

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

func TestUnpackWhiteoutsAndReplacement(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("overlayfs whiteouts are character devices: mknod needs root")
	}
	s := openStore(t)
	img := enginetest.LayerImage(t, func(tw *tar.Writer) {
		tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755})
		tw.WriteHeader(&tar.Header{Name: "etc/.wh.old.conf", Typeflag: tar.TypeReg})
		tw.WriteHeader(&tar.Header{Name: "var/cache/.wh..wh..opq", Typeflag: tar.TypeReg})
		tw.WriteHeader(&tar.Header{Name: "etc/app", Typeflag: tar.TypeSymlink, Linkname: "/nowhere"})
		tw.WriteHeader(&tar.Header{Name: "etc/app", Typeflag: tar.TypeReg, Mode: 0o600, Size: 2, Uid: 1000, Gid: 1000})
		tw.Write([]byte("ok"))
		tw.WriteHeader(&tar.Header{Name: "etc/app.link", Typeflag: tar.TypeLink, Linkname: "etc/app"})
	})
	id := mustPut(t, s, img, "wh")
	d, _ := s.Inspect(context.Background(), id)
	root := s.LayerPath(d.Layers[0])
	if fi, err := os.Lstat(filepath.Join(root, "etc/old.conf")); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("whiteout is not a character device: %v %v", fi, err)
	}
	buf := make([]byte, 8)
	if n, err := getxattr(filepath.Join(root, "var/cache"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr = %q, %v", buf[:n], err)
	}
	fi, err := os.Lstat(filepath.Join(root, "etc/app"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("etc/app = %v, %v; want a regular 0600 file replacing the symlink", fi, err)
	}
	if uid, gid := owner(fi); uid != 1000 || gid != 1000 {
		t.Errorf("etc/app owner = %d:%d", uid, gid)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc/app.link")); string(data) != "ok" {
		t.Errorf("hard link reads %q", data)
	}
}

func TestPutOnFullDiskKeepsStoreConsistent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	small := mustPut(t, s, randomImage(t, 1), "small")
	big, err := random.Image(4<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(context.Background(), big, PutOptions{Names: []string{"big"}})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("no space left")) {
		t.Fatalf("Put on full disk: %v, want no space left", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(entries) != 0 {
		t.Errorf("tmp/ keeps %d entries after the failed write", len(entries))
	}
	list, _ := s.List(context.Background())
	if len(list) != 1 || list[0].ID != small {
		t.Errorf("List after failed write = %+v", list)
	}
	if _, err := s.Inspect(context.Background(), "big"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("half-written image is visible: %v", err)
	}
}
