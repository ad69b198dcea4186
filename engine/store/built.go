package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// Layer is a layer the store holds: its compressed blob and its unpacked
// directory. A builder keeps these to make images from.
type Layer struct {
	DiffID string `json:"diffID"` // sha256 of the uncompressed tar
	Digest string `json:"digest"` // sha256 of the gzip blob
	Size   int64  `json:"size"`   // bytes of the gzip blob
	// Unpacked is the bytes of file content in the layer.
	Unpacked int64 `json:"unpacked"`
	// Biggest are its largest files, largest first (for "what did this
	// line add"); empty for layers made before Berth kept them.
	Biggest []engine.PathSize `json:"biggest,omitempty"`
}

// packed is what packDir wrote.
type packed struct {
	entries int
	content int64
	biggest []engine.PathSize
}

// biggestKept is how many of a layer's largest files are kept.
const biggestKept = 3

// noteSize keeps path among the biggest files when it is one.
func (p *packed) noteSize(path string, size int64) {
	if len(p.biggest) == biggestKept && size <= p.biggest[biggestKept-1].Size {
		return
	}
	i, _ := slices.BinarySearchFunc(p.biggest, size, func(e engine.PathSize, size int64) int { return cmp.Compare(size, e.Size) })
	p.biggest = slices.Insert(p.biggest, i, engine.PathSize{Path: path, Size: size})
	if len(p.biggest) > biggestKept {
		p.biggest = p.biggest[:biggestKept]
	}
}

// TempDir makes an empty directory on the store's filesystem for a layer
// being made (a RUN step's overlayfs upper directory, the files a COPY
// writes), so AddLayer can move it into place without copying. It is
// removed when the store is next opened if nobody adds it.
func (s *Store) TempDir(prefix string) (string, error) {
	return os.MkdirTemp(filepath.Join(s.root, "tmp"), prefix)
}

// AddLayer turns dir, a layer in the store's unpacked form (overlayfs
// whiteouts), into a stored layer: the tar stream is written once, hashed
// for the diff ID and gzip-compressed into a blob, and dir is moved under
// layers/. dir must come from TempDir. A directory with nothing in it is
// no layer: AddLayer removes it and reports ok=false, as Docker's builder
// drops empty layers. The layer is leased (kept from garbage collection)
// until the caller calls release, by when an image or a root (WithRoots)
// should name it.
func (s *Store) AddLayer(ctx context.Context, dir string) (layer Layer, ok bool, release func(), err error) {
	defer func() {
		if !ok {
			removeAll(dir)
		}
	}()
	blob, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "blob-")
	if err != nil {
		return Layer{}, false, nil, fmt.Errorf("add layer: %w", err)
	}
	defer os.Remove(blob.Name())
	defer blob.Close()

	diffHash, blobHash := sha256.New(), sha256.New()
	counted := iox.NewCountingWriter(io.MultiWriter(blob, blobHash))
	gz, _ := gzip.NewWriterLevel(counted, gzip.BestSpeed)
	packed, err := packDir(ctx, dir, io.MultiWriter(diffHash, gz))
	if err != nil {
		return Layer{}, false, nil, fmt.Errorf("add layer: %w", err)
	}
	unpacked := packed.content
	if packed.entries == 0 {
		return Layer{}, false, nil, nil
	}
	if err := gz.Close(); err != nil {
		return Layer{}, false, nil, fmt.Errorf("add layer: %w", err)
	}
	layer = Layer{DiffID: sum(diffHash), Digest: sum(blobHash), Size: counted.Count(), Unpacked: unpacked, Biggest: packed.biggest}
	release = s.Lease(layer.DiffID, layer.Digest)
	defer func() {
		if err != nil {
			release()
		}
	}()
	if err := blob.Sync(); err != nil {
		return Layer{}, false, nil, fmt.Errorf("add layer: %w", err)
	}
	if err := os.Rename(blob.Name(), s.blobPath(layer.Digest)); err != nil {
		return Layer{}, false, nil, fmt.Errorf("add layer: %w", err)
	}
	if err := syncFS(dir); err != nil {
		return Layer{}, false, nil, fmt.Errorf("add layer: %w", err)
	}
	target := s.LayerPath(layer.DiffID)
	if _, err := os.Stat(target); err == nil {
		removeAll(dir) // the same content made before (a build without cache)
	} else if err := os.Rename(dir, target); err != nil && !errors.Is(err, os.ErrExist) {
		return Layer{}, false, nil, fmt.Errorf("add layer: %w", err)
	}
	s.mu.Lock()
	s.state.LayerSizes[layer.DiffID] = unpacked
	s.mu.Unlock()
	return layer, true, release, nil
}

// HasLayer reports whether the blob and the unpacked directory of l are
// both present (a cache entry may outlive them after a prune).
func (s *Store) HasLayer(l Layer) bool {
	_, blobErr := os.Stat(s.blobPath(l.Digest))
	_, dirErr := os.Stat(s.LayerPath(l.DiffID))
	return blobErr == nil && dirErr == nil
}

// Lease keeps digests (blobs, layers, images) from garbage collection
// until the returned function is called.
func (s *Store) Lease(digests ...string) (release func()) {
	s.lease(digests)
	return func() { s.release(digests) }
}

// Commit records an image made from layers the store holds and cfg (whose
// RootFS the store fills in), under names. It returns the image ID. The
// same config always gives the same ID, so a rebuild that changed nothing
// gives back the image it gave before.
func (s *Store) Commit(ctx context.Context, cfg v1.ConfigFile, layers []Layer, names []string) (string, error) {
	canon, err := canonicalNames(names)
	if err != nil {
		return "", err
	}
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}}
	manifest := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Layers: []v1.Descriptor{}}
	var digests []string
	for _, l := range layers {
		if !s.HasLayer(l) {
			return "", fmt.Errorf("commit: layer %s is missing from the store: %w", l.DiffID, errMissingLayer)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, mustHash(l.DiffID))
		manifest.Layers = append(manifest.Layers, v1.Descriptor{MediaType: types.OCILayer, Size: l.Size, Digest: mustHash(l.Digest)})
		digests = append(digests, l.DiffID, l.Digest)
	}
	rawConfig, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	configDigest := digestOf(rawConfig)
	manifest.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(rawConfig)), Digest: configDigest}
	rawManifest, err := json.Marshal(manifest)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	manifestDigest := digestOf(rawManifest)
	digests = append(digests, configDigest.String(), manifestDigest.String())
	s.lease(digests)
	defer s.release(digests)
	if err := s.putSmallBlob(configDigest, rawConfig); err != nil {
		return "", err
	}
	if err := s.putSmallBlob(manifestDigest, rawManifest); err != nil {
		return "", err
	}
	id := configDigest.String()
	if err := s.record(id, manifestDigest.String(), canon, ""); err != nil {
		return "", err
	}
	s.publish("build", id, nil)
	return id, nil
}

// ConfigFile is the image config of a stored image.
func (s *Store) ConfigFile(nameOrID string) (*v1.ConfigFile, []Layer, error) {
	img, err := s.Image(nameOrID)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, nil, err
	}
	if len(m.Layers) != len(cfg.RootFS.DiffIDs) {
		return nil, nil, fmt.Errorf("image %s: manifest and config disagree on layers", nameOrID)
	}
	layers := make([]Layer, len(m.Layers))
	s.mu.RLock()
	for i, d := range m.Layers {
		diffID := cfg.RootFS.DiffIDs[i].String()
		layers[i] = Layer{DiffID: diffID, Digest: d.Digest.String(), Size: d.Size, Unpacked: s.state.LayerSizes[diffID]}
	}
	s.mu.RUnlock()
	return cfg, layers, nil
}

var errMissingLayer = errors.New("missing layer")

func digestOf(b []byte) v1.Hash {
	h := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h[:])}
}

func sum(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

// Collect removes blobs and layers nothing uses (no image, lease or
// root) and returns the bytes freed.
func (s *Store) Collect() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.collectLocked()
}
