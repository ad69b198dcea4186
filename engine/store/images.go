package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/hashicorp/go-multierror"
)

// List returns every image, newest first.
func (s *Store) List(ctx context.Context) ([]engine.ImageSummary, error) {
	s.mu.RLock()
	recs := make([]*imageRecord, 0, len(s.state.Images))
	for _, rec := range s.state.Images {
		recs = append(recs, rec)
	}
	s.mu.RUnlock()
	out := make([]engine.ImageSummary, 0, len(recs))
	for _, rec := range recs {
		detail, err := s.detail(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, detail.ImageSummary)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Inspect describes the image name refers to.
func (s *Store) Inspect(ctx context.Context, nameOrID string) (engine.ImageDetail, error) {
	s.mu.RLock()
	rec, err := s.resolveLocked(nameOrID)
	s.mu.RUnlock()
	if err != nil {
		return engine.ImageDetail{}, err
	}
	return s.detail(rec)
}

func (s *Store) configFile(id string) (*v1.ConfigFile, error) {
	f, err := os.Open(s.blobPath(id))
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	defer f.Close()
	cfg, err := v1.ParseConfigFile(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	return cfg, nil
}

// detail reads an image's config; the record is copied under the lock.
func (s *Store) detail(rec *imageRecord) (engine.ImageDetail, error) {
	s.mu.RLock()
	r := *rec
	r.Names = append([]string(nil), rec.Names...)
	r.RepoDigests = append([]string(nil), rec.RepoDigests...)
	s.mu.RUnlock()
	cfg, err := s.configFile(r.ID)
	if err != nil {
		return engine.ImageDetail{}, err
	}
	d := engine.ImageDetail{
		ImageSummary: engine.ImageSummary{
			ID:         r.ID,
			Created:    cfg.Created.Time,
			Labels:     cfg.Config.Labels,
			Containers: -1,
		},
		Architecture:   cfg.Architecture,
		Variant:        cfg.Variant,
		OS:             cfg.OS,
		Author:         cfg.Author,
		ManifestDigest: r.Manifest,
		LastTagTime:    r.LastTagTime,
		Config: engine.ImageConfig{
			User:       cfg.Config.User,
			Env:        cfg.Config.Env,
			Entrypoint: cfg.Config.Entrypoint,
			Cmd:        cfg.Config.Cmd,
			WorkingDir: cfg.Config.WorkingDir,
			Labels:     cfg.Config.Labels,
			StopSignal: cfg.Config.StopSignal,
			OnBuild:    cfg.Config.OnBuild,
			Shell:      cfg.Config.Shell,
		},
	}
	if h := cfg.Config.Healthcheck; h != nil {
		d.Config.Healthcheck = &engine.HealthCheck{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	}
	for p := range cfg.Config.ExposedPorts {
		d.Config.ExposedPorts = append(d.Config.ExposedPorts, p)
	}
	sort.Strings(d.Config.ExposedPorts)
	for v := range cfg.Config.Volumes {
		d.Config.Volumes = append(d.Config.Volumes, v)
	}
	sort.Strings(d.Config.Volumes)
	for _, n := range r.Names {
		d.RepoTags = append(d.RepoTags, reference.Familiar(n))
	}
	sort.Strings(d.RepoTags)
	for _, n := range r.RepoDigests {
		d.RepoDigests = append(d.RepoDigests, reference.Familiar(n))
	}
	s.mu.RLock()
	for _, diffID := range cfg.RootFS.DiffIDs {
		d.Layers = append(d.Layers, diffID.String())
		d.Size += s.state.LayerSizes[diffID.String()]
	}
	s.mu.RUnlock()
	if s.opts.inUse != nil {
		d.Containers = s.opts.inUse(r.ID)
	}
	return d, nil
}

// History lists the steps that made an image, newest first. Steps that made
// a layer carry that layer's unpacked size.
func (s *Store) History(ctx context.Context, nameOrID string) ([]engine.HistoryItem, error) {
	detail, err := s.Inspect(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	cfg, err := s.configFile(detail.ID)
	if err != nil {
		return nil, err
	}
	history := cfg.History
	if len(history) == 0 {
		// Images made without history (some importers) get one step per layer.
		for range cfg.RootFS.DiffIDs {
			history = append(history, v1.History{Created: cfg.Created})
		}
	}
	var items []engine.HistoryItem
	layer := 0
	s.mu.RLock()
	for _, h := range history {
		item := engine.HistoryItem{ID: "<missing>", Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if !h.EmptyLayer && layer < len(cfg.RootFS.DiffIDs) {
			item.Size = s.state.LayerSizes[cfg.RootFS.DiffIDs[layer].String()]
			layer++
		}
		items = append(items, item)
	}
	s.mu.RUnlock()
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	if len(items) > 0 {
		items[0].ID = detail.ID
		items[0].Tags = detail.RepoTags
	}
	return items, nil
}

// Tag gives the image source refers to the name target.
func (s *Store) Tag(ctx context.Context, source, target string) error {
	ref, err := reference.Parse(target)
	if err != nil {
		return fmt.Errorf("tag %s: %w", target, err)
	}
	if strings.Contains(reference.Canonical(ref), "@") {
		return fmt.Errorf("tag %s: a tag cannot be a digest: %w", target, engine.ErrInvalidReference)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.resolveLocked(source)
	if err != nil {
		return err
	}
	if !s.moveNameLocked(reference.Canonical(ref), rec) {
		return nil
	}
	rec.LastTagTime = timeNow()
	if err := s.saveLocked(); err != nil {
		return err
	}
	s.publish("tag", rec.ID, map[string]string{"name": reference.Familiar(reference.Canonical(ref))})
	return nil
}

// Remove untags or deletes what nameOrID names, the way `docker rmi` does:
// a name is untagged and the image deleted when it was the last; an ID
// deletes the image with all its names, refused when several repositories
// name it unless force. An image a container uses is refused unless force.
func (s *Store) Remove(ctx context.Context, nameOrID string, force bool) ([]engine.DeleteResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.resolveLocked(nameOrID)
	if err != nil {
		return nil, err
	}
	byName := ""
	if ref, err := reference.Parse(nameOrID); err == nil {
		if canon := reference.Canonical(ref); slices.Contains(rec.Names, canon) || slices.Contains(rec.RepoDigests, canon) {
			byName = canon
		}
	}
	if n := s.usersLocked(rec.ID); n > 0 && !force && (byName == "" || len(rec.Names) <= 1) {
		return nil, fmt.Errorf("unable to remove %s: image is being used by %d container(s): %w", nameOrID, n, engine.ErrConflict)
	}
	var results []engine.DeleteResult
	if byName != "" && len(rec.Names) > 1 {
		rec.Names = slices.DeleteFunc(rec.Names, func(x string) bool { return x == byName })
		rec.RepoDigests = slices.DeleteFunc(rec.RepoDigests, func(x string) bool { return x == byName })
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
		s.publish("untag", rec.ID, map[string]string{"name": reference.Familiar(byName)})
		return []engine.DeleteResult{{Untagged: reference.Familiar(byName)}}, nil
	}
	if byName == "" && !force && len(distinctRepos(rec.Names)) > 1 {
		return nil, fmt.Errorf("unable to delete %s (must be forced): image is referenced in multiple repositories: %w", shortHex(rec.ID), engine.ErrConflict)
	}
	for _, n := range rec.Names {
		results = append(results, engine.DeleteResult{Untagged: reference.Familiar(n)})
	}
	for _, n := range rec.RepoDigests {
		results = append(results, engine.DeleteResult{Untagged: reference.Familiar(n)})
	}
	deleted, _, err := s.deleteLocked(rec)
	results = append(results, deleted...)
	return results, err
}

func (s *Store) usersLocked(id string) int {
	if s.opts.inUse == nil {
		return 0
	}
	return s.opts.inUse(id)
}

// deleteLocked forgets an image and removes the blobs and layers no other
// image (or unfinished write) needs. It returns what it deleted and the
// bytes freed. Files that cannot be removed are reported together; the
// image is gone from the state either way, and Prune retries the files.
func (s *Store) deleteLocked(rec *imageRecord) ([]engine.DeleteResult, int64, error) {
	delete(s.state.Images, rec.ID)
	if err := s.saveLocked(); err != nil {
		s.state.Images[rec.ID] = rec
		return nil, 0, err
	}
	for _, n := range rec.Names {
		s.publish("untag", rec.ID, map[string]string{"name": reference.Familiar(n)})
	}
	s.publish("delete", rec.ID, nil)
	freed, err := s.collectLocked()
	return []engine.DeleteResult{{Deleted: rec.ID}}, freed, err
}

// collectLocked removes every blob and unpacked layer that no image
// references and no write in progress leases.
func (s *Store) collectLocked() (int64, error) {
	keep := map[string]bool{}
	for d := range s.leases {
		keep[d] = true
	}
	if s.opts.roots != nil {
		for _, d := range s.opts.roots() {
			keep[d] = true
		}
	}
	var errs *multierror.Error
	for _, rec := range s.state.Images {
		keep[rec.ID], keep[rec.Manifest] = true, true
		img, err := s.layout.Image(mustHash(rec.Manifest))
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("image %s: %w", shortHex(rec.ID), err))
			return 0, errs.ErrorOrNil() // never collect when unsure what is used
		}
		m, err := img.Manifest()
		if err != nil {
			return 0, fmt.Errorf("image %s: %w", shortHex(rec.ID), err)
		}
		for _, l := range m.Layers {
			keep[l.Digest.String()] = true
		}
		cfg, err := s.configFile(rec.ID)
		if err != nil {
			return 0, err
		}
		for _, d := range cfg.RootFS.DiffIDs {
			keep[d.String()] = true
		}
	}
	var freed int64
	for _, kind := range []string{"blobs", "layers"} {
		dir := s.root + "/" + kind + "/sha256"
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		for _, e := range entries {
			digest := "sha256:" + e.Name()
			if keep[digest] {
				continue
			}
			if kind == "blobs" {
				if info, err := e.Info(); err == nil {
					freed += info.Size()
				}
			} else {
				freed += s.state.LayerSizes[digest]
				delete(s.state.LayerSizes, digest)
			}
			if err := removeAll(dir + "/" + e.Name()); err != nil {
				errs = multierror.Append(errs, fmt.Errorf("remove %s: %w", digest, err))
			}
		}
	}
	if err := s.saveLocked(); err != nil {
		errs = multierror.Append(errs, err)
	}
	return freed, errs.ErrorOrNil()
}

// Prune deletes dangling images (all=false) or every image no container
// uses (all=true), then any blob or layer nothing references.
func (s *Store) Prune(ctx context.Context, all bool) (engine.PruneReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var report engine.PruneReport
	for _, rec := range s.state.Images {
		// Dangling: no tag and no repository digest. An image pulled by
		// digest has no tag but still belongs to its repository.
		dangling := len(rec.Names) == 0 && len(rec.RepoDigests) == 0
		if (!dangling && !all) || s.usersLocked(rec.ID) > 0 {
			continue
		}
		for _, n := range append(append([]string{}, rec.Names...), rec.RepoDigests...) {
			report.Deleted = append(report.Deleted, engine.DeleteResult{Untagged: reference.Familiar(n)})
		}
		delete(s.state.Images, rec.ID)
		report.Deleted = append(report.Deleted, engine.DeleteResult{Deleted: rec.ID})
		s.publish("delete", rec.ID, nil)
	}
	freed, err := s.collectLocked()
	report.SpaceReclaimed = freed
	if len(report.Deleted) > 0 || freed > 0 {
		s.publish("prune", "", map[string]string{"reclaimed": fmt.Sprint(freed)})
	}
	return report, err
}

func distinctRepos(names []string) map[string]bool {
	repos := map[string]bool{}
	for _, n := range names {
		repos[reference.Repo(n)] = true
	}
	return repos
}

func shortHex(id string) string {
	h := strings.TrimPrefix(id, "sha256:")
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func mustHash(s string) v1.Hash {
	h, _ := v1.NewHash(s)
	return h
}
