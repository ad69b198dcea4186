//go:build !darwin && !windows

package vm

import (
	"os"
	"path/filepath"
)

// stateDir is $XDG_DATA_HOME/berth/vm (~/.local/share/berth/vm).
func stateDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "berth", "vm"), nil
	}
	home, err := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "berth", "vm"), err
}
