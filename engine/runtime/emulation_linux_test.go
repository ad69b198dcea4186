package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What binfmt_misc says of QEMU's handler decides whether another CPU's
// programs can run in containers.
func TestBinfmtReady(t *testing.T) {
	for _, tc := range []struct {
		name, entry string // "" : not registered
		wantErr     string // "" : ready; "missing": os.ErrNotExist
	}{
		{name: "ready", entry: "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\n"},
		{name: "missing", wantErr: "missing"},
		{name: "disabled", entry: "disabled\ninterpreter /x\nflags: POF\n", wantErr: "disabled"},
		{name: "without F", entry: "enabled\ninterpreter /x\nflags: P\n", wantErr: "without the F flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			defer func(old string) { binfmtDir = old }(binfmtDir)
			binfmtDir = dir
			if tc.entry != "" {
				os.WriteFile(filepath.Join(dir, "qemu-aarch64"), []byte(tc.entry), 0o644)
			}
			err := binfmtReady("aarch64")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want ready", err)
			case tc.wantErr == "missing" && !errors.Is(err, os.ErrNotExist):
				t.Errorf("err = %v, want not registered", err)
			case tc.wantErr != "" && tc.wantErr != "missing" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want one saying %q", err, tc.wantErr)
			}
		})
	}
}
