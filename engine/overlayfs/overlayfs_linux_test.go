package overlayfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Images with many layers and long store paths go past the one page of
// mount options; the mount still works.
func TestMountManyLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs needs root")
	}
	base := filepath.Join(t.TempDir(), strings.Repeat("long-store-path-", 4))
	const n = 120
	var lower []string // top first
	for i := n - 1; i >= 0; i-- {
		d := filepath.Join(base, "layers", "sha256", fmt.Sprintf("%064d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, fmt.Sprintf("f%d", i)), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(d, "top"), []byte(fmt.Sprint(i)), 0o644)
		lower = append(lower, d)
	}
	if len(strings.Join(lower, ":")) < 8192 {
		t.Fatalf("the test's paths are too short to need links")
	}
	upper, work, target := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "mnt")
	for _, d := range []string{upper, work, target} {
		os.MkdirAll(d, 0o700)
	}
	if err := Mount(target, lower, upper, work); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)
	entries, _ := os.ReadDir(target)
	if len(entries) != n+1 {
		t.Fatalf("%d entries in the merged view, want %d", len(entries), n+1)
	}
	if top, _ := os.ReadFile(filepath.Join(target, "top")); string(top) != fmt.Sprint(n-1) {
		t.Fatalf("top = %q: layer order lost", top)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o755 {
		t.Fatalf("root mode %o", fi.Mode().Perm())
	}
	// Read-only, too.
	ro := filepath.Join(base, "ro")
	os.Mkdir(ro, 0o755)
	if err := Mount(ro, lower, "", ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(ro, unix.MNT_DETACH)
	if err := os.WriteFile(filepath.Join(ro, "new"), nil, 0o644); err == nil {
		t.Fatal("read-only mount took a write")
	}
}

// An image that holds one layer twice (two identical COPY steps) mounts:
// overlayfs refused the repeated lower directory.
func TestMountRepeatedLayer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs needs root")
	}
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	os.MkdirAll(a, 0o755)
	os.MkdirAll(b, 0o755)
	os.WriteFile(filepath.Join(a, "app"), []byte("from a"), 0o644)
	os.WriteFile(filepath.Join(b, "app"), []byte("from b"), 0o644)
	os.WriteFile(filepath.Join(b, "only-b"), []byte("b"), 0o644)
	target := filepath.Join(base, "mnt")
	os.Mkdir(target, 0o755)
	if err := Mount(target, []string{a, b, a}, "", ""); err != nil { // top first: a over b over a
		t.Fatal(err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)
	if got, _ := os.ReadFile(filepath.Join(target, "app")); string(got) != "from a" {
		t.Errorf("app = %q, want the top layer's", got)
	}
	if _, err := os.Stat(filepath.Join(target, "only-b")); err != nil {
		t.Errorf("the middle layer's file: %v", err)
	}
}

// Where the kernel refuses a rootless engine's overlayfs mount (before
// Linux 5.11), fuse-overlayfs serves it, and docker info says so from then.
func TestFuseOverlayfsWhereTheKernelRefuses(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the test mounts with FUSE as root")
	}
	if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
		t.Skip("fuse-overlayfs is not installed (packaging/dev/setup.sh test installs it)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no /dev/fuse: %v", err)
	}
	wasRootless, wasKernel := rootless, mountWithKernel
	rootless = func() bool { return true }
	mountWithKernel = func(string, []string, string, string) error { return fmt.Errorf("mount: %w", unix.EPERM) }
	t.Cleanup(func() { rootless, mountWithKernel = wasRootless, wasKernel; SetDriver("") })
	if err := SetDriver(""); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	lower, upper, work, target := filepath.Join(base, "lower"), filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "mnt")
	for _, d := range []string{lower, upper, work, target} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(lower, "below"), []byte("from the layer"), 0o644)
	if Driver() != Kernel {
		t.Fatalf("before any mount the driver is %s", Driver())
	}
	if err := Mount(target, []string{lower}, upper, work); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)
	if got, _ := os.ReadFile(filepath.Join(target, "below")); string(got) != "from the layer" {
		t.Fatalf("the layer's file through the mount: %q", got)
	}
	os.WriteFile(filepath.Join(target, "new"), []byte("written"), 0o644)
	if got, _ := os.ReadFile(filepath.Join(upper, "new")); string(got) != "written" {
		t.Fatalf("a write went to %q, not the upper directory", got)
	}
	if Driver() != Fuse {
		t.Fatalf("docker info would say %s after fuse-overlayfs took over", Driver())
	}
}
