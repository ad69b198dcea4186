package store

import (
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

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
