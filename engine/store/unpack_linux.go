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
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	"github.com/berth-dev/berth/engine/overlayfs"
	"golang.org/x/sys/unix"
)

// Creating files dominates unpacking: on ext4 a create costs tens to
// hundreds of microseconds of kernel time, and a Python base image has
// thousands of files. So the tar stream is read in order by one goroutine,
// which makes directories itself, while files and symlinks are created by
// a pool of writers. Entries that depend on earlier ones (a hard link, a
// name that replaces another) wait until the writers have caught up.
const (
	unpackWriters = 8
	// Files up to this size are buffered and handed to a writer; larger
	// ones are written by the reading goroutine, so memory stays bounded
	// (queue length × this size).
	bufferedFileMax = 1 << 20
	unpackQueue     = 32
)

// unpack extracts a layer tar into dir, which must be empty, for use as an
// overlayfs lower directory: ownership, modes, times and xattrs kept,
// whiteouts turned into overlayfs whiteouts (0/0 character devices and the
// opaque xattr). Nothing is written outside dir: names with "..", and
// writes through a symlink a previous entry planted, are refused with
// engine.ErrUnsafeLayer. It returns the bytes of file content written.
func unpack(ctx context.Context, r io.Reader, dir string) (int64, error) {
	u := newUnpacker(dir)
	written, err := u.run(ctx, tar.NewReader(r))
	if werr := u.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return written, err
	}
	// Directory times last: creating children changes them.
	sort.Slice(u.dirTimes, func(i, j int) bool { return len(u.dirTimes[i].path) > len(u.dirTimes[j].path) })
	for _, d := range u.dirTimes {
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
	// seen holds every relative path written so far. dir starts empty, so
	// this says what exists without asking the filesystem.
	seen     map[string]bool
	dirTimes []dirTime

	jobs     chan job
	inflight sync.WaitGroup
	workers  sync.WaitGroup
	errMu    sync.Mutex
	err      error
}

// job is one file or symlink for a writer to create.
type job struct {
	hdr  *tar.Header
	full string
	data []byte
}

func newUnpacker(root string) *unpacker {
	u := &unpacker{root: root, safeDirs: map[string]bool{"": true}, seen: map[string]bool{}, jobs: make(chan job, unpackQueue)}
	for i := 0; i < unpackWriters; i++ {
		u.workers.Add(1)
		go func() {
			defer u.workers.Done()
			for j := range u.jobs {
				if u.failed() == nil {
					if err := create(j.hdr, j.full, bytesReader(j.data)); err != nil {
						u.fail(err)
					}
				}
				u.inflight.Done()
			}
		}()
	}
	return u
}

func (u *unpacker) fail(err error) {
	u.errMu.Lock()
	if u.err == nil {
		u.err = err
	}
	u.errMu.Unlock()
}

func (u *unpacker) failed() error {
	u.errMu.Lock()
	defer u.errMu.Unlock()
	return u.err
}

// barrier waits until every queued entry has been created.
func (u *unpacker) barrier() error {
	u.inflight.Wait()
	return u.failed()
}

// wait stops the writers and returns the first error any of them had.
func (u *unpacker) wait() error {
	close(u.jobs)
	u.workers.Wait()
	return u.failed()
}

func (u *unpacker) run(ctx context.Context, tr *tar.Reader) (int64, error) {
	var written int64
	for {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		if err := u.failed(); err != nil {
			return written, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, fmt.Errorf("read layer archive: %w", err)
		}
		n, err := u.entry(tr, hdr)
		written += n
		if err != nil {
			return written, err
		}
	}
}

func (u *unpacker) entry(tr *tar.Reader, hdr *tar.Header) (int64, error) {
	rel, err := iox.EntryPath(hdr.Name)
	if err != nil || rel == "" {
		return 0, err // "" is the root itself
	}
	parent, base := filepath.Split(rel)
	parent = strings.TrimSuffix(parent, "/")
	if err := u.ensureDir(parent); err != nil {
		return 0, err
	}
	full := filepath.Join(u.root, rel)
	if base == whiteoutOpaque {
		if err := unix.Lsetxattr(filepath.Join(u.root, parent), overlayfs.OpaqueXattr(), []byte("y"), 0); err != nil {
			return 0, fmt.Errorf("opaque whiteout %s: %w", hdr.Name, err)
		}
		return 0, nil
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		rel, full = filepath.Join(parent, name), filepath.Join(u.root, parent, name)
		hdr = &tar.Header{Typeflag: tar.TypeChar, Name: rel, Mode: 0, ModTime: hdr.ModTime}
	}
	// A later entry replaces an earlier one of the same name; a directory
	// stays when the new entry is a directory too.
	if u.seen[rel] {
		if err := u.barrier(); err != nil {
			return 0, err
		}
		if fi, err := os.Lstat(full); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := removeAll(full); err != nil {
				return 0, err
			}
			u.forget(rel)
		}
	}
	u.seen[rel] = true

	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(full, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return 0, err
		}
		u.safeDirs[rel] = true
		u.dirTimes = append(u.dirTimes, dirTime{full, hdr.ModTime, hdr.AccessTime})
		return 0, finish(hdr, full)
	case tar.TypeLink:
		target, err := iox.EntryPath(hdr.Linkname)
		if err != nil || target == "" {
			return 0, fmt.Errorf("hard link %q to %q leaves the layer root: %w", hdr.Name, hdr.Linkname, engine.ErrUnsafeLayer)
		}
		if err := u.ensureDir(dirOf(target)); err != nil {
			return 0, err
		}
		if err := u.barrier(); err != nil { // the target may still be queued
			return 0, err
		}
		if err := os.Link(filepath.Join(u.root, target), full); err != nil {
			return 0, fmt.Errorf("hard link %s: %w", hdr.Name, err)
		}
		return 0, nil // shares the target's inode, times and owner
	case tar.TypeReg, tar.TypeRegA:
		if hdr.Size > bufferedFileMax {
			if err := u.barrier(); err != nil {
				return 0, err
			}
			err := create(hdr, full, tr)
			return hdr.Size, err
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return 0, fmt.Errorf("read %s: %w", hdr.Name, err)
		}
		u.queue(job{hdr: hdr, full: full, data: data})
		return hdr.Size, nil
	case tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		u.queue(job{hdr: hdr, full: full})
		return 0, nil
	}
	return 0, nil // global headers, sparse and volume entries carry nothing a container needs
}

func (u *unpacker) queue(j job) {
	u.inflight.Add(1)
	u.jobs <- j
}

func dirOf(rel string) string {
	if d := filepath.Dir(rel); d != "." {
		return d
	}
	return ""
}

// ensureDir makes sure rel is a real directory inside the root, creating
// missing parents (layers may omit them) and refusing symlinks on the way.
func (u *unpacker) ensureDir(rel string) error {
	if u.safeDirs[rel] {
		return nil
	}
	if err := u.ensureDir(dirOf(rel)); err != nil {
		return err
	}
	full := filepath.Join(u.root, rel)
	if u.seen[rel] {
		// Something other than a directory was written here; let the
		// writers finish it before looking.
		if err := u.barrier(); err != nil {
			return err
		}
		fi, err := os.Lstat(full)
		switch {
		case err != nil:
			return err
		case fi.Mode()&os.ModeSymlink != 0:
			return fmt.Errorf("entry below %q would be written through a symlink: %w", rel, engine.ErrUnsafeLayer)
		case !fi.IsDir():
			return fmt.Errorf("%q is a file but the layer puts entries below it: %w", rel, engine.ErrUnsafeLayer)
		}
	} else if err := os.Mkdir(full, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	u.seen[rel] = true
	u.safeDirs[rel] = true
	return nil
}

// forget drops rel and everything below it from what is known to exist,
// after an entry replaced it.
func (u *unpacker) forget(rel string) {
	for d := range u.safeDirs {
		if d == rel || strings.HasPrefix(d, rel+"/") {
			delete(u.safeDirs, d)
		}
	}
	for p := range u.seen {
		if p == rel || strings.HasPrefix(p, rel+"/") {
			delete(u.seen, p)
		}
	}
}

// create makes one non-directory entry with its metadata.
func create(hdr *tar.Header, full string, content io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(full, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", hdr.Name, err)
		}
	case tar.TypeSymlink:
		// The target may point anywhere: it is resolved inside the
		// container, never followed while unpacking.
		if err := os.Symlink(hdr.Linkname, full); err != nil {
			return err
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(full, kind|uint32(hdr.Mode&0o7777), int(dev)); err != nil {
			if errors.Is(err, unix.EPERM) && !(hdr.Devmajor == 0 && hdr.Devminor == 0 && hdr.Typeflag == tar.TypeChar) {
				return nil // not root: devices are skipped, as rootless engines do
			}
			return fmt.Errorf("device %s: %w", hdr.Name, err)
		}
	}
	return finish(hdr, full)
}

// finish applies owner, xattrs, mode and times.
func finish(hdr *tar.Header, full string) error {
	if err := os.Lchown(full, hdr.Uid, hdr.Gid); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("chown %s: %w", hdr.Name, err)
	}
	for key, value := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(key, "SCHILY.xattr."); ok {
			// Best effort, as docker: some filesystems refuse some namespaces.
			_ = unix.Lsetxattr(full, attr, []byte(value), 0)
		}
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// unix.Chmod, not os.Chmod: os.FileMode drops setuid, setgid and
		// sticky bits given as 0o7000.
		if err := unix.Chmod(full, uint32(hdr.Mode&0o7777)); err != nil {
			return fmt.Errorf("chmod %s: %w", hdr.Name, err)
		}
	}
	if hdr.Typeflag != tar.TypeDir {
		setTimes(full, hdr.ModTime, hdr.AccessTime)
	}
	return nil
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
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
