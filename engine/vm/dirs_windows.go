package vm

import (
	"os"
	"path/filepath"
)

// stateDir is %LOCALAPPDATA%\Berth\vm: not the roaming profile, the disk
// is large.
func stateDir() (string, error) {
	d, err := os.UserCacheDir()
	return filepath.Join(d, "Berth", "vm"), err
}
