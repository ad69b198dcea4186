package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/reference"
	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Store is the part of the image store that pull and push use.
type Store interface {
	Put(ctx context.Context, img v1.Image, opts store.PutOptions) (string, error)
	Image(nameOrID string) (v1.Image, error)
	Resolve(nameOrID string) (id, manifest string, err error)
	AddRepoDigest(imageID, repoDigest string) error
}

// Registry pulls into and pushes from a Store.
type Registry struct {
	store Store
	opts  options
}

type options struct {
	insecure  map[string]bool
	keychain  authn.Keychain
	transport http.RoundTripper
	publish   func(engine.Event)
	platform  v1.Platform
	jobs      int
	hubSearch string
	userAgent string
}

// Option configures a Registry.
type Option func(*options)

// WithInsecure lists registries ("host:port") reached over plain HTTP, as
// dockerd's --insecure-registry. Default: none besides loopback addresses.
func WithInsecure(hosts ...string) Option {
	return func(o *options) {
		for _, h := range hosts {
			o.insecure[h] = true
		}
	}
}

// WithKeychain sets where credentials come from when a request carries
// none. Default: authn.DefaultKeychain (~/.docker/config.json and helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

// WithTransport sets the HTTP transport. Default: http.DefaultTransport.
func WithTransport(t http.RoundTripper) Option { return func(o *options) { o.transport = t } }

// WithEvents sends pull and push events to publish. Default: dropped.
func WithEvents(publish func(engine.Event)) Option { return func(o *options) { o.publish = publish } }

// WithPlatform sets the platform picked from multi-platform images.
// Default: linux and the host's architecture.
func WithPlatform(p v1.Platform) Option { return func(o *options) { o.platform = p } }

// WithHubSearchURL sets Docker Hub's search endpoint, for tests.
// Default: https://index.docker.io/v1/search.
func WithHubSearchURL(u string) Option { return func(o *options) { o.hubSearch = u } }

// New returns a Registry that stores pulled images in s.
func New(s Store, opts ...Option) *Registry {
	o := options{
		insecure:  map[string]bool{},
		keychain:  authn.DefaultKeychain,
		transport: http.DefaultTransport,
		platform:  hostPlatform(),
		jobs:      4,
		hubSearch: "https://index.docker.io/v1/search",
		userAgent: "berth",
	}
	for _, opt := range opts {
		opt(&o)
	}
	o.transport = schemePolicy{next: o.transport, insecure: o.insecure}
	return &Registry{store: s, opts: o}
}

func hostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// parse reads a reference, marking insecure registries.
func (r *Registry) parse(s string) (name.Reference, error) {
	ref, err := reference.Parse(s)
	if err != nil {
		return nil, err
	}
	if r.opts.insecure[ref.Context().RegistryStr()] {
		return reference.Parse(s, name.Insecure)
	}
	return ref, nil
}

func (r *Registry) remoteOptions(ctx context.Context, repo name.Repository, auth *engine.AuthConfig) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(r.opts.transport),
		remote.WithUserAgent(r.opts.userAgent),
		remote.WithJobs(r.opts.jobs),
		// Fail fast enough for a person waiting on a button, but ride
		// out a blip.
		remote.WithRetryBackoff(remote.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 3}),
	}
	if a := authenticator(auth); a != nil {
		return append(opts, remote.WithAuth(a))
	}
	return append(opts, remote.WithAuthFromKeychain(r.opts.keychain))
}

// authenticator turns the credentials a client sent into an Authenticator,
// or nil when it sent none.
func authenticator(a *engine.AuthConfig) authn.Authenticator {
	if a == nil || (a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == "") {
		return nil
	}
	cfg := authn.AuthConfig{Username: a.Username, Password: a.Password, Auth: a.Auth, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
	if cfg.Username == "" && cfg.Auth != "" {
		if raw, err := base64.StdEncoding.DecodeString(cfg.Auth); err == nil {
			if user, pass, ok := strings.Cut(string(raw), ":"); ok {
				cfg.Username, cfg.Password, cfg.Auth = user, pass, ""
			}
		}
	}
	return authn.FromConfig(cfg)
}

func (r *Registry) publish(action, id string, attrs map[string]string) {
	if r.opts.publish != nil {
		r.opts.publish(engine.Event{Type: "image", Action: action, ID: id, Attributes: attrs, Time: time.Now()})
	}
}

// Pull fetches ref for the host's platform into the store and returns the
// image ID. Progress reports the manifest lookup, then every layer.
func (r *Registry) Pull(ctx context.Context, refStr string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	return r.pull(ctx, refStr, r.opts.platform, true, auth, progress)
}

// PullPlatform fetches ref for platform ("linux/arm64"), a build's base
// for another CPU. Unless platform is the host's, the image is stored
// without ref's name, which stays on the host's image.
func (r *Registry) PullPlatform(ctx context.Context, refStr, platform string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		return "", fmt.Errorf("pull %s: platform %q: %w: %w", refStr, platform, err, engine.ErrInvalidArgument)
	}
	host := r.opts.platform
	return r.pull(ctx, refStr, *p, p.OS == host.OS && p.Architecture == host.Architecture, auth, progress)
}

func (r *Registry) pull(ctx context.Context, refStr string, platform v1.Platform, named bool, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	ref, err := r.parse(refStr)
	if err != nil {
		return "", fmt.Errorf("pull: %w", err)
	}
	familiar := reference.Familiar(reference.Canonical(ref))
	progress.Report(engine.Progress{Status: engine.ProgressResolving, Message: "Pulling from " + ref.Context().RepositoryStr(), ID: ref.Identifier()})
	opts := append(r.remoteOptions(ctx, ref.Context(), auth), remote.WithPlatform(platform))
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", familiar, classify(err))
	}
	img, err := desc.Image() // for an index, the child for the platform given above
	if err != nil {
		if desc.MediaType.IsIndex() {
			return "", fmt.Errorf("pull %s: no image for %s in this multi-platform image: %w: %w", familiar, platformString(platform), engine.ErrNotFound, classify(err))
		}
		return "", fmt.Errorf("pull %s: %w", familiar, classify(err))
	}
	manifestDigest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", familiar, classify(err))
	}
	repoDigest := reference.Canonical(ref.Context().Digest(manifestDigest.String()))
	var names []string
	if tag, ok := ref.(name.Tag); ok && named {
		names = []string{reference.Canonical(tag)}
	}
	msg := "Image is up to date for " + familiar
	id, stored, err := r.store.Resolve(refStr)
	if !named {
		id, stored, err = r.store.Resolve(repoDigest) // stored unnamed, found by its repository digest
	}
	if err != nil || stored != manifestDigest.String() {
		msg = "Downloaded newer image for " + familiar
		id, err = r.store.Put(ctx, img, store.PutOptions{Names: names, RepoDigest: repoDigest, Progress: progress})
		if err != nil {
			return "", fmt.Errorf("pull %s: %w", familiar, classify(err))
		}
	}
	progress.Report(engine.Progress{Status: engine.ProgressDone, Message: "Digest: " + manifestDigest.String()})
	progress.Report(engine.Progress{Status: engine.ProgressDone, Message: "Status: " + msg})
	r.publish("pull", familiar, map[string]string{"name": familiar})
	return id, nil
}

func familiarRepo(ref name.Reference) string {
	repo := reference.Canonical(ref.Context().Tag("x"))
	return strings.TrimPrefix(strings.TrimSuffix(repo, ":x"), "docker.io/")
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Tags lists the tags of repository in its registry.
func (r *Registry) Tags(ctx context.Context, repository string, auth *engine.AuthConfig) ([]string, error) {
	ref, err := r.parse(repository)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	tags, err := remote.List(ref.Context(), r.remoteOptions(ctx, ref.Context(), auth)...)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repository, classify(err))
	}
	return tags, nil
}

// Distribution asks the registry about ref.
func (r *Registry) Distribution(ctx context.Context, ref string, auth *engine.AuthConfig) (engine.Distribution, error) {
	var out engine.Distribution
	parsed, err := r.parse(ref)
	if err != nil {
		return out, fmt.Errorf("inspect %s: %w", ref, err)
	}
	desc, err := remote.Get(parsed, r.remoteOptions(ctx, parsed.Context(), auth)...)
	if err != nil {
		return out, fmt.Errorf("inspect %s: %w", ref, classify(err))
	}
	out.Descriptor.MediaType, out.Descriptor.Digest, out.Descriptor.Size = string(desc.MediaType), desc.Digest.String(), desc.Size
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return out, fmt.Errorf("inspect %s: %w", ref, classify(err))
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return out, fmt.Errorf("inspect %s: %w", ref, classify(err))
		}
		for _, d := range m.Manifests {
			if p := d.Platform; p != nil {
				out.Platforms = append(out.Platforms, engine.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion})
			}
		}
		return out, nil
	}
	img, err := desc.Image()
	if err != nil {
		return out, fmt.Errorf("inspect %s: %w", ref, classify(err))
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return out, fmt.Errorf("inspect %s: %w", ref, classify(err))
	}
	out.Platforms = []engine.Platform{{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}}
	return out, nil
}

// Interface guards.
var _ engine.Registry = (*Registry)(nil)
