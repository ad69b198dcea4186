package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/berth-dev/berth/engine"
	"golang.org/x/sys/unix"
)

// qemuArch is QEMU's name for a Go architecture.
var qemuArch = map[string]string{
	"amd64": "x86_64", "arm64": "aarch64", "arm": "arm", "386": "i386",
	"riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x", "mips64le": "mips64el", "loong64": "loongarch64",
}

// Where the kernel's binfmt_misc lives, and where Debian's qemu-user-static
// keeps its handlers' registrations; tests point them elsewhere.
var (
	binfmtDir  = "/proc/sys/fs/binfmt_misc"
	binfmtConf = "/usr/lib/binfmt.d"
)

// EnsureEmulation makes sure this machine runs programs built for arch
// (linux/arm64 on an x86_64 machine), as Docker Desktop does: through
// QEMU's user-mode emulator, registered with the kernel's binfmt_misc with
// the F flag (the kernel holds the emulator open, so it runs inside any
// container's filesystem). A root engine registers Debian's
// qemu-user-static handler itself where the system has not (no
// systemd-binfmt, as in a container); a rootless one cannot, and says
// what to install.
func (rt *Runtime) EnsureEmulation(arch string) error {
	if arch == goruntime.GOARCH || (arch == "386" && goruntime.GOARCH == "amd64") {
		return nil
	}
	q, ok := qemuArch[arch]
	if !ok {
		return fmt.Errorf("Berth cannot emulate linux/%s: %w", arch, engine.ErrNotSupported)
	}
	install := fmt.Sprintf("programs for linux/%s need QEMU's user-mode emulator: sudo apt install qemu-user-static (it registers itself with the kernel)", arch)
	if err := binfmtReady(q); err == nil || !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if rt.rootless || os.Geteuid() != 0 {
		return fmt.Errorf("%s: %w", install, engine.ErrNotSupported)
	}
	conf, err := os.ReadFile(filepath.Join(binfmtConf, "qemu-"+q+".conf"))
	if err != nil {
		return fmt.Errorf("%s: %w", install, engine.ErrNotSupported)
	}
	if _, err := os.Stat(filepath.Join(binfmtDir, "register")); err != nil {
		if err := unix.Mount("binfmt_misc", binfmtDir, "binfmt_misc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount binfmt_misc to register QEMU for linux/%s: %w", arch, err)
		}
	}
	if err := os.WriteFile(filepath.Join(binfmtDir, "register"), []byte(strings.TrimSpace(string(conf))), 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("register QEMU for linux/%s with binfmt_misc: %w", arch, err)
	}
	return binfmtReady(q)
}

// binfmtReady says whether QEMU's handler for q is registered, enabled,
// and usable in containers; os.ErrNotExist when it is not registered.
func binfmtReady(q string) error {
	data, err := os.ReadFile(filepath.Join(binfmtDir, "qemu-"+q))
	if err != nil {
		return os.ErrNotExist
	}
	lines := strings.Split(string(data), "\n")
	if lines[0] != "enabled" {
		return fmt.Errorf("QEMU's handler for %s is registered but disabled (echo 1 | sudo tee %s): %w", q, filepath.Join(binfmtDir, "qemu-"+q), engine.ErrNotSupported)
	}
	for _, l := range lines {
		if flags, ok := strings.CutPrefix(l, "flags: "); ok && !strings.Contains(flags, "F") {
			return fmt.Errorf("QEMU's handler for %s is registered without the F flag, so containers cannot use it: reinstall qemu-user-static: %w", q, engine.ErrNotSupported)
		}
	}
	return nil
}
