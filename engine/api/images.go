package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func (s *server) imageList(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	list, err := s.b.Images.List(r.Context())
	if err != nil {
		writeEngineError(w, err)
		return
	}
	out := []image.Summary{}
	for _, img := range list {
		if !matchImage(f, img) {
			continue
		}
		out = append(out, imageSummary(img))
	}
	writeJSON(w, http.StatusOK, out)
}

// imageSummary is an image as docker images (and system df) read it.
func imageSummary(img engine.ImageSummary) image.Summary {
	return image.Summary{
		ID:          img.ID,
		RepoTags:    nonNil(img.RepoTags),
		RepoDigests: nonNil(img.RepoDigests),
		Created:     img.Created.Unix(),
		Size:        img.Size,
		SharedSize:  -1,
		Containers:  int64(img.Containers),
		Labels:      nonNilMap(img.Labels),
	}
}

// matchImage applies the filters `docker images` sends: dangling,
// reference (a glob on the familiar name, as "busy*" or "*/app:v1") and label.
func matchImage(f map[string][]string, img engine.ImageSummary) bool {
	for _, v := range f["dangling"] {
		dangling := len(img.RepoTags) == 0 && len(img.RepoDigests) == 0
		if (v == "true" || v == "1") != dangling {
			return false
		}
	}
	if pats := f["reference"]; len(pats) > 0 {
		ok := false
		for _, pat := range pats {
			for _, tag := range img.RepoTags {
				repo := tag[:strings.LastIndex(tag, ":")]
				if m, _ := path.Match(pat, tag); m {
					ok = true
				}
				if m, _ := path.Match(pat, repo); m {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return engine.MatchLabels(f["label"], img.Labels)
}

func (s *server) imageInspect(w http.ResponseWriter, r *http.Request, name string) {
	d, err := s.b.Images.Inspect(r.Context(), name)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	cfg := &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{
		User:       d.Config.User,
		Env:        d.Config.Env,
		Entrypoint: d.Config.Entrypoint,
		Cmd:        d.Config.Cmd,
		WorkingDir: d.Config.WorkingDir,
		Labels:     d.Config.Labels,
		StopSignal: d.Config.StopSignal,
	}, DockerOCIImageConfigExt: dockerspec.DockerOCIImageConfigExt{OnBuild: d.Config.OnBuild, Shell: d.Config.Shell}}
	if h := d.Config.Healthcheck; h != nil {
		cfg.Healthcheck = &dockerspec.HealthcheckConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	if len(d.Config.ExposedPorts) > 0 {
		cfg.ExposedPorts = map[string]struct{}{}
		for _, p := range d.Config.ExposedPorts {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	if len(d.Config.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
		for _, v := range d.Config.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	}
	resp := image.InspectResponse{
		ID:           d.ID,
		RepoTags:     nonNil(d.RepoTags),
		RepoDigests:  nonNil(d.RepoDigests),
		Created:      d.Created.UTC().Format(time.RFC3339Nano),
		Author:       d.Author,
		Comment:      d.Comment,
		Config:       cfg,
		Architecture: d.Architecture,
		Variant:      d.Variant,
		Os:           d.OS,
		Size:         d.Size,
		RootFS:       image.RootFS{Type: "layers", Layers: d.Layers},
		Metadata:     image.Metadata{LastTagTime: d.LastTagTime},
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *server) imageHistory(w http.ResponseWriter, r *http.Request, name string) {
	items, err := s.b.Images.History(r.Context(), name)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	out := make([]image.HistoryResponseItem, 0, len(items))
	for _, h := range items {
		out = append(out, image.HistoryResponseItem{ID: h.ID, Created: h.Created.Unix(), CreatedBy: h.CreatedBy, Comment: h.Comment, Size: h.Size, Tags: h.Tags})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) imageTag(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	repo, tag := q.Get("repo"), q.Get("tag")
	if repo == "" {
		writeError(w, http.StatusBadRequest, fmt.Errorf("tag %s: no target repository given", name))
		return
	}
	target := repo
	if tag != "" {
		target += ":" + tag
	}
	if err := s.b.Images.Tag(r.Context(), name, target); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *server) imageDelete(w http.ResponseWriter, r *http.Request, name string) {
	res, err := s.b.Images.Remove(r.Context(), name, boolParam(r, "force"))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	out := make([]image.DeleteResponse, 0, len(res))
	for _, d := range res {
		out = append(out, image.DeleteResponse{Untagged: d.Untagged, Deleted: d.Deleted})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) imagePrune(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	all := false
	for _, v := range f["dangling"] {
		dangling, _ := strconv.ParseBool(v) // checkFilters refused what is not a bool
		all = !dangling
	}
	rep, err := s.b.Images.Prune(r.Context(), all)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	out := image.PruneReport{ImagesDeleted: []image.DeleteResponse{}, SpaceReclaimed: uint64(rep.SpaceReclaimed)}
	for _, d := range rep.Deleted {
		out.ImagesDeleted = append(out.ImagesDeleted, image.DeleteResponse{Untagged: d.Untagged, Deleted: d.Deleted})
	}
	writeJSON(w, http.StatusOK, out)
}

// repoTag is the name a commit or an import asks for: repo with tag, a
// repo that carries its own tag ("app:v1", as docker import sends it), or
// none.
func repoTag(repo, tag string) []string {
	switch {
	case repo == "":
		return nil
	case tag != "":
		return []string{repo + ":" + tag}
	case strings.LastIndex(repo, ":") > strings.LastIndex(repo, "/") || strings.Contains(repo, "@"):
		return []string{repo}
	}
	return []string{repo + ":latest"}
}

// imageImport is docker import: fromSrc "-" is the request's body.
func (s *server) imageImport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch src := q.Get("fromSrc"); {
	case s.b.Importer == nil:
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot import file systems: %w", engine.ErrNotSupported))
		return
	case src == "":
		writeError(w, http.StatusBadRequest, fmt.Errorf("fromImage or fromSrc is required: %w", engine.ErrInvalidArgument))
		return
	case src != "-":
		writeError(w, http.StatusNotImplemented, fmt.Errorf("import from a URL (%s) is not supported: download it, then docker import the file: %w", src, engine.ErrNotSupported))
		return
	case strings.Join(q["changes"], "") != "":
		writeError(w, http.StatusNotImplemented, fmt.Errorf("docker import --change is not supported by Berth yet; import, then build FROM the image with those instructions: %w", engine.ErrNotSupported))
		return
	}
	stream := newJSONStream(w, false)
	names := repoTag(q.Get("repo"), q.Get("tag"))
	id, err := s.b.Importer.Import(r.Context(), r.Body, names, q.Get("message"))
	if err != nil {
		stream.fail(err)
		return
	}
	stream.send(jsonstream.Message{Status: id})
}

// imageCreate is `docker pull`: fromImage plus a tag or digest. An empty
// tag pulls every tag of the repository (`docker pull --all-tags`).
func (s *server) imageCreate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, tag := q.Get("fromImage"), q.Get("tag")
	if from == "" {
		s.imageImport(w, r)
		return
	}
	auth := authFrom(r)
	var refs []string
	switch {
	case strings.HasPrefix(tag, "sha256:"):
		refs = []string{from + "@" + tag}
	case tag != "":
		refs = []string{from + ":" + tag}
	case strings.ContainsAny(from[strings.LastIndex(from, "/")+1:], ":@"):
		refs = []string{from}
	default:
		tags, err := s.b.Registry.Tags(r.Context(), from, auth)
		if err != nil {
			writeEngineError(w, err)
			return
		}
		for _, t := range tags {
			refs = append(refs, from+":"+t)
		}
	}
	// Reject a malformed name before promising a stream, so the CLI shows
	// a plain error (and exit code) rather than a stream message.
	for _, ref := range refs {
		if _, err := reference.Parse(ref); err != nil {
			writeEngineError(w, err)
			return
		}
	}
	stream := newJSONStream(w, false)
	for _, ref := range refs {
		if _, err := s.b.Registry.Pull(r.Context(), ref, auth, stream.progress); err != nil {
			stream.fail(err)
			return
		}
	}
}

// imagePush is `docker push`; with no tag, every tag of the repository.
func (s *server) imagePush(w http.ResponseWriter, r *http.Request, name string) {
	tag := r.URL.Query().Get("tag")
	refs := []string{name}
	if tag != "" {
		refs = []string{name + ":" + tag}
	} else {
		all, err := s.tagsInStore(r, name)
		if err != nil {
			writeEngineError(w, err)
			return
		}
		refs = all
	}
	auth := authFrom(r)
	stream := newJSONStream(w, true)
	for _, ref := range refs {
		digest, err := s.b.Registry.Push(r.Context(), ref, auth, stream.progress)
		if err != nil {
			stream.fail(err)
			return
		}
		parsed, _ := reference.Parse(ref)
		aux, _ := json.Marshal(map[string]any{"Tag": parsed.Identifier(), "Digest": digest})
		raw := json.RawMessage(aux)
		stream.send(jsonstream.Message{Aux: &raw})
	}
}

func (s *server) tagsInStore(r *http.Request, repo string) ([]string, error) {
	want, err := reference.Parse(repo)
	if err != nil {
		return nil, err
	}
	list, err := s.b.Images.List(r.Context())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, img := range list {
		for _, t := range img.RepoTags {
			if ref, err := reference.Parse(t); err == nil && ref.Context().String() == want.Context().String() {
				out = append(out, t)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("An image does not exist locally with the tag: %s: %w", repo, engine.ErrNotFound)
	}
	sort.Strings(out)
	return out, nil
}

func (s *server) imageSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	results, err := s.b.Registry.Search(r.Context(), q.Get("term"), limit, authFrom(r))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	minStars := 0
	for _, v := range f["stars"] {
		minStars, _ = strconv.Atoi(v)
	}
	out := []registry.SearchResult{}
	for _, x := range results {
		if x.Stars < minStars || (len(f["is-official"]) > 0 && fmt.Sprint(x.Official) != f["is-official"][0]) {
			continue
		}
		out = append(out, registry.SearchResult{Name: x.Name, Description: x.Description, StarCount: x.Stars, IsOfficial: x.Official, IsAutomated: x.Automated})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) imageSave(w http.ResponseWriter, r *http.Request, names []string) {
	if len(names) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("save: no image names given"))
		return
	}
	// Resolve first so a bad name is a clean 404, not a broken tarball.
	for _, n := range names {
		if _, err := s.b.Images.Inspect(r.Context(), n); err != nil {
			writeEngineError(w, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	if err := s.b.Archives.Save(r.Context(), names, w); err != nil {
		// Headers are gone; breaking the connection tells the client.
		panic(http.ErrAbortHandler)
	}
}

func (s *server) imageLoad(w http.ResponseWriter, r *http.Request) {
	quiet := boolParam(r, "quiet")
	var stream *jsonStream
	progress := func(engine.Progress) {}
	if !quiet {
		stream = newJSONStream(w, false)
		progress = stream.progress
	}
	loaded, err := s.b.Archives.Load(r.Context(), r.Body, progress)
	if stream == nil {
		stream = newJSONStream(w, false)
	}
	if err != nil {
		stream.fail(err)
		return
	}
	for _, name := range loaded {
		if strings.HasPrefix(name, "sha256:") {
			stream.text("Loaded image ID: " + name + "\n")
		} else {
			stream.text("Loaded image: " + name + "\n")
		}
	}
}

// nonNil is s, or an empty slice for nil: JSON's [] where clients
// expect a list, never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// registryTags lists a repository's tags in its registry: a Berth
// extension (the Docker Engine API has none) for the app's tag picker.
// distributionInspector answers /distribution/{name}/json: the registry's
// descriptor and platforms of a reference, without pulling it.
type distributionInspector interface {
	Distribution(ctx context.Context, ref string, auth *engine.AuthConfig) (engine.Distribution, error)
}

func (s *server) distribution(w http.ResponseWriter, r *http.Request, ref string) {
	d, ok := s.b.Registry.(distributionInspector)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot ask registries about images: %w", engine.ErrNotSupported))
		return
	}
	out, err := d.Distribution(r.Context(), ref, authFrom(r))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) registryTags(w http.ResponseWriter, r *http.Request, repo string) {
	tags, err := s.b.Registry.Tags(r.Context(), repo, authFrom(r))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, nonNil(tags))
}
