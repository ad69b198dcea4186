package layers

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MaxEntries bounds the entries read from one layer, so a hostile archive
// with millions of empty files cannot exhaust memory.
var MaxEntries = 2_000_000

// EntriesFromTar lists an uncompressed layer tar, reading headers only
// (file bodies are skipped, with Seek when r can). Whiteouts become
// Whiteout entries and ".wh..wh..opq" marks its directory Opaque. Names
// that climb out of the root fail with engine.ErrUnsafeLayer.
func EntriesFromTar(r io.Reader) ([]Entry, error) {
	tr := tar.NewReader(r)
	var out []Entry
	dirs := map[string]bool{}
	// Parents a tar leaves out exist once unpacked (the store makes them);
	// list them too, so both sources describe the same layer.
	parents := func(p string) {
		var missing []string
		for d := path.Dir(p); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			missing = append(missing, d)
		}
		for i := len(missing) - 1; i >= 0; i-- {
			out = append(out, Entry{Path: missing[i], Mode: fs.ModeDir | 0o755})
		}
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read layer archive (truncated or corrupt?): %w", err)
		}
		if len(out) >= MaxEntries {
			return out, fmt.Errorf("layer has more than %d entries: %w", MaxEntries, engine.ErrInvalidArgument)
		}
		p, err := iox.EntryPath(hdr.Name)
		if err != nil {
			return out, err
		}
		if p == "" {
			continue
		}
		dir, base := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		parents(p)
		switch {
		case base == ".wh..wh..opq":
			out = append(out, Entry{Path: dir, Mode: fs.ModeDir | 0o755, Opaque: true})
			continue
		case strings.HasPrefix(base, ".wh."):
			out = append(out, Entry{Path: path.Join(dir, strings.TrimPrefix(base, ".wh.")), Whiteout: true})
			continue
		}
		e := Entry{Path: p, Mode: hdr.FileInfo().Mode(), UID: hdr.Uid, GID: hdr.Gid, Size: hdr.Size}
		if hdr.Typeflag == tar.TypeDir {
			dirs[p] = true
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			e.LinkTarget = hdr.Linkname
		case tar.TypeLink:
			target, err := iox.EntryPath(hdr.Linkname)
			if err != nil {
				return out, err
			}
			e.LinkTarget, e.HardLink, e.Mode = target, true, 0o644
		case tar.TypeReg, tar.TypeRegA:
		default:
			e.Size = 0
		}
		out = append(out, e)
	}
}

// inputsFor pairs an image's layers with its history: each layer gets the
// step that made it, and metadata-only steps (ENV, CMD…) go to the layer
// they follow (those before the first layer, to the first), as docker
// history shows them together.
func inputsFor(img v1.Image) ([]LayerInput, []v1.Layer, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("image layers: %w", err)
	}
	if len(layers) != len(cfg.RootFS.DiffIDs) {
		return nil, nil, fmt.Errorf("image has %d layers but its config lists %d: %w", len(layers), len(cfg.RootFS.DiffIDs), engine.ErrInvalidArgument)
	}
	inputs := make([]LayerInput, len(layers))
	for i, l := range layers {
		d, _ := l.Digest()
		size, _ := l.Size()
		inputs[i] = LayerInput{Digest: d.String(), DiffID: cfg.RootFS.DiffIDs[i].String(), CompressedSize: size}
	}
	attachHistory(cfg, inputs)
	return inputs, layers, nil
}

// attachHistory gives each layer the step that made it, and metadata-only
// steps (ENV, CMD…) to the layer they follow (those before the first
// layer, to the first), as docker history shows them together.
func attachHistory(cfg *v1.ConfigFile, inputs []LayerInput) {
	layer := -1
	var pending []string
	for _, h := range cfg.History {
		if h.EmptyLayer {
			if layer < 0 {
				pending = append(pending, h.CreatedBy)
			} else {
				inputs[layer].EmptySteps = append(inputs[layer].EmptySteps, h.CreatedBy)
			}
			continue
		}
		layer++
		if layer >= len(inputs) {
			break // history longer than the layers: ignore the rest
		}
		inputs[layer].CreatedBy = h.CreatedBy
		if layer == 0 {
			inputs[0].EmptySteps = append(pending, inputs[0].EmptySteps...)
		}
	}
}

// FromImage analyses an image from anywhere go-containerregistry reads one
// (a registry, an OCI layout, a `docker save` tarball), reading only the
// layers' tar headers.
func FromImage(img v1.Image) (*Analysis, error) {
	inputs, layers, err := inputsFor(img)
	if err != nil {
		return nil, err
	}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		counted := iox.NewCountingReader(rc)
		entries, err := EntriesFromTar(counted)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		inputs[i].Entries, inputs[i].UncompressedSize = entries, counted.Count()
	}
	return Analyze(inputs), nil
}

// FromUnpacked analyses a stored image whose layers are unpacked on disk
// (dir gives a diff ID's directory): a metadata walk, no content read.
func FromUnpacked(img v1.Image, dir func(diffID string) string) (*Analysis, error) {
	inputs, _, err := inputsFor(img)
	if err != nil {
		return nil, err
	}
	for i := range inputs {
		entries, err := EntriesFromDir(dir(inputs[i].DiffID))
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		inputs[i].Entries = entries
		for _, e := range entries {
			if e.Mode.IsRegular() {
				inputs[i].UncompressedSize += e.Size
			}
		}
	}
	return Analyze(inputs), nil
}
