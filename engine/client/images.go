package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
)

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	resp, err := c.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func (c *Client) post(ctx context.Context, path string, q url.Values, v any) error {
	resp, err := c.do(ctx, http.MethodPost, path, q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if v == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// List returns every image, newest first.
func (c *Client) List(ctx context.Context) ([]engine.ImageSummary, error) {
	var list []image.Summary
	if err := c.getJSON(ctx, "/images/json", nil, &list); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	out := make([]engine.ImageSummary, 0, len(list))
	for _, s := range list {
		tags := s.RepoTags
		if len(tags) == 1 && tags[0] == "<none>:<none>" {
			tags = nil
		}
		out = append(out, engine.ImageSummary{ID: s.ID, RepoTags: tags, RepoDigests: s.RepoDigests, Created: time.Unix(s.Created, 0), Size: s.Size, Labels: s.Labels, Containers: int(s.Containers)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Inspect resolves a name or ID.
func (c *Client) Inspect(ctx context.Context, name string) (engine.ImageDetail, error) {
	var r image.InspectResponse
	if err := c.getJSON(ctx, "/images/"+name+"/json", nil, &r); err != nil {
		return engine.ImageDetail{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	d := engine.ImageDetail{
		ImageSummary: engine.ImageSummary{ID: r.ID, RepoTags: r.RepoTags, RepoDigests: r.RepoDigests, Size: r.Size, Containers: -1},
		Architecture: r.Architecture, Variant: r.Variant, OS: r.Os, Author: r.Author, Comment: r.Comment,
	}
	if t, err := time.Parse(time.RFC3339Nano, r.Created); err == nil {
		d.Created = t
	}
	if r.Config != nil {
		cfg := r.Config
		d.Config = engine.ImageConfig{User: cfg.User, Env: cfg.Env, Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, WorkingDir: cfg.WorkingDir, Labels: cfg.Labels, StopSignal: cfg.StopSignal, OnBuild: cfg.OnBuild, Shell: cfg.Shell}
		d.Labels = cfg.Labels
		for p := range cfg.ExposedPorts {
			d.Config.ExposedPorts = append(d.Config.ExposedPorts, p)
		}
		sort.Strings(d.Config.ExposedPorts)
		for v := range cfg.Volumes {
			d.Config.Volumes = append(d.Config.Volumes, v)
		}
		sort.Strings(d.Config.Volumes)
		if h := cfg.Healthcheck; h != nil {
			d.Config.Healthcheck = &engine.HealthCheck{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
		}
	}
	d.Layers = r.RootFS.Layers
	if len(r.RepoDigests) > 0 {
		if _, dg, ok := strings.Cut(r.RepoDigests[0], "@"); ok {
			d.ManifestDigest = dg
		}
	}
	return d, nil
}

// History lists an image's build steps, newest first.
func (c *Client) History(ctx context.Context, name string) ([]engine.HistoryItem, error) {
	var items []image.HistoryResponseItem
	if err := c.getJSON(ctx, "/images/"+name+"/history", nil, &items); err != nil {
		return nil, fmt.Errorf("history %s: %w", name, err)
	}
	out := make([]engine.HistoryItem, len(items))
	for i, h := range items {
		out[i] = engine.HistoryItem{ID: h.ID, Created: time.Unix(h.Created, 0), CreatedBy: h.CreatedBy, Comment: h.Comment, Size: h.Size, Tags: h.Tags}
	}
	return out, nil
}

// Tag gives source the name target.
func (c *Client) Tag(ctx context.Context, source, target string) error {
	repo, tag := target, ""
	if i := strings.LastIndex(target, ":"); i > strings.LastIndex(target, "/") {
		repo, tag = target[:i], target[i+1:]
	}
	q := url.Values{"repo": {repo}}
	if tag != "" {
		q.Set("tag", tag)
	}
	if err := c.post(ctx, "/images/"+source+"/tag", q, nil); err != nil {
		return fmt.Errorf("tag %s %s: %w", source, target, err)
	}
	return nil
}

// Remove untags or deletes an image.
func (c *Client) Remove(ctx context.Context, name string, force bool) ([]engine.DeleteResult, error) {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	resp, err := c.do(ctx, http.MethodDelete, "/images/"+name, q, nil)
	if err != nil {
		return nil, fmt.Errorf("remove %s: %w", name, err)
	}
	defer resp.Body.Close()
	var items []image.DeleteResponse
	if err := json.NewDecoder(resp.Body).Decode(&items); err != nil {
		return nil, fmt.Errorf("remove %s: %w", name, err)
	}
	out := make([]engine.DeleteResult, len(items))
	for i, d := range items {
		out[i] = engine.DeleteResult{Untagged: d.Untagged, Deleted: d.Deleted}
	}
	return out, nil
}

// Prune deletes dangling images, or all unused ones.
func (c *Client) Prune(ctx context.Context, all bool) (engine.PruneReport, error) {
	q := url.Values{}
	if all {
		q.Set("filters", `{"dangling":["false"]}`)
	}
	var r image.PruneReport
	if err := c.post(ctx, "/images/prune", q, &r); err != nil {
		return engine.PruneReport{}, fmt.Errorf("prune images: %w", err)
	}
	rep := engine.PruneReport{SpaceReclaimed: int64(r.SpaceReclaimed)}
	for _, d := range r.ImagesDeleted {
		rep.Deleted = append(rep.Deleted, engine.DeleteResult{Untagged: d.Untagged, Deleted: d.Deleted})
	}
	return rep, nil
}

func authHeader(auth *engine.AuthConfig) string {
	if auth == nil {
		return ""
	}
	b, _ := json.Marshal(registry.AuthConfig{Username: auth.Username, Password: auth.Password, Auth: auth.Auth, IdentityToken: auth.IdentityToken, RegistryToken: auth.RegistryToken, ServerAddress: auth.ServerAddress})
	return base64.URLEncoding.EncodeToString(b)
}

// stream sends a request whose answer is a progress stream and passes
// each message to fn; an error message ends it as an error.
func (c *Client) stream(ctx context.Context, method, path string, q url.Values, auth *engine.AuthConfig, fn func(jsonstream.Message)) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	if h := authHeader(auth); h != "" {
		req.Header.Set(registry.AuthHeader, h)
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("the engine's answer was cut off: %w", err)
		}
		if m.Error != nil {
			return streamError(m.Error.Message)
		}
		fn(m)
	}
}

// progressOf turns dockerd's wording back into an engine event.
func progressOf(m jsonstream.Message) engine.Progress {
	p := engine.Progress{ID: m.ID, Message: m.Status}
	if m.Progress != nil {
		p.Current, p.Total = m.Progress.Current, m.Progress.Total
	}
	switch m.Status {
	case "Pulling fs layer", "Preparing", "Waiting":
		p.Status = engine.ProgressWaiting
	case "Downloading", "Pushing":
		p.Status = engine.ProgressDownloading
		if m.Status == "Pushing" {
			p.Status = engine.ProgressPushing
		}
	case "Extracting":
		p.Status = engine.ProgressExtracting
	case "Pull complete", "Pushed":
		p.Status = engine.ProgressPullComplete
	case "Already exists", "Layer already exists":
		p.Status = engine.ProgressAlreadyExists
	default:
		if m.ID != "" {
			p.Status = engine.ProgressResolving
		} else {
			p.Status = engine.ProgressDone
		}
	}
	return p
}

// naming says which operation on ref failed, unless the engine's own
// words already do ("pull busybox: cannot reach the registry…"), so a
// person does not read it twice.
func naming(op, ref string, err error) error {
	if strings.HasPrefix(err.Error(), op+" ") {
		return err
	}
	return fmt.Errorf("%s %s: %w", op, ref, err)
}

// Pull fetches ref into the engine and returns the image ID.
func (c *Client) Pull(ctx context.Context, ref string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	err := c.stream(ctx, http.MethodPost, "/images/create", url.Values{"fromImage": {ref}}, auth, func(m jsonstream.Message) {
		progress.Report(progressOf(m))
	})
	if err != nil {
		return "", naming("pull", ref, err)
	}
	d, err := c.Inspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", ref, err)
	}
	return d.ID, nil
}

// Push uploads ref and returns the manifest digest.
func (c *Client) Push(ctx context.Context, ref string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	name, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name, tag = ref[:i], ref[i+1:]
	}
	q := url.Values{}
	if tag != "" {
		q.Set("tag", tag)
	}
	if auth == nil {
		auth = &engine.AuthConfig{} // dockerd refuses a push without the header
	}
	digest := ""
	err := c.stream(ctx, http.MethodPost, "/images/"+name+"/push", q, auth, func(m jsonstream.Message) {
		if m.Aux != nil {
			var aux struct{ Digest string }
			if json.Unmarshal(*m.Aux, &aux) == nil {
				digest = aux.Digest
			}
			return
		}
		progress.Report(progressOf(m))
	})
	if err != nil {
		return "", naming("push", ref, err)
	}
	return digest, nil
}

// Search finds repositories.
func (c *Client) Search(ctx context.Context, term string, limit int, auth *engine.AuthConfig) ([]engine.SearchResult, error) {
	q := url.Values{"term": {term}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var res []registry.SearchResult
	if err := c.getJSON(ctx, "/images/search", q, &res); err != nil {
		return nil, fmt.Errorf("search %s: %w", term, err)
	}
	out := make([]engine.SearchResult, len(res))
	for i, r := range res {
		out[i] = engine.SearchResult{Name: r.Name, Description: r.Description, Stars: r.StarCount, Official: r.IsOfficial, Automated: r.IsAutomated}
	}
	return out, nil
}

// Tags lists a repository's tags. The Docker Engine API has no such
// call: Berth's engine answers it at /distribution/{name}/tags, others
// are asked nothing and give ErrNotSupported.
func (c *Client) Tags(ctx context.Context, repository string, auth *engine.AuthConfig) ([]string, error) {
	var tags []string
	if err := c.getJSON(ctx, "/distribution/"+repository+"/tags", nil, &tags); err != nil {
		return nil, fmt.Errorf("tags of %s: %w", repository, err)
	}
	return tags, nil
}

// Distribution asks the engine what a registry's ref names now: its
// manifest's digest and platforms, without pulling it.
func (c *Client) Distribution(ctx context.Context, ref string, auth *engine.AuthConfig) (engine.Distribution, error) {
	var d engine.Distribution
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/distribution/"+ref+"/json", nil)
	if err != nil {
		return d, err
	}
	if h := authHeader(auth); h != "" {
		req.Header.Set(registry.AuthHeader, h)
	}
	resp, err := c.send(req)
	if err != nil {
		return d, naming("look up", ref, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return d, fmt.Errorf("look up %s: %w", ref, err)
	}
	return d, nil
}

// Login asks the engine to check credentials against a registry, as
// docker login does (POST /auth); the engine keeps nothing.
func (c *Client) Login(ctx context.Context, auth *engine.AuthConfig) error {
	body, err := json.Marshal(map[string]string{"username": auth.Username, "password": auth.Password, "auth": auth.Auth,
		"identitytoken": auth.IdentityToken, "registrytoken": auth.RegistryToken, "serveraddress": auth.ServerAddress})
	if err != nil {
		return err
	}
	resp, err := c.doJSON(ctx, http.MethodPost, "/auth", nil, body)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", auth.ServerAddress, err)
	}
	resp.Body.Close()
	return nil
}

var (
	_ engine.Images   = (*Client)(nil)
	_ engine.Registry = (*Client)(nil)
)
