package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
)

// ImageRow is one line of the gallery: an image under one of its names
// (an image with two tags shows twice, as `docker images` does).
type ImageRow struct {
	ID, ShortID string
	Repository  string // "<none>" for a dangling image
	Tag         string
	Ref         string // what to call it in actions: repo:tag, or the ID
	Size        int64
	Created     time.Time
	Containers  int
	Dangling    bool
	// Update: the registry's tag now names another image (CheckUpdates).
	Update bool
}

// Sort keys for the gallery.
const (
	SortCreated = "created"
	SortName    = "name"
	SortSize    = "size"
)

// Images holds the gallery's state: the engine's images, the filter and
// the sort. Views read Rows and register OnChange; every method is safe
// from any goroutine and never touches widgets.
type Images struct {
	eng engine.Images
	reg engine.Registry

	mu       sync.Mutex
	all      []engine.ImageSummary
	filter   string
	dangling bool
	sortBy   string
	err      error
	watchers observers
	// updates are the tags whose registry names another image now.
	updates map[string]string
}

// NewImages makes the gallery's state over an engine.
func NewImages(eng engine.Images, reg engine.Registry) *Images {
	return &Images{eng: eng, reg: reg, sortBy: SortCreated}
}

// OnChange registers fn to run (on the caller's goroutine of the change)
// after the rows change.
func (s *Images) OnChange(fn func()) { s.watchers.add(fn) }

func (s *Images) changed() { s.watchers.notify() }

// Refresh reloads the list from the engine.
func (s *Images) Refresh(ctx context.Context) error {
	list, err := s.eng.List(ctx)
	s.mu.Lock()
	if err == nil {
		s.all = list
	}
	s.err = err
	s.mu.Unlock()
	s.changed()
	return err
}

// Err is the last refresh's error, worded for people, or "".
func (s *Images) Err() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return ""
	}
	return Explain(s.err)
}

// SetFilter shows only rows whose name, tag or ID contain text.
func (s *Images) SetFilter(text string) {
	s.mu.Lock()
	s.filter = strings.ToLower(strings.TrimSpace(text))
	s.mu.Unlock()
	s.changed()
}

// SetShowDangling shows or hides untagged images.
func (s *Images) SetShowDangling(on bool) {
	s.mu.Lock()
	s.dangling = on
	s.mu.Unlock()
	s.changed()
}

// SetSort orders rows by SortCreated (newest first), SortName or SortSize
// (biggest first).
func (s *Images) SetSort(key string) {
	s.mu.Lock()
	s.sortBy = key
	s.mu.Unlock()
	s.changed()
}

// Rows are the images to show, filtered and sorted.
func (s *Images) Rows() []ImageRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []ImageRow
	for _, img := range s.all {
		short := ShortID(img.ID)
		if len(img.RepoTags) == 0 {
			if !s.dangling {
				continue
			}
			rows = append(rows, ImageRow{ID: img.ID, ShortID: short, Repository: "<none>", Tag: "<none>", Ref: img.ID, Size: img.Size, Created: img.Created, Containers: img.Containers, Dangling: true})
			continue
		}
		for _, t := range img.RepoTags {
			repo, tag := splitRepoTag(t)
			_, newer := s.updates[t]
			rows = append(rows, ImageRow{ID: img.ID, ShortID: short, Repository: repo, Tag: tag, Ref: t, Size: img.Size, Created: img.Created, Containers: img.Containers,
				Update: newer && repoDigest(img.RepoDigests, t) != s.updates[t]})
		}
	}
	if s.filter != "" {
		kept := rows[:0]
		for _, r := range rows {
			if strings.Contains(strings.ToLower(r.Repository+":"+r.Tag), s.filter) || strings.HasPrefix(r.ShortID, s.filter) {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch s.sortBy {
		case SortName:
			if a.Repository != b.Repository {
				return a.Repository < b.Repository
			}
			return a.Tag < b.Tag
		case SortSize:
			return a.Size > b.Size
		}
		return a.Created.After(b.Created)
	})
	return rows
}

func splitRepoTag(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, "latest"
}

// ShortID is the 12 hex digits `docker images` shows.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Remove untags or deletes an image. An image a container uses is
// refused with a message saying which container to remove first.
func (s *Images) Remove(ctx context.Context, ref string, force bool) error {
	_, err := s.eng.Remove(ctx, ref, force)
	if err != nil {
		if errors.Is(err, engine.ErrConflict) {
			return fmt.Errorf("%s is used by a container: stop and remove the container first (Containers panel), or remove with force: %w", ref, err)
		}
		return err
	}
	return s.Refresh(ctx)
}

// Tag gives ref the name target.
func (s *Images) Tag(ctx context.Context, ref, target string) error {
	if err := s.eng.Tag(ctx, ref, target); err != nil {
		return err
	}
	return s.Refresh(ctx)
}

// Inspect is the image's details.
func (s *Images) Inspect(ctx context.Context, ref string) (engine.ImageDetail, error) {
	return s.eng.Inspect(ctx, ref)
}

// History is the image's build steps, newest first.
func (s *Images) History(ctx context.Context, ref string) ([]engine.HistoryItem, error) {
	return s.eng.History(ctx, ref)
}

// Push uploads ref, reporting progress like a pull.
func (s *Images) Push(ctx context.Context, ref string, p *Transfer) error {
	_, err := s.reg.Push(ctx, ref, credentialsFor(ref), p.Report)
	p.finish(err)
	return err
}

// Pull fetches ref, reporting per-layer progress to p.
func (s *Images) Pull(ctx context.Context, ref string, p *Transfer) error {
	_, err := s.reg.Pull(ctx, ref, credentialsFor(ref), p.Report)
	p.finish(err)
	if err != nil {
		return err
	}
	return s.Refresh(ctx)
}
