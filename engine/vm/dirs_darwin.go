package vm

import (
	"os"
	"path/filepath"
)

// stateDir is ~/Library/Application Support/Berth/vm.
func stateDir() (string, error) {
	d, err := os.UserConfigDir()
	return filepath.Join(d, "Berth", "vm"), err
}
