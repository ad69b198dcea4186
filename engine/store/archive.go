package store

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	pathpkg "path"
	"path/filepath"
	"slices"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	"github.com/berth-dev/berth/engine/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Save writes the named images to w as a docker-archive tarball, the
// format `docker save` writes and `docker load` reads. A name keeps its tag
// in the archive; an image named by ID is saved without one.
func (s *Store) Save(ctx context.Context, names []string, w io.Writer) error {
	if len(names) == 0 {
		return fmt.Errorf("save: no images named: %w", engine.ErrInvalidArgument)
	}
	refs := map[name.Reference]v1.Image{}
	for _, n := range names {
		id, manifest, err := s.Resolve(n)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		img, err := s.Image(id)
		if err != nil {
			return fmt.Errorf("save %s: %w", n, err)
		}
		var ref name.Reference
		if parsed, err := reference.Parse(n); err == nil {
			if tag, ok := parsed.(name.Tag); ok && s.hasName(id, reference.Canonical(tag)) {
				ref = tag
			}
		}
		if ref == nil {
			// No tag: the archive lists the image without RepoTags.
			if ref, err = name.NewDigest("untagged@" + manifest); err != nil {
				return fmt.Errorf("save %s: %w", n, err)
			}
		}
		refs[ref] = img
	}
	if err := tarball.MultiRefWrite(refs, w); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	for _, n := range names {
		s.publish("save", n, nil)
	}
	return nil
}

func (s *Store) hasName(id, canonical string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.state.Images[id]
	return ok && slices.Contains(rec.Names, canonical)
}

// Load stores every image in a docker-archive tarball (from `docker save`
// or Save) with the names it carries, and returns those names, or the IDs
// of images that carry none.
func (s *Store) Load(ctx context.Context, r io.Reader, progress engine.ProgressFunc) ([]string, error) {
	// The tarball package reads the archive several times; spool it first.
	spool, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "load-")
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	plain, err := iox.Decompress(&ctxReader{ctx: ctx, r: r}) // docker load takes gzip, bzip2, xz and zstd
	if err != nil {
		return nil, fmt.Errorf("load: %w: %w", err, engine.ErrInvalidArgument)
	}
	defer plain.Close()
	if _, err := io.Copy(spool, plain); err != nil {
		return nil, fmt.Errorf("load: read archive: %w", err)
	}
	if err := checkLinks(spool.Name()); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	opener := func() (io.ReadCloser, error) { return os.Open(spool.Name()) }
	manifest, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("load: not an image archive (docker save format): %w: %w", engine.ErrInvalidArgument, err)
	}
	if len(manifest) == 0 {
		return nil, fmt.Errorf("load: the archive holds no images: %w", engine.ErrInvalidArgument)
	}
	var loaded []string
	for i, desc := range manifest {
		var tag *name.Tag
		if len(desc.RepoTags) > 0 {
			t, err := name.NewTag(desc.RepoTags[0])
			if err != nil {
				return loaded, fmt.Errorf("load: image %d: %w: %w", i, engine.ErrInvalidReference, err)
			}
			tag = &t
		} else if len(manifest) > 1 {
			return loaded, fmt.Errorf("load: image %d has no name, and only a single-image archive may hold unnamed images: %w", i, engine.ErrNotSupported)
		}
		img, err := tarball.Image(opener, tag)
		if err != nil {
			return loaded, fmt.Errorf("load: image %d: %w", i, err)
		}
		id, err := s.Put(ctx, img, PutOptions{Names: desc.RepoTags, Progress: progress})
		if err != nil {
			return loaded, fmt.Errorf("load: %w", err)
		}
		if len(desc.RepoTags) == 0 {
			loaded = append(loaded, id)
			s.publish("load", id, nil)
		}
		for _, t := range desc.RepoTags {
			ref, _ := reference.Parse(t)
			loaded = append(loaded, reference.Familiar(reference.Canonical(ref)))
			s.publish("load", reference.Familiar(reference.Canonical(ref)), nil)
		}
	}
	return loaded, nil
}

// maxLinkDepth bounds the symlinks one name in an archive may go through:
// go-containerregistry reads the archive again for each link, so a long
// chain costs time and open files in its square.
const maxLinkDepth = 8

// checkLinks refuses an archive whose links go round or run deeper than
// maxLinkDepth.
func checkLinks(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	links := map[string]string{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not an image archive (docker save format): %w: %w", err, engine.ErrInvalidArgument)
		}
		if hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink {
			name := pathpkg.Clean(hdr.Name)
			target := hdr.Linkname
			if hdr.Typeflag == tar.TypeSymlink {
				target = pathpkg.Join(pathpkg.Dir(name), target)
			}
			links[name] = pathpkg.Clean(target)
		}
	}
	for name := range links {
		n, depth := name, 0
		for {
			next, ok := links[n]
			if !ok {
				break
			}
			if depth++; depth > maxLinkDepth {
				return fmt.Errorf("the archive's link %s goes through more than %d links (or round): %w", name, maxLinkDepth, engine.ErrInvalidArgument)
			}
			n = next
		}
	}
	return nil
}

// Interface guards.
var _ engine.Archives = (*Store)(nil)
