package runtime

import (
	"fmt"
	"os"
	pathpkg "path"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultPath is the search path of a process whose environment sets none,
// as runc's.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// checkCommand finds the process's command in the container's root
// before anything starts, and says what runc would say when it is not
// there (the docker CLI turns that into exit code 127, or 126). A start
// that runc init fails leaves libcontainer holding files until the next
// garbage collection; a missing command is the common way to get there.
// It answers nil when it cannot be sure: a command under a mount is only
// there once the mounts are made.
func checkCommand(rootfs string, spec *specs.Spec) error {
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return errInvalid("No command specified")
	}
	cmd := spec.Process.Args[0]
	underMount := func(p string) bool {
		for _, m := range spec.Mounts {
			if d := pathpkg.Clean(m.Destination); p == d || strings.HasPrefix(p, d+"/") {
				return true
			}
		}
		return false
	}
	if strings.Contains(cmd, "/") {
		p := cmd
		if !pathpkg.IsAbs(p) {
			p = pathpkg.Join("/", spec.Process.Cwd, p)
		}
		if underMount(pathpkg.Clean(p)) {
			return nil
		}
		switch err := executable(rootfs, p); {
		case os.IsNotExist(err):
			return fmt.Errorf("exec: %q: stat %s: no such file or directory", cmd, cmd)
		case err != nil:
			return fmt.Errorf("exec: %q: permission denied", cmd)
		}
		return nil
	}
	search := defaultPath
	for _, e := range spec.Process.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			search = v
		}
	}
	for _, dir := range strings.Split(search, ":") {
		if dir == "" || !pathpkg.IsAbs(dir) {
			dir = pathpkg.Join("/", spec.Process.Cwd, dir)
		}
		p := pathpkg.Join(dir, cmd)
		if underMount(p) || executable(rootfs, p) == nil {
			return nil
		}
	}
	return fmt.Errorf("exec: %q: executable file not found in $PATH", cmd)
}

// executable says whether p, resolved inside rootfs, is a file someone
// may execute.
func executable(rootfs, p string) error {
	full, err := securejoin.SecureJoin(rootfs, p)
	if err != nil {
		return err
	}
	fi, err := os.Stat(full)
	switch {
	case err != nil:
		return err
	case fi.IsDir() || fi.Mode().Perm()&0o111 == 0:
		return os.ErrPermission
	}
	return nil
}
