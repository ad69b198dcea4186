package vm

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultStateDir is where the VM's disk (the user's images and
// containers), keys and console log live unless the settings name
// another folder. It is a data directory, never a cache that a cleaner
// may empty (stateDir, per system). A state folder left in the cache by
// earlier builds moves there.
func DefaultStateDir() (string, error) {
	dir, err := stateDir()
	if err != nil {
		return "", fmt.Errorf("the VM's folder: %w", err)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		old := filepath.Join(cache, "berth", "vm-state")
		if fileExists(filepath.Join(old, "data.img")) && !fileExists(dir) {
			os.MkdirAll(filepath.Dir(dir), 0o700)
			if os.Rename(old, dir) != nil {
				return old, nil // another filesystem: keep using it rather than copy gigabytes
			}
		}
	}
	return dir, nil
}
