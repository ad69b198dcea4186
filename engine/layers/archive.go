package layers

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FromTarball analyses an image in a `docker save` tarball at path (from
// berthd, Docker or Podman). imageName picks the image when the archive
// holds several; empty takes the only one.
//
// The archive is read in place: its entries are indexed once, and each
// layer's tar headers are read through a section of the file, so the
// bodies of uncompressed layers are skipped by seeking rather than read.
func FromTarball(archivePath, imageName string) (*Analysis, error) {
	f, err := os.Open(archivePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	index, err := indexArchive(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not an image archive: %w: %w", archivePath, engine.ErrInvalidArgument, err)
	}
	manifestData, err := index.read(f, "manifest.json", 16<<20)
	if err != nil {
		return nil, fmt.Errorf("%s is not an image archive (no manifest.json): %w", archivePath, engine.ErrInvalidArgument)
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(manifestData, &manifest); err != nil || len(manifest) == 0 {
		return nil, fmt.Errorf("%s: damaged manifest.json: %w", archivePath, engine.ErrInvalidArgument)
	}
	pick := 0
	if len(manifest) > 1 {
		pick = -1
		for i, m := range manifest {
			for _, t := range m.RepoTags {
				if t == imageName || strings.TrimSuffix(t, ":latest") == imageName {
					pick = i
				}
			}
		}
		if pick < 0 {
			return nil, fmt.Errorf("%s holds %d images, none named %q: %w", archivePath, len(manifest), imageName, engine.ErrNotFound)
		}
	}
	m := manifest[pick]
	cfgData, err := index.read(f, m.Config, 64<<20)
	if err != nil {
		return nil, fmt.Errorf("%s: config %s: %w", archivePath, m.Config, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cfgData))
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", archivePath, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s: %d layers but the config lists %d: %w", archivePath, len(m.Layers), len(cfg.RootFS.DiffIDs), engine.ErrInvalidArgument)
	}
	inputs := make([]LayerInput, len(m.Layers))
	for i, name := range m.Layers {
		sec, ok := index.section(f, name)
		if !ok {
			return nil, fmt.Errorf("%s: layer %s is missing: %w", archivePath, name, engine.ErrInvalidArgument)
		}
		entries, size, err := layerEntries(sec)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		inputs[i] = LayerInput{DiffID: cfg.RootFS.DiffIDs[i].String(), Digest: digestOf(name), CompressedSize: sec.Size(), UncompressedSize: size, Entries: entries}
	}
	attachHistory(cfg, inputs)
	return Analyze(inputs), nil
}

// layerEntries lists a layer stored in the archive, compressed or not.
func layerEntries(sec *io.SectionReader) ([]Entry, int64, error) {
	magic := make([]byte, 6)
	sec.ReadAt(magic, 0)
	if iox.Detect(magic) == iox.None {
		e, err := EntriesFromTar(newWindowReader(sec, sec.Size())) // seekable: bodies are skipped
		return e, sec.Size(), err
	}
	zr, err := iox.Decompress(sec)
	if err != nil {
		return nil, 0, err
	}
	defer zr.Close()
	c := iox.NewCountingReader(zr)
	e, err := EntriesFromTar(c)
	return e, c.Count(), err
}

type archiveIndex map[string][2]int64 // name → offset, size

// indexArchive walks the outer tar's headers once (bodies skipped by
// seeking) and records where each entry's data lies.
func indexArchive(f *os.File) (archiveIndex, error) {
	idx := archiveIndex{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return idx, nil
		}
		if err != nil {
			return nil, err
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			idx[path.Clean(hdr.Name)] = [2]int64{off, hdr.Size}
		case tar.TypeSymlink, tar.TypeLink: // docker save links shared layers
			target := hdr.Linkname
			if hdr.Typeflag == tar.TypeSymlink {
				target = path.Join(path.Dir(hdr.Name), hdr.Linkname)
			}
			if loc, ok := idx[path.Clean(target)]; ok {
				idx[path.Clean(hdr.Name)] = loc
			}
		}
	}
}

func (idx archiveIndex) section(f *os.File, name string) (*io.SectionReader, bool) {
	loc, ok := idx[path.Clean(name)]
	if !ok {
		return nil, false
	}
	return io.NewSectionReader(f, loc[0], loc[1]), true
}

func (idx archiveIndex) read(f *os.File, name string, limit int64) ([]byte, error) {
	sec, ok := idx.section(f, name)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, engine.ErrNotFound)
	}
	if sec.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than %d: %w", name, sec.Size(), limit, engine.ErrInvalidArgument)
	}
	return io.ReadAll(sec)
}

// digestOf reads a layer's digest from its archive path where it carries
// one ("blobs/sha256/<hex>", "<hex>.tar.gz", "<hex>/layer.tar").
func digestOf(name string) string {
	for _, part := range strings.Split(name, "/") {
		hex := strings.SplitN(part, ".", 2)[0]
		if len(hex) == 64 && strings.Trim(hex, "0123456789abcdef") == "" {
			return "sha256:" + hex
		}
	}
	return ""
}
