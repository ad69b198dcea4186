package store

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"golang.org/x/sys/unix"
)

// unpack extracts a layer tar into dir for use as an overlayfs lower
// directory: ownership, modes, times and xattrs kept, whiteouts turned into
// overlayfs whiteouts (0/0 character devices and the opaque xattr). Nothing
// is written outside dir: names with "..", and writes through a symlink a
// previous entry planted, are refused with engine.ErrUnsafeLayer. It returns
// the bytes of file content written.
func unpack(ctx context.Context, r io.Reader, dir string) (int64, error) {
	tr := tar.NewReader(r)
	u := unpacker{root: dir, safeDirs: map[string]bool{"": true}}
	var dirTimes []dirTime
	var written int64
	for {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return written, fmt.Errorf("read layer archive: %w", err)
		}
		rel, err := cleanEntryPath(hdr.Name)
		if err != nil {
			return written, err
		}
		if rel == "" {
			continue // the root itself
		}
		parent, base := filepath.Split(rel)
		parent = strings.TrimSuffix(parent, "/")
		if err := u.ensureDir(parent); err != nil {
			return written, err
		}
		full := filepath.Join(dir, rel)
		if base == whiteoutOpaque {
			if err := unix.Lsetxattr(filepath.Join(dir, parent), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
				return written, fmt.Errorf("opaque whiteout %s: %w", hdr.Name, err)
			}
			continue
		}
		if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
			target := filepath.Join(dir, parent, name)
			if err := unix.Mknod(target, unix.S_IFCHR, 0); err != nil {
				return written, fmt.Errorf("whiteout %s: %w", hdr.Name, err)
			}
			continue
		}
		n, err := u.entry(tr, hdr, rel, full)
		if err != nil {
			return written, err
		}
		written += n
		if hdr.Typeflag == tar.TypeDir {
			dirTimes = append(dirTimes, dirTime{full, hdr.ModTime, hdr.AccessTime})
		}
	}
	// Directory times last: creating children changes them.
	sort.Slice(dirTimes, func(i, j int) bool { return len(dirTimes[i].path) > len(dirTimes[j].path) })
	for _, d := range dirTimes {
		setTimes(d.path, d.mtime, d.atime)
	}
	return written, nil
}

type dirTime struct {
	path         string
	mtime, atime time.Time
}

type unpacker struct {
	root string
	// safeDirs are directories (relative) known to be real directories
	// inside root, so entries below them cannot escape through a symlink.
	safeDirs map[string]bool
}

// ensureDir makes sure rel is a real directory inside the root, creating
// missing parents (layers may omit them) and refusing symlinks on the way.
func (u *unpacker) ensureDir(rel string) error {
	if u.safeDirs[rel] {
		return nil
	}
	parent := filepath.Dir(rel)
	if parent == "." {
		parent = ""
	}
	if err := u.ensureDir(parent); err != nil {
		return err
	}
	full := filepath.Join(u.root, rel)
	fi, err := os.Lstat(full)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.Mkdir(full, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("entry below %q would be written through a symlink: %w", rel, engine.ErrUnsafeLayer)
	case !fi.IsDir():
		return fmt.Errorf("%q is a file but the layer puts entries below it: %w", rel, engine.ErrUnsafeLayer)
	}
	u.safeDirs[rel] = true
	return nil
}

func (u *unpacker) entry(tr *tar.Reader, hdr *tar.Header, rel, full string) (int64, error) {
	// A later entry replaces an earlier one of the same name; a directory
	// is kept when the new entry is a directory too.
	if fi, err := os.Lstat(full); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := removeAll(full); err != nil {
				return 0, err
			}
			u.forget(rel)
		}
	}
	mode := os.FileMode(hdr.Mode & 0o7777)
	var written int64
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(full, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return 0, err
		}
		u.safeDirs[rel] = true
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(full, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return 0, err
		}
		written, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, fmt.Errorf("write %s: %w", hdr.Name, err)
		}
	case tar.TypeSymlink:
		// The target may point anywhere: it is resolved inside the
		// container, never followed while unpacking.
		if err := os.Symlink(hdr.Linkname, full); err != nil {
			return 0, err
		}
	case tar.TypeLink:
		target, err := cleanEntryPath(hdr.Linkname)
		if err != nil || target == "" {
			return 0, fmt.Errorf("hard link %q to %q leaves the layer root: %w", hdr.Name, hdr.Linkname, engine.ErrUnsafeLayer)
		}
		targetDir := filepath.Dir(target)
		if targetDir == "." {
			targetDir = ""
		}
		if err := u.ensureDir(targetDir); err != nil {
			return 0, err
		}
		if err := os.Link(filepath.Join(u.root, target), full); err != nil {
			return 0, fmt.Errorf("hard link %s: %w", hdr.Name, err)
		}
		return 0, nil // shares the target's inode, times and owner
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(full, kind|uint32(mode), int(dev)); err != nil {
			if errors.Is(err, unix.EPERM) {
				return 0, nil // not root: devices are skipped, as rootless engines do
			}
			return 0, fmt.Errorf("device %s: %w", hdr.Name, err)
		}
	case tar.TypeXGlobalHeader:
		return 0, nil
	default:
		return 0, nil // unknown kinds (sparse, GNU volume) carry nothing a container needs
	}
	if err := os.Lchown(full, hdr.Uid, hdr.Gid); err != nil && !errors.Is(err, unix.EPERM) {
		return written, fmt.Errorf("chown %s: %w", hdr.Name, err)
	}
	for key, value := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(key, "SCHILY.xattr."); ok {
			// Best effort, as docker: some filesystems refuse some namespaces.
			_ = unix.Lsetxattr(full, attr, []byte(value), 0)
		}
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// unix.Chmod, not os.Chmod: os.FileMode drops setuid, setgid and sticky bits given as 0o7000.
		if err := unix.Chmod(full, uint32(hdr.Mode&0o7777)); err != nil {
			return written, fmt.Errorf("chmod %s: %w", hdr.Name, err)
		}
	}
	if hdr.Typeflag != tar.TypeDir {
		setTimes(full, hdr.ModTime, hdr.AccessTime)
	}
	return written, nil
}

// forget drops rel and everything below it from the safe-directory cache,
// after an entry replaced it.
func (u *unpacker) forget(rel string) {
	for d := range u.safeDirs {
		if d == rel || strings.HasPrefix(d, rel+"/") {
			delete(u.safeDirs, d)
		}
	}
}

func setTimes(path string, mtime, atime time.Time) {
	if atime.IsZero() {
		atime = mtime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	_ = unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// syncFS flushes the filesystem holding dir in one call: far cheaper than
// an fsync per file of a layer with thousands of files.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
