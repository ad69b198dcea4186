package overlayfs

import (
	"errors"
	"fmt"
	"os"
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

// IsBookkeeping says whether an extended attribute is overlayfs's own,
// not a file's: it is not carried into a layer.
func IsBookkeeping(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
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
			// The root's mode is set on the real directory below.
			if err := unix.Chmod(upper, 0o755); err != nil {
				return fmt.Errorf("overlay upper directory: %w", err)
			}
			upper, work = filepath.Join(dir, "u"), filepath.Join(dir, "w")
		}
	}
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
		// The root directory's owner and mode come from the upper
		// directory, made private by whoever created it: "/" is root's
		// and 0755, or a non-root user could not even look into it.
		if err := unix.Chmod(upper, 0o755); err != nil {
			return fmt.Errorf("overlay upper directory: %w", err)
		}
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

// userxattr is the mount option an engine in a user namespace needs.
func userxattr() string {
	if rootless() {
		return ",userxattr"
	}
	return ""
}
