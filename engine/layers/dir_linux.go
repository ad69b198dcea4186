package layers

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/berth-dev/berth/engine/overlayfs"
	"golang.org/x/sys/unix"
)

// EntriesFromDir lists an unpacked layer directory, reading metadata only.
// It follows the store's overlayfs conventions: a 0/0 character device is
// a whiteout, and overlayfs's opaque xattr marks an opaque
// directory. Symlinks are listed, never followed, so loops are harmless.
func EntriesFromDir(dir string) ([]Entry, error) {
	var out []Entry
	inodes := map[uint64]string{} // for hard links: first path of each inode
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if len(out) >= MaxEntries {
			return fmt.Errorf("layer has more than %d entries", MaxEntries)
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := Entry{Path: filepath.ToSlash(rel), Mode: info.Mode(), UID: int(st.Uid), GID: int(st.Gid)}
		switch {
		case st.Mode&syscall.S_IFMT == syscall.S_IFCHR && st.Rdev == 0:
			e = Entry{Path: e.Path, Whiteout: true}
		case info.Mode().IsRegular():
			e.Size = st.Size
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					e.HardLink, e.LinkTarget = true, first
				} else {
					inodes[st.Ino] = e.Path
				}
			}
		case info.Mode()&os.ModeSymlink != 0:
			e.LinkTarget, _ = os.Readlink(p)
		case info.IsDir():
			buf := make([]byte, 1)
			if n, err := unix.Lgetxattr(p, overlayfs.OpaqueXattr(), buf); err == nil && n == 1 && buf[0] == 'y' {
				e.Opaque = true
			}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("read layer %s: %w", dir, err)
	}
	return out, nil
}
