package store

import (
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// writeFileAtomic writes data next to nothing visible: a temporary file in
// tmpDir, synced, then renamed over path, and the directory synced.
func writeFileAtomic(path string, data []byte, tmpDir string) error {
	f, err := os.CreateTemp(tmpDir, filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeAll removes a tree, first making directories writable so that a
// layer with read-only directories does not stop it.
func removeAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil {
		return nil
	}
	_ = filepath.Walk(path, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}

func typesMediaType(s string) types.MediaType { return types.MediaType(s) }
