package engine

import (
	"context"
	"io"
)

// Images are the images on this engine.
type Images interface {
	// List returns every image, tagged and dangling, newest first.
	List(ctx context.Context) ([]ImageSummary, error)
	// Inspect resolves name (a reference, full ID or unique ID prefix).
	// It returns an error wrapping ErrNotFound when nothing matches.
	Inspect(ctx context.Context, name string) (ImageDetail, error)
	// History lists the build steps of an image, newest first.
	History(ctx context.Context, name string) ([]HistoryItem, error)
	// Tag gives the image that source names the additional name target.
	// It MUST be idempotent.
	Tag(ctx context.Context, source, target string) error
	// Remove untags name and deletes the image once no name is left. An
	// image used by a container or named in several repositories (when
	// name is an ID) is refused with ErrConflict unless force.
	Remove(ctx context.Context, name string, force bool) ([]DeleteResult, error)
	// Prune deletes dangling images, or every image no container uses when all.
	Prune(ctx context.Context, all bool) (PruneReport, error)
}

// Registry moves images between this engine and registries.
type Registry interface {
	// Pull fetches ref for the host's platform into the store, layers in
	// parallel, every byte verified, and returns the image ID.
	Pull(ctx context.Context, ref string, auth *AuthConfig, progress ProgressFunc) (string, error)
	// Push uploads the image named ref, skipping blobs the registry has,
	// and returns the manifest digest.
	Push(ctx context.Context, ref string, auth *AuthConfig, progress ProgressFunc) (string, error)
	// Search finds repositories: Docker Hub's search for docker.io, the
	// catalog filtered by name elsewhere. A registry host may prefix term.
	Search(ctx context.Context, term string, limit int, auth *AuthConfig) ([]SearchResult, error)
	// Tags lists the tags of a repository in a registry.
	Tags(ctx context.Context, repository string, auth *AuthConfig) ([]string, error)
	// Distribution asks the registry what ref names now, without pulling
	// it (docker's /distribution/{name}/json): its manifest's digest.
	Distribution(ctx context.Context, ref string, auth *AuthConfig) (Distribution, error)
	// Login checks credentials against auth.ServerAddress's registry
	// (Docker Hub when empty); a refusal is ErrUnauthorized.
	Login(ctx context.Context, auth *AuthConfig) error
}

// Archives move images in and out as `docker save` tarballs.
type Archives interface {
	// Save writes the named images to w as one docker-archive tarball.
	Save(ctx context.Context, names []string, w io.Writer) error
	// Load reads a docker-archive tarball and stores every image in it,
	// returning the names (or IDs, for untagged images) it loaded.
	Load(ctx context.Context, r io.Reader, progress ProgressFunc) ([]string, error)
}

// Events streams what happens on the engine.
type Events interface {
	// Subscribe returns past events that match filter since the given
	// time, then live ones, until ctx ends. The channel closes at the end.
	Subscribe(ctx context.Context, filter EventFilter) <-chan Event
}

// EventFilter selects events. Empty fields match everything.
type EventFilter struct {
	Since, Until int64 // unix nanoseconds; 0 means no bound (Since=0: no past events)
	Types        []string
	Actions      []string
	IDs          []string // matches Event.ID or its "name" attribute
}

// AuthConfig is credentials for one registry, as the docker CLI sends them.
// A nil *AuthConfig means: use the engine's own keychain (~/.docker/config.json).
type AuthConfig struct {
	Username      string
	Password      string
	Auth          string // base64 "user:password"
	IdentityToken string
	RegistryToken string
	ServerAddress string
}

// Engine is everything the app drives.
type Engine interface {
	Images
	Registry
	Archives
	Events
}
