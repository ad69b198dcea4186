package runtime

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	pathpkg "path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// containerPath is a path of a container's file system, opened: the
// folder that holds it as an os.Root, which no name, symlink or rename
// under it can leave, even while the container changes its files.
type containerPath struct {
	parent   *os.Root
	base     string // path's name in parent; "." for the top of a file system
	path     string // the container's path, cleaned
	readOnly bool   // a read-only mount, or --read-only
	resolved string // the container's path with its symlinks resolved
}

func (p *containerPath) close() { p.parent.Close() }

// openPath opens path in the container's file system, or in the mount
// that holds it. The folders on the way resolve inside that file system,
// as the container sees them (an absolute symlink points into it). A
// container that is not running gets its file system mounted for as long
// as it takes to open the folder: the open folder keeps it, detached, so
// nothing stays mounted when the copy ends or berthd dies.
func (c *ctr) openPath(path string) (*containerPath, error) {
	p := pathpkg.Clean("/" + path)
	c.mu.Lock()
	defer c.mu.Unlock()
	rootfs := c.dir + "/rootfs"
	if !c.running {
		if err := c.mountRootfs(rootfs); err != nil {
			return nil, err
		}
		defer unix.Unmount(rootfs, unix.MNT_DETACH)
	}
	base, rel, readOnly := rootfs, p, c.rec.Spec.Security.ReadOnly
	var longest string
	for _, m := range c.rec.mounts {
		target := pathpkg.Clean(m.Target)
		if (p == target || strings.HasPrefix(p, target+"/")) && len(target) > len(longest) {
			longest, base, rel, readOnly = target, m.hostPath, "/"+strings.TrimPrefix(p, target), m.ReadOnly
		}
	}
	if fi, err := os.Stat(base); err == nil && !fi.IsDir() { // a single file bind-mounted
		base, rel = pathpkg.Dir(base), "/"+pathpkg.Base(base)
	}
	dir, name := pathpkg.Dir(rel), pathpkg.Base(rel)
	if rel == "/" {
		dir, name = "/", "."
	}
	handle, err := pathrs.OpenInRoot(base, dir)
	if err != nil {
		return nil, c.noSuchPath(p, err)
	}
	defer handle.Close()
	parent, err := os.OpenRoot("/proc/self/fd/" + strconv.Itoa(int(handle.Fd())))
	if err != nil {
		return nil, c.noSuchPath(p, err)
	}
	resolved := p
	if full, err := securejoin.SecureJoin(base, rel); err == nil {
		resolved = pathpkg.Join(longest, "/"+strings.TrimPrefix(strings.TrimPrefix(full, base), "/"))
	}
	return &containerPath{parent: parent, base: name, path: p, readOnly: readOnly, resolved: resolved}, nil
}

func (c *ctr) noSuchPath(p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("Could not find the file %s in container %s: %w", p, c.rec.Name, engine.ErrNotFound)
	}
	return fmt.Errorf("%s in container %s: %w", p, c.rec.Name, err)
}

func (p *containerPath) stat(c *ctr) (engine.PathStat, error) {
	fi, err := p.parent.Lstat(p.base)
	if err != nil {
		return engine.PathStat{}, c.noSuchPath(p.path, err)
	}
	st := engine.PathStat{Name: fi.Name(), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if p.base == "." {
		st.Name = "/"
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		st.LinkTarget = p.resolved
	}
	return st, nil
}

// StatPath describes a path in the container (docker cp's first question).
func (rt *Runtime) StatPath(ctx context.Context, name, path string) (engine.PathStat, error) {
	c, err := rt.find(name)
	if err != nil {
		return engine.PathStat{}, err
	}
	p, err := c.openPath(path)
	if err != nil {
		return engine.PathStat{}, err
	}
	defer p.close()
	return p.stat(c)
}

// ArchivePath streams a path of the container as a tar archive.
func (rt *Runtime) ArchivePath(ctx context.Context, name, path string) (engine.PathStat, io.ReadCloser, error) {
	c, err := rt.find(name)
	if err != nil {
		return engine.PathStat{}, nil, err
	}
	p, err := c.openPath(path)
	if err != nil {
		return engine.PathStat{}, nil, err
	}
	st, err := p.stat(c)
	if err != nil {
		p.close()
		return st, nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		defer p.close()
		tw := tar.NewWriter(pw)
		err := writeTree(ctx, p.parent, p.base, tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return st, pr, nil
}

// writeTree writes top, and all under it when it is a folder, to tw. Only
// what it finds under parent is read: symlinks are archived, not followed.
func writeTree(ctx context.Context, parent *os.Root, top string, tw *tar.Writer) error {
	return fs.WalkDir(parent.FS(), top, func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := parent.Lstat(name)
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSocket != 0 {
			return nil // a socket is not a file to copy; tar has no type for it
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = parent.Readlink(name); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		hdr.Name = name
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		}
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := parent.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, io.LimitReader(f, hdr.Size))
		if err != nil {
			return err
		}
		// A file that shrank while it was read keeps its announced size.
		_, err = io.CopyN(tw, zeros{}, hdr.Size-n)
		return err
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// ExtractArchive unpacks a tar archive into a folder of the container.
func (rt *Runtime) ExtractArchive(ctx context.Context, name, dir string, archive io.Reader, opts engine.ExtractOptions) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	p, err := c.openPath(dir)
	if err != nil {
		return err
	}
	defer p.close()
	if p.readOnly {
		return fmt.Errorf("container %s: %s is on a read-only file system: %w", c.rec.Name, p.path, engine.ErrForbidden)
	}
	fi, err := p.parent.Stat(p.base) // a symlink to a folder is a folder to copy into
	if err != nil {
		return c.noSuchPath(p.path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("extraction point is not a directory: %s: %w", p.path, engine.ErrInvalidArgument)
	}
	dest, err := p.parent.OpenRoot(p.base)
	if err != nil {
		return c.noSuchPath(p.path, err)
	}
	defer dest.Close()
	plain, err := iox.Decompress(archive)
	if err != nil {
		return fmt.Errorf("copy into %s: %w: %w", p.path, err, engine.ErrInvalidArgument)
	}
	defer plain.Close()
	return extract(ctx, dest, tar.NewReader(plain), opts)
}

// extract writes a tar archive's entries into dest. dest refuses every
// name, link or symlink that would lead outside it.
func extract(ctx context.Context, dest *os.Root, tr *tar.Reader, opts engine.ExtractOptions) error {
	type dirTime struct {
		name  string
		atime time.Time
		mtime time.Time
	}
	var dirs []dirTime
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read the archive: %w: %w", err, engine.ErrInvalidArgument)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := pathpkg.Clean(hdr.Name)
		if climbs(name) || hdr.Typeflag == tar.TypeLink && climbs(pathpkg.Clean(hdr.Linkname)) {
			return fmt.Errorf("archive entry %q leads outside the folder: %w", hdr.Name, engine.ErrInvalidArgument)
		}
		if err := extractEntry(dest, name, hdr, tr, opts); err != nil {
			if strings.Contains(err.Error(), "path escapes from parent") { // os.Root's refusal, untyped
				return fmt.Errorf("archive entry %q leads outside the folder through a symlink: %w", hdr.Name, engine.ErrInvalidArgument)
			}
			return fmt.Errorf("copy %s: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTime{name, hdr.AccessTime, hdr.ModTime})
		}
	}
	// Folder times last: what is written into a folder changes them.
	for _, d := range slices.Backward(dirs) {
		dest.Chtimes(d.name, orTime(d.atime, d.mtime), d.mtime)
	}
	return nil
}

// copyBufferSize sizes the pieces docker cp writes files in (100 files of
// 1 MiB went in 10% faster than in io.Copy's 32 KiB pieces).
const copyBufferSize = 1 << 20

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// onlyWriter hides a file's ReadFrom, which would copy in 32 KiB pieces
// from a reader it cannot splice from (a tar stream).
type onlyWriter struct{ io.Writer }

// climbs says whether a cleaned archive name leaves the folder it is
// unpacked in.
func climbs(name string) bool {
	return pathpkg.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../")
}

func orTime(t, or time.Time) time.Time {
	if t.IsZero() {
		return or
	}
	return t
}

func extractEntry(dest *os.Root, name string, hdr *tar.Header, content io.Reader, opts engine.ExtractOptions) error {
	if dir := pathpkg.Dir(name); dir != "." {
		if err := dest.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	existing, err := dest.Lstat(name)
	exists := err == nil
	isDir := hdr.Typeflag == tar.TypeDir
	if exists && name != "." && existing.IsDir() != isDir {
		if opts.NoOverwriteDirNonDir {
			if isDir {
				return fmt.Errorf("cannot overwrite non-directory %q with directory: %w", name, engine.ErrInvalidArgument)
			}
			return fmt.Errorf("cannot overwrite directory %q with non-directory: %w", name, engine.ErrInvalidArgument)
		}
		if err := dest.RemoveAll(name); err != nil {
			return err
		}
		exists = false
	}
	if exists && !isDir && (existing.Mode()&os.ModeSymlink != 0 || hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA) {
		// Replace what is there; never write through a symlink.
		if err := dest.Remove(name); err != nil {
			return err
		}
	}
	mode := hdr.FileInfo().Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !exists {
			if err := dest.Mkdir(name, 0o700); err != nil {
				return err
			}
		}
	case tar.TypeReg, tar.TypeRegA:
		f, err := dest.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		buf := copyBuffers.Get().(*[]byte)
		_, err = io.CopyBuffer(onlyWriter{f}, content, *buf) // whole buffers, not 32 KiB writes
		copyBuffers.Put(buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		// The target is the container's to resolve; it is not followed here.
		if err := dest.Symlink(hdr.Linkname, name); err != nil {
			return err
		}
		return owner(dest, name, hdr, opts)
	case tar.TypeLink:
		if err := dest.Link(pathpkg.Clean(hdr.Linkname), name); err != nil {
			return err
		}
		return nil // the link shares its target's owner, mode and times
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("%s: devices, fifos and sockets are not copied: %w", name, engine.ErrNotSupported)
	}
	if err := owner(dest, name, hdr, opts); err != nil {
		return err
	}
	if err := dest.Chmod(name, mode); err != nil {
		return err
	}
	if !isDir {
		return dest.Chtimes(name, orTime(hdr.AccessTime, hdr.ModTime), hdr.ModTime)
	}
	return nil
}

// owner gives a copied entry the archive's owner (docker cp -a) or root.
func owner(dest *os.Root, name string, hdr *tar.Header, opts engine.ExtractOptions) error {
	uid, gid := 0, 0
	if opts.KeepOwners {
		uid, gid = hdr.Uid, hdr.Gid
	}
	if err := dest.Lchown(name, uid, gid); err != nil && !errors.Is(err, unix.EPERM) {
		return err
	}
	return nil
}

// Interface guard.
var _ engine.ContainerFiles = (*Runtime)(nil)
