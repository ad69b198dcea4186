package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// berth vm without a VM: status says stopped, stop has nothing to do,
// and a wrong verb or a bad settings file gets a clear message.
func TestVMCommandWithoutAVM(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	os.MkdirAll(filepath.Join(cfg, "berth"), 0o755)
	settings := filepath.Join(cfg, "berth", "config.toml")
	os.WriteFile(settings, []byte("[vm]\nstate_dir = \""+filepath.Join(t.TempDir(), "vm")+"\"\n"), 0o644)
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"status"}, 0, "stopped", ""},
		{[]string{"stop"}, 0, "not running", ""},
		{[]string{"reboot"}, 2, "", "use start, stop or status"},
		{nil, 2, "", "usage: berth vm"},
	} {
		var out, errOut bytes.Buffer
		if code := vmCommand(tc.args, &out, &errOut); code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errOut.String(), tc.err) {
			t.Errorf("berth vm %v: exit %d, out %q, err %q", tc.args, code, out.String(), errOut.String())
		}
	}
	os.WriteFile(settings, []byte("[vm]\nshares = [\"relative\"]\n"), 0o644)
	var out, errOut bytes.Buffer
	if code := vmCommand([]string{"status"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "not a full path") {
		t.Errorf("bad settings: exit %d, %q", code, errOut.String())
	}
}
