//go:build !linux

package app

import (
	"context"
	"fmt"
	"io"
	"os/exec"

	"github.com/berth-dev/berth/engine"
)

// errEngineInVM: on macOS and Windows Berth's engine runs in its Linux
// VM, which the VM helper starts.
var errEngineInVM = fmt.Errorf("Berth's engine runs in a Linux VM here (berth vm start): %w", engine.ErrNotSupported)

// StartBerthd: see errEngineInVM.
func StartBerthd(ctx context.Context, address string) (*EngineProcess, error) {
	return nil, errEngineInVM
}

// StartBerthdWith is StartBerthd passing berthd extra flags.
func StartBerthdWith(args ...string) StartEngineFunc { return StartBerthd }

// StartBerthdFor is StartBerthd with the settings' flags.
func StartBerthdFor(s Settings) StartEngineFunc { return StartBerthd }

// BerthdCommandFor: see errEngineInVM.
func BerthdCommandFor(s Settings) (*exec.Cmd, error) { return nil, errEngineInVM }

// StopBerthd: see errEngineInVM.
func StopBerthd(ctx context.Context) (bool, error) { return false, errEngineInVM }

// StopBerthdAt: see errEngineInVM.
func StopBerthdAt(ctx context.Context, runDir string) (bool, error) { return false, errEngineInVM }

// RunBerthd: see errEngineInVM.
func RunBerthd(ctx context.Context, s Settings, log io.Writer, ready func(address string)) error {
	return errEngineInVM
}
