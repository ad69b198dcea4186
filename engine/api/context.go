package api

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/berth-dev/berth/engine"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/klauspost/compress/gzip"
)

// extractContext unpacks an uploaded build context (a tar, plain, gzip or
// bzip2) into dir. Names are resolved inside dir, so "../" and symlinks
// in the archive cannot write outside it; ownership is not kept (the
// context is read, never run).
func extractContext(r io.Reader, dir string) error {
	br := bufio.NewReader(r)
	var in io.Reader = br
	magic, _ := br.Peek(3)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("build context: %w: %w", err, engine.ErrInvalidArgument)
		}
		in = gz
	case len(magic) == 3 && string(magic) == "BZh":
		in = bzip2.NewReader(br)
	}
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
