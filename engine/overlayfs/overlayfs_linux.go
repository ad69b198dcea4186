package overlayfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/sys/userns"
	"golang.org/x/sys/unix"
)

// rootless: this process is in a user namespace.
var rootless = sync.OnceValue(userns.RunningInUserNS)

// OpaqueXattr is the extended attribute that marks a directory opaque
// (it hides what the layers below hold at its path).
func OpaqueXattr() string {
	if rootless() {
		return "user.overlay.opaque"
	}
	return "trusted.overlay.opaque"
}

// IsBookkeeping says whether an extended attribute is overlayfs's own (or
// fuse-overlayfs's), not a file's: it is not carried into a layer.
func IsBookkeeping(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") || strings.HasPrefix(name, "user.fuseoverlayfs.")
}

// The storage drivers: the kernel's overlayfs, or fuse-overlayfs, the
// same in a user-space program, for a rootless engine on a kernel that
// lets no user namespace mount overlayfs (before Linux 5.11, or where a
// distribution turned it off). fuse-overlayfs reads the kernel's layout of
// whiteouts and opaque directories in the layers below, and writes ones a
// layer can be made from: 0/0 devices or .wh. files, and a .wh..wh..opq
// file in an opaque directory.
const (
	Kernel = "overlayfs"
	Fuse   = "fuse-overlayfs"
)

var driver struct {
	sync.Mutex
	chosen   string // Kernel, Fuse, or "": the kernel's, else fuse-overlayfs
	fellBack bool   // the kernel refused, and fuse-overlayfs served
}

// SetDriver chooses the storage driver: Kernel, Fuse, or "" for the
// kernel's overlayfs with fuse-overlayfs where the kernel refuses.
func SetDriver(name string) error {
	switch name {
	case "", Kernel, Fuse:
	default:
		return fmt.Errorf("storage driver %q: use %s or %s (or nothing: %s, else %s where the kernel refuses)", name, Kernel, Fuse, Kernel, Fuse)
	}
	if name == Fuse {
		if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
			return fmt.Errorf("storage driver %s: fuse-overlayfs is not installed (sudo apt-get install fuse-overlayfs): %w", Fuse, err)
		}
	}
	driver.Lock()
	driver.chosen, driver.fellBack = name, false
	driver.Unlock()
	return nil
}

// Driver names the storage driver in use, as docker info reports it.
func Driver() string {
	driver.Lock()
	defer driver.Unlock()
	if driver.chosen == Fuse || driver.fellBack {
		return Fuse
	}
	return Kernel
}

// Mount mounts lower (top first) and upper at target; with no
// upper the mount is read-only. Redirects and metacopy are turned off
// where the kernel knows them, so the upper directory holds whole files
// and plain whiteouts, which is what a layer is.
func Mount(target string, lower []string, upper, work string) error {
	// An image may hold one layer twice (two identical COPY steps make the
	// same layer): overlayfs refuses a lower directory given twice. The
	// top occurrence alone gives the same files (its copy below it is
	// covered by itself).
	seen := map[string]bool{}
	lower = slices.DeleteFunc(slices.Clone(lower), func(l string) bool {
		dup := seen[l]
		seen[l] = true
		return dup
	})
	// Mount options fit in one page; long store paths allow ~40 layers.
	// Past that, go through short symlinks (overlayfs resolves them when
	// mounting; they can go right after), as Docker's overlay2 does.
	if total := len(strings.Join(lower, ":")) + len(upper) + len(work); total > 3000 {
		dir, err := os.MkdirTemp("", "ovl")
		if err != nil {
			return fmt.Errorf("overlay links: %w", err)
		}
		defer os.RemoveAll(dir)
		short := make([]string, len(lower))
		for i, l := range lower {
			short[i] = filepath.Join(dir, strconv.Itoa(i))
			if err := os.Symlink(l, short[i]); err != nil {
				return fmt.Errorf("overlay links: %w", err)
			}
		}
		lower = short
		if upper != "" {
			if err := os.Symlink(upper, filepath.Join(dir, "u")); err != nil {
				return err
			}
			if err := os.Symlink(work, filepath.Join(dir, "w")); err != nil {
				return err
			}
			upper, work = filepath.Join(dir, "u"), filepath.Join(dir, "w")
		}
	}
	if upper != "" {
		// The root directory's owner and mode come from the upper
		// directory, made private by whoever created it: "/" is root's
		// and 0755, or a non-root user could not even look into it.
		if err := unix.Chmod(upper, 0o755); err != nil {
			return fmt.Errorf("overlay upper directory: %w", err)
		}
	}
	if Driver() == Fuse && (upper != "" || len(lower) > 1) {
		return fuseMount(target, lower, upper, work)
	}
	err := mountWithKernel(target, lower, upper, work)
	driver.Lock()
	auto := driver.chosen == ""
	driver.Unlock()
	if err != nil && auto && rootless() && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENODEV)) {
		if _, lookErr := exec.LookPath("fuse-overlayfs"); lookErr == nil {
			if ferr := fuseMount(target, lower, upper, work); ferr != nil {
				return fmt.Errorf("%w; and through fuse-overlayfs: %w", err, ferr)
			}
			driver.Lock()
			driver.fellBack = true
			driver.Unlock()
			return nil
		}
		return fmt.Errorf("%w (this kernel lets no user namespace mount overlayfs: install fuse-overlayfs, sudo apt-get install fuse-overlayfs)", err)
	}
	return err
}

// mountWithKernel is kernelMount; tests make it refuse, as an older kernel
// does in a user namespace.
var mountWithKernel = kernelMount

// kernelMount mounts with the kernel's overlayfs.
func kernelMount(target string, lower []string, upper, work string) error {
	var err error
	if upper == "" {
		if len(lower) == 1 {
			// overlayfs wants two lower directories when there is no upper.
			if err := unix.Mount(lower[0], target, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("mount %s: %w", lower[0], err)
			}
			return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
		}
		err = unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lower, ":")+userxattr())
	} else {
		opts := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work + userxattr()
		err = unix.Mount("overlay", target, "overlay", 0, opts+",redirect_dir=off,metacopy=off")
		if errors.Is(err, unix.EINVAL) {
			err = unix.Mount("overlay", target, "overlay", 0, opts)
		}
	}
	if err != nil {
		return fmt.Errorf("mount the build step's filesystem (overlayfs): %w", err)
	}
	return nil
}

// fuseMount mounts with fuse-overlayfs, which serves the mount from a
// process of its own until it is unmounted. Its lower directories are
// opened before it returns, so the short links Mount may make can go.
func fuseMount(target string, lower []string, upper, work string) error {
	opts := "lowerdir=" + strings.Join(lower, ":")
	if upper != "" {
		opts += ",upperdir=" + upper + ",workdir=" + work
	}
	if out, err := exec.Command("fuse-overlayfs", "-o", opts, target).CombinedOutput(); err != nil {
		return fmt.Errorf("mount the filesystem (fuse-overlayfs): %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// userxattr is the mount option an engine in a user namespace needs.
func userxattr() string {
	if rootless() {
		return ",userxattr"
	}
	return ""
}
