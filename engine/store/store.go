package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	"github.com/berth-dev/berth/engine/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"golang.org/x/sync/singleflight"
)

// Store is an image store rooted at one directory. It is safe for
// concurrent use by many goroutines; one process may open a root at a time.
type Store struct {
	root   string
	lock   *os.File
	layout layout.Path
	opts   options

	mu     sync.RWMutex
	state  state
	leases map[string]int // digests an unfinished write needs; GC keeps them

	flights singleflight.Group // one writer per blob or layer at a time
}

// state is what state.json holds: every image and what it is called.
type state struct {
	Version int                     `json:"version"`
	Images  map[string]*imageRecord `json:"images"` // by image ID
	// LayerSizes are unpacked sizes in bytes by diff ID.
	LayerSizes map[string]int64 `json:"layerSizes"`
}

type imageRecord struct {
	ID       string `json:"id"`       // config digest
	Manifest string `json:"manifest"` // manifest digest
	// Names are canonical tag references ("docker.io/library/x:latest").
	Names []string `json:"names,omitempty"`
	// RepoDigests are canonical "repo@sha256:…" for registries that hold
	// this manifest.
	RepoDigests []string  `json:"repoDigests,omitempty"`
	Added       time.Time `json:"added"`
	LastTagTime time.Time `json:"lastTagTime,omitempty"`
}

const stateVersion = 1

// Option configures a Store.
type Option func(*options)

type options struct {
	publish func(engine.Event)
	inUse   func(imageID string) int
	roots   func() []string
	jobs    int
}

// WithRoots names digests (layers, blobs) that garbage collection keeps
// although no image refers to them, such as the build cache's layers.
func WithRoots(roots func() []string) Option {
	return func(o *options) { o.roots = roots }
}

// WithEvents sends image events (tag, untag, delete, load) to publish.
// Default: events are dropped.
func WithEvents(publish func(engine.Event)) Option {
	return func(o *options) { o.publish = publish }
}

// WithUsage tells the store how many containers use an image, so Remove
// refuses to delete an image in use. Default: no image is in use.
func WithUsage(count func(imageID string) int) Option {
	return func(o *options) { o.inUse = count }
}

// WithJobs sets how many layers are fetched and unpacked at once.
// Default: 4.
func WithJobs(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.jobs = n
		}
	}
}

// Open opens (creating if needed) the store at root and takes its lock.
// Leftovers of writes cut off by a crash are removed.
func Open(root string, opts ...Option) (*Store, error) {
	o := options{jobs: 4}
	for _, opt := range opts {
		opt(&o)
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	for _, dir := range []string{"blobs/sha256", "layers/sha256", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: %w", root, err)
		}
	}
	spreadSubdirs(filepath.Join(root, "tmp"))
	lock, err := lockFile(filepath.Join(root, "lock"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	s := &Store{root: root, lock: lock, layout: layout.Path(root), opts: o, leases: map[string]int{}}
	if err := s.recover(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	return s, nil
}

// Close releases the data root.
func (s *Store) Close() error { return s.lock.Close() }

// Root is the directory the store lives in.
func (s *Store) Root() string { return s.root }

// LayerPath is the directory holding the unpacked layer with diffID; it
// exists for every layer of every stored image.
func (s *Store) LayerPath(diffID string) string {
	return filepath.Join(s.root, "layers", "sha256", strings.TrimPrefix(diffID, "sha256:"))
}

func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func (s *Store) recover() error {
	tmp := filepath.Join(s.root, "tmp")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := removeAll(filepath.Join(tmp, e.Name())); err != nil {
			return fmt.Errorf("clear leftovers: %w", err)
		}
	}
	if err := iox.WriteFileAtomic(filepath.Join(s.root, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), tmp); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(s.root, "state.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.state = state{Version: stateVersion, Images: map[string]*imageRecord{}, LayerSizes: map[string]int64{}}
		return s.saveLocked()
	case err != nil:
		return err
	}
	if err := json.Unmarshal(data, &s.state); err != nil {
		return fmt.Errorf("state.json is damaged: %w", err)
	}
	if s.state.Images == nil {
		s.state.Images = map[string]*imageRecord{}
	}
	if s.state.LayerSizes == nil {
		s.state.LayerSizes = map[string]int64{}
	}
	// index.json is derived from state.json; rewrite it in case a crash
	// fell between the two.
	return s.writeIndexLocked()
}

// saveLocked persists the state. The caller holds s.mu for writing.
func (s *Store) saveLocked() error {
	data, err := json.MarshalIndent(s.state, "", "  ")
	if err != nil {
		return err
	}
	if err := iox.WriteFileAtomic(filepath.Join(s.root, "state.json"), data, filepath.Join(s.root, "tmp")); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return s.writeIndexLocked()
}

// writeIndexLocked writes index.json so OCI tools (skopeo, umoci) can read
// the store: one manifest descriptor per name, one unnamed per dangling image.
func (s *Store) writeIndexLocked() error {
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.index.v1+json", Manifests: []v1.Descriptor{}}
	ids := make([]string, 0, len(s.state.Images))
	for id := range s.state.Images {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rec := s.state.Images[id]
		desc, err := s.manifestDescriptor(rec.Manifest)
		if err != nil {
			return err
		}
		if len(rec.Names) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, n := range rec.Names {
			named := desc
			named.Annotations = map[string]string{"org.opencontainers.image.ref.name": n}
			index.Manifests = append(index.Manifests, named)
		}
	}
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	return iox.WriteFileAtomic(filepath.Join(s.root, "index.json"), data, filepath.Join(s.root, "tmp"))
}

func (s *Store) manifestDescriptor(digest string) (v1.Descriptor, error) {
	raw, err := os.ReadFile(s.blobPath(digest))
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("manifest %s: %w", digest, err)
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return v1.Descriptor{}, err
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(raw, &probe)
	mt := probe.MediaType
	if mt == "" {
		mt = "application/vnd.oci.image.manifest.v1+json"
	}
	return v1.Descriptor{MediaType: typesMediaType(mt), Digest: h, Size: int64(len(raw))}, nil
}

// resolveLocked finds the image a name means: a reference first (as docker
// does), then a full or abbreviated image ID. The caller holds s.mu.
func (s *Store) resolveLocked(nameOrID string) (*imageRecord, error) {
	if nameOrID == "" {
		return nil, notFound(nameOrID)
	}
	if ref, err := reference.Parse(nameOrID); err == nil {
		canon := reference.Canonical(ref)
		for _, rec := range s.state.Images {
			if slices.Contains(rec.Names, canon) || slices.Contains(rec.RepoDigests, canon) {
				return rec, nil
			}
		}
		if at := strings.Index(canon, "@"); at >= 0 {
			// A digest reference also finds an image stored under that
			// manifest digest in the same repository.
			repo, dg := canon[:at], canon[at+1:]
			for _, rec := range s.state.Images {
				if rec.Manifest == dg && rec.inRepo(repo) {
					return rec, nil
				}
			}
		}
	}
	id := strings.TrimPrefix(nameOrID, "sha256:")
	if len(id) == 0 || len(id) > 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return nil, notFound(nameOrID)
	}
	var found *imageRecord
	for full, rec := range s.state.Images {
		if strings.HasPrefix(strings.TrimPrefix(full, "sha256:"), id) {
			if found != nil {
				return nil, fmt.Errorf("%s names more than one image: %w", nameOrID, engine.ErrConflict)
			}
			found = rec
		}
	}
	if found == nil {
		return nil, notFound(nameOrID)
	}
	return found, nil
}

func (r *imageRecord) inRepo(repo string) bool {
	for _, n := range append(append([]string{}, r.Names...), r.RepoDigests...) {
		if reference.Repo(n) == repo {
			return true
		}
	}
	return false
}

// Resolve returns the image ID and manifest digest name refers to.
func (s *Store) Resolve(nameOrID string) (id, manifest string, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, err := s.resolveLocked(nameOrID)
	if err != nil {
		return "", "", err
	}
	return rec.ID, rec.Manifest, nil
}

// Image returns a stored image as a go-containerregistry image, for push and save.
func (s *Store) Image(nameOrID string) (v1.Image, error) {
	_, manifest, err := s.Resolve(nameOrID)
	if err != nil {
		return nil, err
	}
	h, err := v1.NewHash(manifest)
	if err != nil {
		return nil, err
	}
	img, err := s.layout.Image(h)
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", nameOrID, err)
	}
	return img, nil
}

// AddRepoDigest records that repository repo holds the image's manifest,
// as docker does after a push, so `docker images --digests` shows it.
func (s *Store) AddRepoDigest(imageID, repoDigest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.state.Images[imageID]
	if !ok {
		return notFound(imageID)
	}
	if slices.Contains(rec.RepoDigests, repoDigest) {
		return nil
	}
	rec.RepoDigests = append(rec.RepoDigests, repoDigest)
	return s.saveLocked()
}

func (s *Store) publish(action, id string, attrs map[string]string) {
	if s.opts.publish == nil {
		return
	}
	s.opts.publish(engine.Event{Type: "image", Action: action, ID: id, Attributes: attrs, Time: time.Now()})
}

// timeNow is the clock, in UTC so state.json reads the same everywhere.
func timeNow() time.Time { return time.Now().UTC() }

// Interface guards.
var _ engine.Images = (*Store)(nil)
