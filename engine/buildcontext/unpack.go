package buildcontext

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	securejoin "github.com/cyphar/filepath-securejoin"
)

// Unpack unpacks an uploaded build context (a tar, plain or
// compressed) into dir. Names are resolved inside dir, so "../" and symlinks
// in the archive cannot write outside it; ownership is not kept (the
// context is read, never run).
func Unpack(r io.Reader, dir string) error {
	in, err := iox.Decompress(r)
	if err != nil {
		return fmt.Errorf("build context: %w: %w", err, engine.ErrInvalidArgument)
	}
	defer in.Close()
	tr := tar.NewReader(in)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("build context: the upload is not a valid tar archive: %w: %w", err, engine.ErrInvalidArgument)
		}
		name := path.Clean("/" + hdr.Name)
		if name == "/" {
			continue
		}
		parent, err := securejoin.SecureJoin(dir, path.Dir(name))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return err
		}
		target := filepath.Join(parent, path.Base(name))
		mode := os.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
			os.Chmod(target, mode|0o700)
		case tar.TypeReg, tar.TypeRegA:
			os.RemoveAll(target)
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("build context: %s: %w", hdr.Name, err)
			}
			os.Chmod(target, mode)
			os.Chtimes(target, hdr.ModTime, hdr.ModTime)
		case tar.TypeSymlink:
			os.RemoveAll(target)
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			src, err := securejoin.SecureJoin(dir, path.Clean("/"+hdr.Linkname))
			if err != nil {
				return err
			}
			os.RemoveAll(target)
			if err := os.Link(src, target); err != nil {
				return fmt.Errorf("build context: hard link %s: %w", hdr.Name, err)
			}
		}
	}
}
