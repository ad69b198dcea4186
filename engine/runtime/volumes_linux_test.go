package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A folder bound onto a volume's _data within one file system (same
// device number) is seen as mounted, comes off, and keeps its files when
// the volume is deleted.
func TestBoundVolumeFolderSurvivesDelete(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("binding a folder needs root (CI is root)")
	}
	root := t.TempDir()
	rt := &Runtime{volumes: filepath.Join(root, "volumes")}
	host := filepath.Join(root, "mine")
	os.MkdirAll(host, 0o755)
	os.WriteFile(filepath.Join(host, "keep"), []byte("mine"), 0o644)
	data, err := rt.ensureVolumeWith("bound", false, nil, map[string]string{"type": "none", "o": "bind", "device": host})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(data, unix.MNT_DETACH)
	if !isMountPoint(data) {
		t.Fatal("the bound folder is not seen as mounted on _data")
	}
	if isMountPoint(host) {
		t.Error("a plain folder is seen as a mount point")
	}
	if err := rt.deleteVolume("bound"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(host, "keep")); err != nil || string(b) != "mine" {
		t.Errorf("deleting the volume touched the bound folder: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(rt.volumes, "bound")); !os.IsNotExist(err) {
		t.Errorf("the volume's folder is still there: %v", err)
	}
}
