package enginetest

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerfile"
	"github.com/berth-dev/berth/engine/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Fake is an engine in memory, for testing views alone: images are
// go-containerregistry images, a registry is a map, containers are
// records that change state when told, and every change is an event. It
// runs nothing and writes nothing; tests that prove the engine use a real
// one (app/apptest).
type Fake struct {
	mu         sync.Mutex
	images     map[string]v1.Image // by ID
	tags       map[string]string   // familiar name -> ID
	remote     map[string]v1.Image // what Pull finds, by familiar name
	pulled     map[string][]string // image ID -> "repo@digest" it was pulled as
	containers map[string]*fakeContainer
	order      []string // container IDs, oldest first
	seq        int
	subs       []chan engine.Event
	past       []engine.Event
	volumes    map[string]engine.Volume

	// Output is the lines every container writes when it starts.
	Output []string
	// FailBuild, when set, fails every build with it.
	FailBuild error
}

type fakeContainer struct {
	c engine.Container
}

// NewFake makes an empty fake engine.
func NewFake() *Fake {
	return &Fake{images: map[string]v1.Image{}, tags: map[string]string{}, remote: map[string]v1.Image{}, pulled: map[string][]string{}, containers: map[string]*fakeContainer{}, volumes: map[string]engine.Volume{}, Output: []string{"ready"}}
}

// Publish puts img in the fake registry under ref (Pull finds it there).
func (f *Fake) Publish(ref string, img v1.Image) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remote[familiar(ref)] = img
}

// Store puts img in the engine under ref, as a pull or load would.
func (f *Fake) Store(ref string, img v1.Image) string {
	f.mu.Lock()
	id := f.put(img)
	if ref != "" {
		f.tags[familiar(ref)] = id
	}
	f.mu.Unlock()
	f.publish("image", "tag", ref, nil)
	return id
}

func familiar(ref string) string {
	r, err := reference.Parse(ref)
	if err != nil {
		return ref
	}
	return reference.Familiar(reference.Canonical(r))
}

func (f *Fake) put(img v1.Image) string {
	h, err := img.ConfigName()
	if err != nil {
		panic(err) // images a test made: a bug in the test
	}
	id := h.String()
	f.images[id] = img
	return id
}

// resolve finds an image by name, ID or unique ID prefix.
func (f *Fake) resolve(name string) (string, v1.Image, error) {
	if id, ok := f.tags[familiar(name)]; ok {
		return id, f.images[id], nil
	}
	var found []string
	for id := range f.images {
		if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), strings.TrimPrefix(name, "sha256:")) && len(strings.TrimPrefix(name, "sha256:")) >= 4 {
			found = append(found, id)
		}
	}
	if len(found) == 1 {
		return found[0], f.images[found[0]], nil
	}
	return "", nil, fmt.Errorf("no such image: %s: %w", name, engine.ErrNotFound)
}

func (f *Fake) namesOf(id string) []string {
	var out []string
	for t, i := range f.tags {
		if i == id {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// List implements engine.Images.
func (f *Fake) List(ctx context.Context) ([]engine.ImageSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.ImageSummary
	for id, img := range f.images {
		out = append(out, f.summary(id, img))
	}
	slices.SortFunc(out, func(a, b engine.ImageSummary) int { return b.Created.Compare(a.Created) })
	return out, nil
}

func (f *Fake) summary(id string, img v1.Image) engine.ImageSummary {
	s := engine.ImageSummary{ID: id, RepoTags: f.namesOf(id), RepoDigests: slices.Clone(f.pulled[id])}
	if cf, err := img.ConfigFile(); err == nil {
		s.Created = cf.Created.Time
		s.Labels = cf.Config.Labels
	}
	if layers, err := img.Layers(); err == nil {
		for _, l := range layers {
			n, _ := l.Size()
			s.Size += n
		}
	}
	for _, c := range f.containers {
		if c.c.ImageID == id {
			s.Containers++
		}
	}
	return s
}

// Inspect implements engine.Images.
func (f *Fake) Inspect(ctx context.Context, name string) (engine.ImageDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, img, err := f.resolve(name)
	if err != nil {
		return engine.ImageDetail{}, err
	}
	d := engine.ImageDetail{ImageSummary: f.summary(id, img)}
	if cf, err := img.ConfigFile(); err == nil {
		d.Architecture, d.OS = cf.Architecture, cf.OS
		d.Config = engine.ImageConfig{User: cf.Config.User, Env: cf.Config.Env, Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd, WorkingDir: cf.Config.WorkingDir, Labels: cf.Config.Labels}
		for p := range cf.Config.ExposedPorts {
			d.Config.ExposedPorts = append(d.Config.ExposedPorts, p)
		}
		for _, l := range cf.RootFS.DiffIDs {
			d.Layers = append(d.Layers, l.String())
		}
	}
	return d, nil
}

// History implements engine.Images.
func (f *Fake) History(ctx context.Context, name string) ([]engine.HistoryItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, img, err := f.resolve(name)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	var out []engine.HistoryItem
	for _, h := range slices.Backward(cf.History) {
		out = append(out, engine.HistoryItem{Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer})
	}
	return out, nil
}

// Tag implements engine.Images.
func (f *Fake) Tag(ctx context.Context, source, target string) error {
	f.mu.Lock()
	id, _, err := f.resolve(source)
	if err == nil {
		if _, perr := name.ParseReference(target); perr != nil {
			err = fmt.Errorf("%q: %w", target, engine.ErrInvalidReference)
		} else {
			f.tags[familiar(target)] = id
		}
	}
	f.mu.Unlock()
	if err == nil {
		f.publish("image", "tag", familiar(target), nil)
	}
	return err
}

// Remove implements engine.Images.
func (f *Fake) Remove(ctx context.Context, ref string, force bool) ([]engine.DeleteResult, error) {
	f.mu.Lock()
	id, _, err := f.resolve(ref)
	if err != nil {
		f.mu.Unlock()
		return nil, err
	}
	var out []engine.DeleteResult
	if t := familiar(ref); f.tags[t] == id {
		delete(f.tags, t)
		out = append(out, engine.DeleteResult{Untagged: t})
	}
	if len(f.namesOf(id)) == 0 {
		for _, c := range f.containers {
			if c.c.ImageID == id && !force {
				f.mu.Unlock()
				return nil, fmt.Errorf("image %s is used by container %s: %w", ref, c.c.Name, engine.ErrConflict)
			}
		}
		delete(f.images, id)
		out = append(out, engine.DeleteResult{Deleted: id})
	}
	f.mu.Unlock()
	f.publish("image", "delete", ref, nil)
	return out, nil
}

// Prune implements engine.Images.
func (f *Fake) Prune(ctx context.Context, all bool) (engine.PruneReport, error) {
	return engine.PruneReport{}, nil
}

// Pull implements engine.Registry: it finds ref among what Publish put in
// the fake registry.
func (f *Fake) Pull(ctx context.Context, ref string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	f.mu.Lock()
	img, ok := f.remote[familiar(ref)]
	f.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("pull %s: manifest unknown: %w", ref, engine.ErrNotFound)
	}
	if progress != nil {
		layers, _ := img.Layers()
		for _, l := range layers {
			d, _ := l.Digest()
			n, _ := l.Size()
			progress(engine.Progress{ID: d.Hex[:12], Status: engine.ProgressDownloading, Current: n / 2, Total: n})
			progress(engine.Progress{ID: d.Hex[:12], Status: engine.ProgressPullComplete, Current: n, Total: n})
		}
		progress(engine.Progress{Status: engine.ProgressDone, Message: "Downloaded newer image for " + ref})
	}
	id := f.Store(ref, img)
	if d, err := img.Digest(); err == nil {
		repo := familiar(ref)
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		f.mu.Lock()
		f.pulled[id] = append(f.pulled[id], repo+"@"+d.String())
		f.mu.Unlock()
	}
	f.publish("image", "pull", familiar(ref), nil)
	return id, nil
}

// Push implements engine.Registry: the image lands in the fake registry.
func (f *Fake) Push(ctx context.Context, ref string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	f.mu.Lock()
	_, img, err := f.resolve(ref)
	if err == nil {
		f.remote[familiar(ref)] = img
	}
	f.mu.Unlock()
	if err != nil {
		return "", err
	}
	d, _ := img.Digest()
	f.publish("image", "push", familiar(ref), nil)
	return d.String(), nil
}

// Search implements engine.Registry over the fake registry's names: a
// registry host before the term searches that registry's repositories,
// as a catalog search does.
func (f *Fake) Search(ctx context.Context, term string, limit int, auth *engine.AuthConfig) ([]engine.SearchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	host := ""
	if first, rest, ok := strings.Cut(term, "/"); ok && strings.ContainsAny(first, ".:") {
		host, term = first+"/", rest
	}
	seen := map[string]bool{}
	var out []engine.SearchResult
	for ref := range f.remote {
		repo := ref[:strings.LastIndex(ref, ":")]
		if strings.HasPrefix(repo, host) && strings.Contains(strings.TrimPrefix(repo, host), term) && !seen[repo] {
			seen[repo] = true
			out = append(out, engine.SearchResult{Name: repo})
		}
	}
	slices.SortFunc(out, func(a, b engine.SearchResult) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Login implements engine.Registry: the fake's registries let in any
// user but "wrong".
func (f *Fake) Login(ctx context.Context, auth *engine.AuthConfig) error {
	if auth.Username == "" || auth.Username == "wrong" {
		return fmt.Errorf("%s refused the user name and password: %w", auth.ServerAddress, engine.ErrUnauthorized)
	}
	return nil
}

// Tags implements engine.Registry, newest tag first as semver sorts them.
func (f *Fake) Tags(ctx context.Context, repository string, auth *engine.AuthConfig) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for ref := range f.remote {
		if i := strings.LastIndex(ref, ":"); ref[:i] == repository {
			out = append(out, ref[i+1:])
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out, nil
}

// Distribution implements engine.Registry: the fake registry's manifest
// digest for ref.
func (f *Fake) Distribution(ctx context.Context, ref string, auth *engine.AuthConfig) (engine.Distribution, error) {
	f.mu.Lock()
	img, ok := f.remote[familiar(ref)]
	f.mu.Unlock()
	var d engine.Distribution
	if !ok {
		return d, fmt.Errorf("look up %s: manifest unknown: %w", ref, engine.ErrNotFound)
	}
	digest, err := img.Digest()
	if err != nil {
		return d, err
	}
	d.Descriptor.Digest = digest.String()
	return d, nil
}

// Save implements engine.Archives: a real docker-archive tarball.
func (f *Fake) Save(ctx context.Context, names []string, w io.Writer) error {
	f.mu.Lock()
	refs := map[name.Reference]v1.Image{}
	for _, n := range names {
		_, img, err := f.resolve(n)
		if err != nil {
			f.mu.Unlock()
			return err
		}
		tag, err := name.NewTag(familiar(n))
		if err != nil {
			tag, _ = name.NewTag("image:latest")
		}
		refs[tag] = img
	}
	f.mu.Unlock()
	return tarball.MultiRefWrite(refs, w)
}

// Load implements engine.Archives.
func (f *Fake) Load(ctx context.Context, r io.Reader, progress engine.ProgressFunc) ([]string, error) {
	return nil, fmt.Errorf("load: %w", engine.ErrNotSupported)
}

// Subscribe implements engine.Events: events from now on, or since the
// filter's time.
func (f *Fake) Subscribe(ctx context.Context, filter engine.EventFilter) <-chan engine.Event {
	ch := make(chan engine.Event, 256)
	f.mu.Lock()
	for _, e := range f.past {
		if filter.Since > 0 && e.Time.UnixNano() >= filter.Since {
			ch <- e
		}
	}
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		f.subs = slices.DeleteFunc(f.subs, func(c chan engine.Event) bool { return c == ch })
		f.mu.Unlock()
		close(ch)
	}()
	return ch
}

func (f *Fake) publish(typ, action, id string, attrs map[string]string) {
	e := engine.Event{Type: typ, Action: action, ID: id, Attributes: attrs, Time: time.Now()}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.past = append(f.past, e)
	for _, ch := range f.subs {
		select {
		case ch <- e:
		default: // a subscriber that does not read loses events, as on a real engine
		}
	}
}

// Build implements engine.Builder: each instruction of the Dockerfile is a
// step that succeeds (unless FailBuild), the image is the base image (or
// an empty one) with the Dockerfile's CMD.
func (f *Fake) Build(ctx context.Context, opts engine.BuildOptions, fn func(engine.BuildEvent)) (engine.BuildResult, error) {
	if fn == nil {
		fn = func(engine.BuildEvent) {}
	}
	data, err := os.ReadFile(filepath.Join(opts.ContextDir, cmp.Or(opts.Dockerfile, "Dockerfile")))
	if err != nil {
		return engine.BuildResult{}, fmt.Errorf("read the Dockerfile: %w", err)
	}
	res := dockerfile.Analyze(data)
	var steps []dockerfile.Step
	for _, s := range res.Steps {
		if s.Stage >= 0 {
			steps = append(steps, s)
		}
	}
	img := emptyImage()
	for i, s := range steps {
		ins := strings.TrimSpace(strings.Split(string(data), "\n")[s.Line-1])
		fn(engine.BuildEvent{Kind: engine.BuildStepStarted, Step: i + 1, Steps: len(steps), Instruction: ins, Line: s.Line})
		if s.Keyword == "FROM" {
			base := strings.Fields(ins)[1]
			f.mu.Lock()
			if _, b, err := f.resolve(base); err == nil {
				img = b
			}
			f.mu.Unlock()
		}
		if f.FailBuild != nil && i == len(steps)-1 {
			fn(engine.BuildEvent{Kind: engine.BuildStepFailed, Step: i + 1, Steps: len(steps), Instruction: ins, Line: s.Line, Output: f.FailBuild.Error()})
			return engine.BuildResult{}, &engine.BuildStepError{Step: i + 1, Instruction: ins, Line: s.Line, Err: f.FailBuild}
		}
		done := engine.BuildEvent{Kind: engine.BuildStepDone, Step: i + 1, Steps: len(steps), Instruction: ins, Line: s.Line, Duration: time.Millisecond}
		if s.Keyword == "RUN" || s.Keyword == "COPY" || s.Keyword == "ADD" {
			// A layer of one file per step, so views can follow a layer to
			// its line: "/step-3" holding the instruction.
			path := fmt.Sprintf("/step-%d", i+1)
			l, err := fileLayer(path[1:], ins)
			if err != nil {
				return engine.BuildResult{}, err
			}
			if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: ins + " # buildkit"}}); err != nil {
				return engine.BuildResult{}, err
			}
			diffID, _ := l.DiffID()
			done.Layer, done.LayerSize = diffID.String(), int64(len(ins))
			done.Biggest = []engine.PathSize{{Path: path, Size: int64(len(ins))}}
		}
		fn(done)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return engine.BuildResult{}, err
	}
	cfg := cf.Config.DeepCopy()
	cfg.Labels = maps.Clone(opts.Labels)
	cfg.Env = append(cfg.Env, fmt.Sprintf("BUILT=%d", time.Now().UnixNano())) // each build is a new image
	img, err = mutate.Config(img, *cfg)
	if err != nil {
		return engine.BuildResult{}, err
	}
	f.mu.Lock()
	id := f.put(img)
	for _, t := range opts.Tags {
		f.tags[familiar(t)] = id
	}
	f.mu.Unlock()
	f.publish("image", "tag", id, nil)
	return engine.BuildResult{ImageID: id, Tags: opts.Tags}, nil
}

// PruneCache implements engine.Builder.
func (f *Fake) PruneCache(ctx context.Context, all bool) (engine.BuildCacheReport, error) {
	return engine.BuildCacheReport{}, nil
}

// fileLayer is a layer holding one file.
func fileLayer(name, content string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	tw.Write([]byte(content))
	tw.Close()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
}

// emptyImage is FROM scratch.
func emptyImage() v1.Image {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: hostArch(), Created: v1.Time{Time: time.Now()}})
	if err != nil {
		panic(err)
	}
	return img
}

// DiskUsage implements app.DiskEngine: the fake's images (each layer its
// own) and containers (each wrote 1 kB), no volumes, no build cache.
func (f *Fake) DiskUsage(ctx context.Context) (engine.DiskUsage, error) {
	var u engine.DiskUsage
	images, err := f.List(ctx)
	if err != nil {
		return u, err
	}
	for _, i := range images {
		u.LayersSize += i.Size
		u.Images = append(u.Images, engine.ImageUsage{ImageSummary: i})
	}
	cs, err := f.ListContainers(ctx, true)
	if err != nil {
		return u, err
	}
	for _, c := range cs {
		u.Containers = append(u.Containers, engine.ContainerUsage{Container: c, SizeRw: 1000})
	}
	return u, nil
}

// ListVolumes implements engine.Volumes (each volume holds 1 kB).
func (f *Fake) ListVolumes(ctx context.Context, withSize bool) ([]engine.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Collect(maps.Values(f.volumes))
	slices.SortFunc(out, func(a, b engine.Volume) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateVolume implements engine.Volumes.
func (f *Fake) CreateVolume(ctx context.Context, name string, labels map[string]string) (engine.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.volumes[name]; ok {
		return v, nil
	}
	if name == "" {
		f.seq++
		name = fmt.Sprintf("%064x", f.seq)
	}
	v := engine.Volume{Name: name, Labels: labels, Created: time.Now(), Size: 1000, Anonymous: strings.HasPrefix(name, "anon")}
	if strings.HasPrefix(name, "busy") {
		v.Containers = 1
	}
	f.volumes[name] = v
	return v, nil
}

// InspectVolume implements engine.Volumes.
func (f *Fake) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	if !ok {
		return v, fmt.Errorf("get %s: no such volume: %w", name, engine.ErrNotFound)
	}
	return v, nil
}

// RemoveVolume implements engine.Volumes: a volume a container holds (a
// name "busy…" here) is a conflict.
func (f *Fake) RemoveVolume(ctx context.Context, name string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.volumes[name]; !ok {
		return fmt.Errorf("get %s: no such volume: %w", name, engine.ErrNotFound)
	}
	if strings.HasPrefix(name, "busy") {
		return fmt.Errorf("remove %s: volume is in use: %w", name, engine.ErrConflict)
	}
	delete(f.volumes, name)
	return nil
}

// PruneVolumes implements engine.Volumes: anonymous ones ("anon…"), or
// all but busy ones.
func (f *Fake) PruneVolumes(ctx context.Context, all bool, labels []string) ([]string, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var removed []string
	for name, v := range f.volumes {
		if !strings.HasPrefix(name, "busy") && (all || v.Anonymous) {
			delete(f.volumes, name)
			removed = append(removed, name)
		}
	}
	return removed, int64(len(removed)) * 1000, nil
}
