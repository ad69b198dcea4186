package build

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// CacheLabel is the label of a cache image (docker build --cache-to), or
// of an image carrying its own cache (type=inline), that holds the
// entries.
const CacheLabel = "dev.berth.build-cache.v1"

// cachedStep is one cache entry as a cache image carries it: the step's
// layer by diff ID (among the image's layers), and the config after it.
type cachedStep struct {
	Layer  string        `json:"layer,omitempty"`
	Config v1.ConfigFile `json:"config"`
}

// ExportCache records in the store, as an image named name ("": unnamed), the cache
// entries of keys (a build's steps, BuildResult.CacheKeys): their layers
// are its layers, and its CacheLabel maps each key to its step. The caller
// pushes it (--cache-to type=registry) or writes it out (type=local), then
// removes it; the layers stay, as the cache's.
func (b *Builder) ExportCache(ctx context.Context, keys []string, name string) (string, error) {
	label, layers, err := b.cacheLabel(keys, nil)
	if err != nil {
		return "", err
	}
	cfg := v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{Labels: map[string]string{CacheLabel: label}}}
	var names []string
	if name != "" {
		names = []string{name}
	}
	id, err := b.store.Commit(ctx, cfg, layers, names)
	if err != nil {
		return "", fmt.Errorf("export the build cache: %w", err)
	}
	return id, nil
}

// WithInlineCache records the image again with the cache entries of keys
// whose layers it holds (a single stage's steps: BuildKit's mode=min) in
// its CacheLabel, under names, for --cache-to type=inline: the image
// carries its own cache, and --cache-from its name finds it. It returns
// the new image's ID.
func (b *Builder) WithInlineCache(ctx context.Context, image string, keys []string, names []string) (string, error) {
	cfg, layers, err := b.store.ConfigFile(image)
	if err != nil {
		return "", err
	}
	has := map[string]bool{}
	for _, l := range layers {
		has[l.DiffID] = true
	}
	label, _, err := b.cacheLabel(keys, has)
	if err != nil {
		return "", err
	}
	withCache := *cfg.DeepCopy()
	withCache.Config.Labels = mergeMap(withCache.Config.Labels, map[string]string{CacheLabel: label})
	id, err := b.store.Commit(ctx, withCache, layers, names)
	if err != nil {
		return "", fmt.Errorf("add the inline cache: %w", err)
	}
	return id, nil
}

// cacheLabel is the CacheLabel value for the cache entries of keys, and
// their layers (each once, in order). With only set, an entry whose layer
// is not among it is left out.
func (b *Builder) cacheLabel(keys []string, only map[string]bool) (string, []store.Layer, error) {
	steps := map[string]cachedStep{}
	var layers []store.Layer
	seen := map[string]bool{}
	for _, k := range keys {
		e, ok := b.cache.get(k)
		if !ok || e.Layer != nil && only != nil && !only[e.Layer.DiffID] {
			continue
		}
		step := cachedStep{Config: e.Config}
		if e.Layer != nil {
			step.Layer = e.Layer.DiffID
			if !seen[e.Layer.DiffID] {
				seen[e.Layer.DiffID] = true
				layers = append(layers, *e.Layer)
			}
		}
		steps[k] = step
	}
	label, err := json.Marshal(steps)
	return string(label), layers, err
}

// ImportCache takes the entries of a cache image in the store (pulled or
// loaded for --cache-from) into the build cache, and returns how many it
// took. An image that is no Berth build cache is refused.
func (b *Builder) ImportCache(image string) (int, error) {
	cfg, layers, err := b.store.ConfigFile(image)
	if err != nil {
		return 0, err
	}
	raw, ok := cfg.Config.Labels[CacheLabel]
	if !ok {
		return 0, fmt.Errorf("%s is not a build cache Berth exported (docker build --cache-to on Berth): %w", image, engine.ErrInvalidArgument)
	}
	var steps map[string]cachedStep
	if err := json.Unmarshal([]byte(raw), &steps); err != nil {
		return 0, fmt.Errorf("%s: a damaged build cache: %w: %w", image, err, engine.ErrInvalidArgument)
	}
	byDiffID := map[string]store.Layer{}
	for _, l := range layers {
		byDiffID[l.DiffID] = l
	}
	n := 0
	for k, s := range steps {
		if _, have := b.cache.get(k); have {
			continue
		}
		e := &cacheEntry{Config: s.Config}
		if s.Layer != "" {
			l, ok := byDiffID[s.Layer]
			if !ok {
				continue // an entry without its layer: skipped, not trusted
			}
			e.Layer = &l
		}
		b.cache.put(k, e)
		n++
	}
	return n, b.cache.save()
}
