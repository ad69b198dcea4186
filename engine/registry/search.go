package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Search finds repositories matching term. "localhost:5000/web" searches
// the catalog of localhost:5000 for "web"; a term without a registry host
// searches Docker Hub. limit <= 0 means 25, as docker.
func (r *Registry) Search(ctx context.Context, term string, limit int, auth *engine.AuthConfig) ([]engine.SearchResult, error) {
	if limit <= 0 {
		limit = 25
	}
	host, query := splitSearchTerm(term)
	if query == "" && host == "docker.io" {
		return nil, fmt.Errorf("search: empty search term: %w", engine.ErrInvalidArgument)
	}
	if host == "docker.io" {
		return r.searchHub(ctx, query, limit)
	}
	return r.searchCatalog(ctx, host, query, limit, auth)
}

// splitSearchTerm separates a registry host from the term, by docker's rule:
// a first component with a dot or a colon, or "localhost", is a host. A
// host alone with its port ("127.0.0.1:5000", "localhost") lists that
// registry's catalog rather than asking Docker Hub for the string.
func splitSearchTerm(term string) (host, query string) {
	first, rest, found := strings.Cut(term, "/")
	if !found && (strings.Contains(first, ":") || first == "localhost") {
		return first, ""
	}
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if first == "docker.io" || first == "index.docker.io" {
			return "docker.io", rest
		}
		return first, rest
	}
	return "docker.io", term
}

type hubResults struct {
	Results []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		StarCount   int    `json:"star_count"`
		IsOfficial  bool   `json:"is_official"`
		IsAutomated bool   `json:"is_automated"`
	} `json:"results"`
}

func (r *Registry) searchHub(ctx context.Context, query string, limit int) ([]engine.SearchResult, error) {
	u := r.opts.hubSearch + "?" + url.Values{"q": {query}, "n": {strconv.Itoa(limit)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", r.opts.userAgent)
	resp, err := (&http.Client{Transport: r.opts.transport}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("search Docker Hub for %q: %w", query, classify(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("search Docker Hub for %q: HTTP %d: %w", query, resp.StatusCode, engine.ErrUnavailable)
	}
	var res hubResults
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return nil, fmt.Errorf("search Docker Hub for %q: bad answer: %w", query, err)
	}
	out := make([]engine.SearchResult, 0, len(res.Results))
	for _, x := range res.Results {
		out = append(out, engine.SearchResult{Name: x.Name, Description: x.Description, Stars: x.StarCount, Official: x.IsOfficial, Automated: x.IsAutomated})
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (r *Registry) searchCatalog(ctx context.Context, host, query string, limit int, auth *engine.AuthConfig) ([]engine.SearchResult, error) {
	var nameOpts []name.Option
	if r.opts.insecure[host] {
		nameOpts = append(nameOpts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w: %w", host, engine.ErrInvalidReference, err)
	}
	repos, err := remote.Catalog(ctx, reg, r.remoteOptions(ctx, reg.Repo("catalog"), auth)...)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", host, classify(err))
	}
	query = strings.ToLower(query)
	var out []engine.SearchResult
	for _, repo := range repos {
		if strings.Contains(strings.ToLower(repo), query) {
			out = append(out, engine.SearchResult{Name: host + "/" + repo})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
