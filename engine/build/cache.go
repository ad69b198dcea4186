package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// cacheEntry is the result of one step.
type cacheEntry struct {
	Layer  *store.Layer  `json:"layer,omitempty"` // nil: the step changed only metadata
	Config v1.ConfigFile `json:"config"`          // the image config after the step
	Used   time.Time     `json:"used"`
}

// cache maps step keys to results, persisted in one JSON file.
type cache struct {
	path string

	mu      sync.Mutex
	entries map[string]*cacheEntry
	dirty   bool
}

func openCache(path string) (*cache, error) {
	c := &cache{path: path, entries: map[string]*cacheEntry{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("build cache: %w", err)
	}
	if err := json.Unmarshal(data, &c.entries); err != nil {
		// A damaged cache costs a rebuild, never a failure.
		c.entries = map[string]*cacheEntry{}
	}
	return c, nil
}

func (c *cache) get(key string) (*cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if ok {
		e.Used = time.Now().UTC()
		c.dirty = true
	}
	return e, ok
}

func (c *cache) put(key string, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.Used = time.Now().UTC()
	c.entries[key] = e
	c.dirty = true
}

func (c *cache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
	c.dirty = true
}

// save writes the cache if it changed: a temporary file renamed over the
// old one, so a crash leaves one or the other.
func (c *cache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return nil
	}
	data, err := json.Marshal(c.entries)
	if err != nil {
		return err
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	c.dirty = false
	return nil
}

// digests are the layers the cache holds, for the store's collector.
func (c *cache) digests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.entries {
		if e.Layer != nil {
			out = append(out, e.Layer.DiffID, e.Layer.Digest)
		}
	}
	return out
}

// clear forgets every entry and returns the layers they held.
func (c *cache) clear() (keys []string, layers map[string]store.Layer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	layers = map[string]store.Layer{}
	for k, e := range c.entries {
		keys = append(keys, k)
		if e.Layer != nil {
			layers[e.Layer.DiffID] = *e.Layer
		}
	}
	c.entries = map[string]*cacheEntry{}
	c.dirty = true
	return keys, layers
}

// keyOf hashes the parts of a step's identity.
func keyOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func cachePath(dir string) string { return filepath.Join(dir, "cache.json") }

// usage lists the entries that hold a layer, for docker system df.
func (c *cache) usage() []engine.BuildCacheUsage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []engine.BuildCacheUsage
	for key, e := range c.entries {
		if e.Layer == nil {
			continue
		}
		u := engine.BuildCacheUsage{ID: key[:12], Size: e.Layer.Unpacked, LastUsed: e.Used}
		if n := len(e.Config.History); n > 0 {
			u.Description = strings.TrimSuffix(e.Config.History[n-1].CreatedBy, " # buildkit")
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b engine.BuildCacheUsage) int { return strings.Compare(a.ID, b.ID) })
	return out
}
