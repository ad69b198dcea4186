//go:build !linux

package app

import (
	"context"
	"fmt"
	"os"

	"github.com/berth-dev/berth/engine"
)

// StartBerthd: on macOS and Windows Berth's engine runs in its Linux VM,
// which the VM helper starts.
func StartBerthd(ctx context.Context, address string) (*os.Process, error) {
	return nil, fmt.Errorf("Berth's engine runs in a Linux VM here: %w", engine.ErrNotSupported)
}

// StartBerthdWith is StartBerthd passing berthd extra flags.
func StartBerthdWith(args ...string) StartEngineFunc { return StartBerthd }

// StartBerthdFor is StartBerthd with the settings' insecure registries.
func StartBerthdFor(s Settings) StartEngineFunc { return StartBerthd }
