package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckCommand(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"bin", "usr", "app"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "bin/busybox"), nil, 0o755)
	os.Symlink("/bin/busybox", filepath.Join(root, "bin/sh"))
	os.WriteFile(filepath.Join(root, "app/run.sh"), nil, 0o755)
	os.WriteFile(filepath.Join(root, "app/notes"), nil, 0o644)
	os.Symlink("../../../../../etc", filepath.Join(root, "escape")) // resolved in the root, not on the host

	for _, tc := range []struct {
		name string
		args []string
		cwd  string
		env  []string
		want string // part of the error; "" for none
	}{
		{"in PATH through a symlink", []string{"sh", "-c", "true"}, "/", nil, ""},
		{"absolute", []string{"/bin/busybox"}, "/", nil, ""},
		{"relative to the working directory", []string{"./run.sh"}, "/app", nil, ""},
		{"not in PATH", []string{"nope"}, "/", nil, `exec: "nope": executable file not found in $PATH`},
		{"PATH from the environment", []string{"run.sh"}, "/", []string{"PATH=/app"}, ""},
		{"PATH without it", []string{"busybox"}, "/", []string{"PATH=/app"}, "executable file not found"},
		{"missing path", []string{"/bin/nope"}, "/", nil, "no such file or directory"},
		{"not executable", []string{"/app/notes"}, "/", nil, "permission denied"},
		{"a directory", []string{"/app"}, "/", nil, "permission denied"},
		{"host file through a symlink", []string{"/escape/passwd"}, "/", nil, "no such file or directory"},
		{"under a mount: runc decides", []string{"/tools/x"}, "/", nil, ""},
		{"no command", nil, "/", nil, "No command specified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &specs.Spec{Process: &specs.Process{Args: tc.args, Cwd: tc.cwd, Env: tc.env}, Mounts: []specs.Mount{{Destination: "/tools"}}}
			err := checkCommand(root, spec)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
