package store

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine/overlayfs"
	"golang.org/x/sys/unix"
)

// packDir writes dir, a layer in unpacked form, as a layer tar: overlayfs
// whiteouts (0/0 character devices) become ".wh." entries, the opaque
// xattr a ".wh..wh..opq" entry, files sharing an inode hard links, and
// xattrs other than overlayfs's own PAX records. Entries come in lexical
// order and times are whole seconds, so the same tree gives the same diff
// ID. It returns how many entries it wrote, the bytes of file content and
// the biggest files.
func packDir(ctx context.Context, dir string, w io.Writer) (p packed, err error) {
	entries, content := &p.entries, &p.content
	tw := tar.NewWriter(w)
	links := map[uint64]string{} // inode → first name
	buf := make([]byte, 256<<10)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "." {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		hdr := &tar.Header{
			Name: filepath.ToSlash(rel), Uid: int(st.Uid), Gid: int(st.Gid),
			Mode:    int64(st.Mode & 0o7777),
			ModTime: time.Unix(st.Mtim.Sec, 0),
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			if st.Rdev == 0 {
				parent, base := filepath.Split(hdr.Name)
				*entries++
				return tw.WriteHeader(&tar.Header{Name: parent + whiteoutPrefix + base, Typeflag: tar.TypeReg, ModTime: hdr.ModTime})
			}
			hdr.Typeflag = tar.TypeChar
			hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		case unix.S_IFBLK:
			hdr.Typeflag = tar.TypeBlock
			hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		case unix.S_IFIFO:
			hdr.Typeflag = tar.TypeFifo
		case unix.S_IFLNK:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		case unix.S_IFDIR:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case unix.S_IFREG:
			if st.Nlink > 1 {
				if first, ok := links[st.Ino]; ok {
					hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
					break
				}
				links[st.Ino] = hdr.Name
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		default:
			return nil // sockets are not part of an image
		}
		opaque, err := addXattrs(hdr, path)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		*entries++
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			p.noteSize("/"+hdr.Name, hdr.Size)
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			n, err := io.CopyBuffer(tw, io.LimitReader(f, hdr.Size), buf)
			f.Close()
			if err != nil {
				return err
			}
			if n != hdr.Size {
				return fmt.Errorf("%s changed size while it was packed", hdr.Name)
			}
			*content += n
		}
		if opaque {
			*entries++
			return tw.WriteHeader(&tar.Header{Name: hdr.Name + whiteoutOpaque, Typeflag: tar.TypeReg, ModTime: hdr.ModTime})
		}
		return nil
	})
	if err != nil {
		return packed{}, err
	}
	if p.entries == 0 {
		return packed{}, nil
	}
	return p, tw.Close()
}

// addXattrs copies path's extended attributes into hdr, leaving out
// overlayfs's bookkeeping, and reports whether the directory is opaque.
func addXattrs(hdr *tar.Header, path string) (opaque bool, err error) {
	size, err := unix.Llistxattr(path, nil)
	if err != nil || size == 0 {
		return false, nil // no xattr support is no xattrs
	}
	names := make([]byte, size)
	size, err = unix.Llistxattr(path, names)
	if err != nil {
		return false, nil
	}
	for _, name := range strings.Split(strings.TrimRight(string(names[:size]), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		if overlayfs.IsBookkeeping(name) {
			if name == overlayfs.OpaqueXattr() {
				v := make([]byte, 8)
				n, _ := unix.Lgetxattr(path, name, v)
				opaque = n > 0 && v[0] == 'y'
			}
			continue
		}
		v := make([]byte, 4096)
		n, err := unix.Lgetxattr(path, name, v)
		if err != nil {
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+name] = string(v[:n])
	}
	return opaque, nil
}
