package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	"github.com/berth-dev/berth/engine/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// PutOptions say what to call an image being stored and whom to tell.
type PutOptions struct {
	// Names are tag references to point at the image (moved from any image
	// that had them, which may leave that image dangling).
	Names []string
	// RepoDigest, when set, records "repo@sha256:…" for the manifest.
	RepoDigest string
	// Progress receives per-layer events.
	Progress engine.ProgressFunc
}

// MaxConfigSize bounds an image's config and manifest (8 MiB: real ones
// are a few kB; Docker Hub's largest are well under 1 MiB).
const MaxConfigSize = 8 << 20

// Put stores img: every blob verified against its digest, every layer
// unpacked and checked against its diff ID, then the image and its names
// recorded in one step. Blobs and layers already present are reused, so a
// pull cut off earlier resumes where it stopped. It returns the image ID.
func (s *Store) Put(ctx context.Context, img v1.Image, opts PutOptions) (string, error) {
	manifestDigest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("read manifest: %w", err)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return "", fmt.Errorf("read manifest: %w", err)
	}
	configName, err := img.ConfigName()
	if err != nil {
		return "", fmt.Errorf("read config digest: %w", err)
	}
	// A config is read whole into memory: bounded, as a lying registry or
	// archive could announce gigabytes.
	if m, err := img.Manifest(); err == nil && m.Config.Size > MaxConfigSize {
		return "", fmt.Errorf("the image's config is %d bytes; Berth reads configs of up to %d: %w", m.Config.Size, MaxConfigSize, engine.ErrInvalidArgument)
	}
	if len(rawManifest) > MaxConfigSize {
		return "", fmt.Errorf("the image's manifest is %d bytes; Berth reads manifests of up to %d: %w", len(rawManifest), MaxConfigSize, engine.ErrInvalidArgument)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return "", fmt.Errorf("read config: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("parse config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return "", fmt.Errorf("read layers: %w", err)
	}
	if len(layers) != len(cfg.RootFS.DiffIDs) {
		return "", fmt.Errorf("manifest has %d layers but config lists %d diff IDs: %w", len(layers), len(cfg.RootFS.DiffIDs), engine.ErrInvalidArgument)
	}
	names, err := canonicalNames(opts.Names)
	if err != nil {
		return "", err
	}

	digests := []string{manifestDigest.String(), configName.String()}
	for i, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return "", fmt.Errorf("layer %d digest: %w", i, err)
		}
		digests = append(digests, d.String(), cfg.RootFS.DiffIDs[i].String())
	}
	s.lease(digests)
	defer s.release(digests)

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.jobs)
	for i, l := range layers {
		diffID := cfg.RootFS.DiffIDs[i]
		g.Go(func() error { return s.putLayer(gctx, l, diffID, opts.Progress) })
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	// Config and manifest last: their presence says the layers are complete.
	if err := s.putSmallBlob(configName, rawConfig); err != nil {
		return "", err
	}
	if err := s.putSmallBlob(manifestDigest, rawManifest); err != nil {
		return "", err
	}
	id := configName.String()
	return id, s.record(id, manifestDigest.String(), names, opts.RepoDigest)
}

func canonicalNames(in []string) ([]string, error) {
	var out []string
	for _, n := range in {
		ref, err := reference.Parse(n)
		if err != nil {
			return nil, err
		}
		out = append(out, reference.Canonical(ref))
	}
	return out, nil
}

// record makes the image visible under its names in one state write.
func (s *Store) record(id, manifest string, names []string, repoDigest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	rec, ok := s.state.Images[id]
	if !ok {
		rec = &imageRecord{ID: id, Added: now}
		s.state.Images[id] = rec
	}
	rec.Manifest = manifest
	var moved []string
	for _, n := range names {
		if s.moveNameLocked(n, rec) {
			moved = append(moved, n)
		}
	}
	if len(names) > 0 {
		rec.LastTagTime = now
	}
	if repoDigest != "" && !slices.Contains(rec.RepoDigests, repoDigest) {
		rec.RepoDigests = append(rec.RepoDigests, repoDigest)
	}
	if err := s.saveLocked(); err != nil {
		return err
	}
	for _, n := range moved {
		s.publish("tag", id, map[string]string{"name": reference.Familiar(n)})
	}
	return nil
}

// moveNameLocked points name at rec, taking it from any other image.
// It reports whether anything changed.
func (s *Store) moveNameLocked(name string, rec *imageRecord) bool {
	if slices.Contains(rec.Names, name) {
		return false
	}
	for _, other := range s.state.Images {
		if other != rec && slices.Contains(other.Names, name) {
			other.Names = slices.DeleteFunc(other.Names, func(x string) bool { return x == name })
			s.publish("untag", other.ID, map[string]string{"name": reference.Familiar(name)})
		}
	}
	rec.Names = append(rec.Names, name)
	return true
}

func (s *Store) lease(digests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range digests {
		s.leases[d]++
	}
}

func (s *Store) release(digests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range digests {
		if s.leases[d]--; s.leases[d] <= 0 {
			delete(s.leases, d)
		}
	}
}

func (s *Store) putSmallBlob(digest v1.Hash, data []byte) error {
	if sum := sha256.Sum256(data); "sha256:"+hex.EncodeToString(sum[:]) != digest.String() {
		return fmt.Errorf("blob %s: %w", digest, engine.ErrDigestMismatch)
	}
	if _, err := os.Stat(s.blobPath(digest.String())); err == nil {
		return nil
	}
	if err := iox.WriteFileAtomic(s.blobPath(digest.String()), data, filepath.Join(s.root, "tmp")); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	return nil
}

func shortID(d v1.Hash) string {
	if len(d.Hex) > 12 {
		return d.Hex[:12]
	}
	return d.Hex
}

// putLayer makes sure the compressed blob and the unpacked layer exist.
// When both are missing, the download and the unpacking run at the same
// time: the unpacker follows the blob file as it grows, so a layer is ready
// moments after its last byte arrives, and a slow disk never stalls the
// network (the download writes at its own pace).
func (s *Store) putLayer(ctx context.Context, layer v1.Layer, diffID v1.Hash, progress engine.ProgressFunc) error {
	digest, err := layer.Digest()
	if err != nil {
		return err
	}
	id := shortID(digest)
	// One writer per layer: a concurrent pull of an image that shares it
	// waits for that work. A waiter that shared a failure it did not
	// cause (the other pull was cancelled) tries again itself.
	for {
		leader := false
		_, err, _ := s.flights.Do(digest.String(), func() (any, error) {
			leader = true
			return nil, s.fetchLayer(ctx, layer, digest, diffID, id, progress)
		})
		switch {
		case leader || ctx.Err() != nil:
			return err
		case err == nil:
			progress.Report(engine.Progress{ID: id, Status: engine.ProgressAlreadyExists})
			return nil
		}
	}
}

// fetchLayer stores a layer: nothing to do when it is there, an unpack
// when only its blob is, else a download and an unpack.
func (s *Store) fetchLayer(ctx context.Context, layer v1.Layer, digest v1.Hash, diffID v1.Hash, id string, progress engine.ProgressFunc) error {
	blobPath, layerDir := s.blobPath(digest.String()), s.LayerPath(diffID.String())
	_, blobErr := os.Stat(blobPath)
	_, layerErr := os.Stat(layerDir)
	haveBlob, haveLayer := blobErr == nil, layerErr == nil
	size, _ := layer.Size()
	switch {
	case haveBlob && haveLayer:
		progress.Report(engine.Progress{ID: id, Status: engine.ProgressAlreadyExists})
		return nil
	case haveBlob:
		// Resume: the download finished before, the unpack did not.
		progress.Report(engine.Progress{ID: id, Status: engine.ProgressExtracting, Total: size})
		f, err := os.Open(blobPath)
		if err != nil {
			return err
		}
		defer f.Close()
		return s.unpackLayer(ctx, f, func() {}, diffID, id, size, progress)
	}
	progress.Report(engine.Progress{ID: id, Status: engine.ProgressWaiting, Total: size})
	return s.downloadAndUnpack(ctx, layer, digest, size, diffID, id, haveLayer, progress)
}

func (s *Store) downloadAndUnpack(ctx context.Context, layer v1.Layer, digest v1.Hash, size int64, diffID v1.Hash, id string, haveLayer bool, progress engine.ProgressFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tmp, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "blob-")
	if err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	grow := newGrowth()
	unpacked := make(chan error, 1)
	if haveLayer {
		unpacked <- nil
	} else {
		follower, err := os.Open(tmp.Name())
		if err != nil {
			return err
		}
		defer follower.Close()
		go func() {
			err := s.unpackLayer(ctx, &followReader{f: follower, g: grow}, grow.abort, diffID, id, size, nil)
			if err != nil {
				cancel() // no point downloading what cannot be unpacked
			}
			unpacked <- err
		}()
	}

	dlErr := s.download(ctx, layer, digest, size, tmp, grow, id, progress)
	grow.finish(dlErr)
	if dlErr == nil {
		progress.Report(engine.Progress{ID: id, Status: engine.ProgressDownloaded, Current: size, Total: size})
	}
	upErr := <-unpacked
	if dlErr != nil {
		// The unpacker's error (usually "cancelled") says less than this one.
		if upErr != nil && !errors.Is(upErr, context.Canceled) && !errors.Is(dlErr, engine.ErrDigestMismatch) {
			return upErr
		}
		return dlErr
	}
	if upErr != nil {
		return upErr
	}
	if err := os.Rename(tmp.Name(), s.blobPath(digest.String())); err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	progress.Report(engine.Progress{ID: id, Status: engine.ProgressPullComplete})
	return nil
}

// download copies the compressed layer into tmp, hashing as it goes, and
// fails with ErrDigestMismatch unless the bytes are exactly the announced blob.
func (s *Store) download(ctx context.Context, layer v1.Layer, digest v1.Hash, size int64, tmp *os.File, grow *growth, id string, progress engine.ProgressFunc) error {
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	defer rc.Close()
	h := sha256.New()
	w := &progressWriter{w: io.MultiWriter(tmp, h), grow: grow, id: id, total: size, progress: progress}
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(w, &ctxReader{ctx: ctx, r: rc}, buf); err != nil {
		return fmt.Errorf("layer %s: download: %w", id, err)
	}
	w.flush()
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest.String() {
		return fmt.Errorf("layer %s: registry sent content with digest %s instead of %s: %w", id, got, digest, engine.ErrDigestMismatch)
	}
	if size > 0 && w.done != size {
		return fmt.Errorf("layer %s: got %d bytes, want %d: %w", id, w.done, size, engine.ErrDigestMismatch)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	return nil
}

// unpackLayer decompresses r into a fresh directory, checks the result's
// diff ID, and renames it into place. stop makes a Read of r that is
// waiting for more input return, so a failed unpack ends at once.
func (s *Store) unpackLayer(ctx context.Context, r io.Reader, stop func(), diffID v1.Hash, id string, size int64, progress engine.ProgressFunc) error {
	dir, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "layer-")
	if err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	defer removeAll(dir)
	counted := iox.NewCountingReader(r)
	plain, err := iox.Decompress(counted)
	if err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	defer plain.Close()
	h := sha256.New()
	tee := newReadahead(&hashingReader{r: plain, h: h})
	defer tee.Close() // waits for the read-ahead goroutine, before plain.Close
	defer stop()      // runs first: frees a read-ahead waiting on the download
	unpackedSize, err := unpack(ctx, tee, dir)
	if err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	// Tar archives end with padding the tar reader never asks for; the
	// diff ID covers it, so read the stream to its end.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID.String() {
		return fmt.Errorf("layer %s: unpacked content has digest %s, image config says %s: %w", id, got, diffID, engine.ErrDigestMismatch)
	}
	if err := syncFS(dir); err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	if err := os.Rename(dir, s.LayerPath(diffID.String())); err != nil && !errors.Is(err, os.ErrExist) {
		if _, statErr := os.Stat(s.LayerPath(diffID.String())); statErr != nil {
			return fmt.Errorf("layer %s: %w", id, err)
		}
	}
	s.mu.Lock()
	s.state.LayerSizes[diffID.String()] = unpackedSize
	s.mu.Unlock()
	progress.Report(engine.Progress{ID: id, Status: engine.ProgressPullComplete, Current: counted.Count(), Total: size})
	return nil
}

// progressWriter counts bytes, wakes the unpacker, and reports progress at
// most every 100 ms so a fast pull does not flood the client.
type progressWriter struct {
	w        io.Writer
	grow     *growth
	id       string
	done     int64
	total    int64
	last     time.Time
	progress engine.ProgressFunc
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.grow.add(int64(n))
	if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond {
		p.last = now
		p.flush()
	}
	return n, err
}

func (p *progressWriter) flush() {
	p.progress.Report(engine.Progress{ID: p.id, Status: engine.ProgressDownloading, Current: p.done, Total: p.total})
}

// growth tracks how much of a file being downloaded is on disk.
type growth struct {
	mu      sync.Mutex
	cond    *sync.Cond
	size    int64
	done    bool
	err     error
	aborted bool // the reader gave up; it must not wait any more
}

func newGrowth() *growth {
	g := &growth{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *growth) add(n int64) {
	g.mu.Lock()
	g.size += n
	g.mu.Unlock()
	g.cond.Broadcast()
}

// errReaderStopped ends a followReader whose consumer has stopped.
var errReaderStopped = errors.New("unpack stopped")

func (g *growth) abort() {
	g.mu.Lock()
	g.aborted = true
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *growth) finish(err error) {
	g.mu.Lock()
	g.done, g.err = true, err
	g.mu.Unlock()
	g.cond.Broadcast()
}

// followReader reads a file that another goroutine is still writing,
// waiting for more bytes until the writer finishes (the writer always
// calls finish, also when cancelled, so a reader never waits forever).
type followReader struct {
	f   *os.File
	g   *growth
	off int64
}

func (r *followReader) Read(p []byte) (int, error) {
	r.g.mu.Lock()
	for r.off >= r.g.size && !r.g.done && !r.g.aborted {
		r.g.cond.Wait()
	}
	size, done, werr, aborted := r.g.size, r.g.done, r.g.err, r.g.aborted
	r.g.mu.Unlock()
	if aborted {
		return 0, errReaderStopped
	}
	if r.off >= size {
		if werr != nil {
			return 0, werr
		}
		if done {
			return 0, io.EOF
		}
	}
	if avail := size - r.off; int64(len(p)) > avail {
		p = p[:avail]
	}
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}
