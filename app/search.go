package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// Search is the search panel's logic.
type Search struct {
	reg             engine.Registry
	defaultRegistry string
}

// NewSearch searches defaultRegistry ("docker.io" for Docker Hub) unless
// the term names a registry host itself.
func NewSearch(reg engine.Registry, defaultRegistry string) *Search {
	return &Search{reg: reg, defaultRegistry: defaultRegistry}
}

// Find returns repositories matching term, official images first, then by stars.
func (s *Search) Find(ctx context.Context, term string) ([]engine.SearchResult, error) {
	term = strings.TrimSpace(term)
	if term == "" {
		return nil, fmt.Errorf("type what to look for, e.g. python or nginx: %w", engine.ErrInvalidArgument)
	}
	q := term
	if first, _, _ := strings.Cut(term, "/"); !strings.ContainsAny(first, ".:") && first != "localhost" && s.defaultRegistry != "" && s.defaultRegistry != "docker.io" {
		q = s.defaultRegistry + "/" + term
	}
	res, err := s.reg.Search(ctx, q, 50, nil)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(res, func(i, j int) bool {
		if res[i].Official != res[j].Official {
			return res[i].Official
		}
		return res[i].Stars > res[j].Stars
	})
	return res, nil
}

// Tags lists a repository's tags, newest-looking first ("latest" leads).
func (s *Search) Tags(ctx context.Context, repo string) ([]string, error) {
	tags, err := s.reg.Tags(ctx, repo, nil)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(tags, func(i, j int) bool {
		if tags[i] == "latest" || tags[j] == "latest" {
			return tags[i] == "latest"
		}
		return tags[i] > tags[j]
	})
	return tags, nil
}
