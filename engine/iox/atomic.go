package iox

import (
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data next to nothing visible: a temporary file in
// tmpDir (on path's file system), synced, then renamed over path, and the
// directory synced, so that a crash leaves the old file or the new one.
func WriteFileAtomic(path string, data []byte, tmpDir string) error {
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
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
