package engine

import "time"

// ImageSummary is one image as listed in the gallery and by `docker images`.
// An image with several names is one summary with several RepoTags.
type ImageSummary struct {
	// ID is the digest of the image's config blob ("sha256:…"), as docker uses.
	ID string
	// RepoTags are familiar names ("busybox:latest", "localhost:5000/app:v1").
	// Empty for a dangling image.
	RepoTags []string
	// RepoDigests are familiar "name@sha256:…" references to the manifest as
	// stored in a registry the image was pulled from or pushed to.
	RepoDigests []string
	// Created is when the image was built (from its config), not pulled.
	Created time.Time
	// Size is the unpacked size of all layers in bytes.
	Size   int64
	Labels map[string]string
	// Containers is how many containers use the image (-1 when unknown).
	Containers int
}

// ImageConfig is the part of an image's config a container starts from.
type ImageConfig struct {
	User         string
	Env          []string
	Entrypoint   []string
	Cmd          []string
	WorkingDir   string
	ExposedPorts []string // "80/tcp"
	Volumes      []string
	Labels       map[string]string
	StopSignal   string
	Healthcheck  *HealthCheck
	OnBuild      []string // ONBUILD triggers, run by builds FROM this image
	Shell        []string // SHELL, for shell-form RUN, CMD and ENTRYPOINT
}

// HealthCheck is an image's HEALTHCHECK.
type HealthCheck struct {
	// Test is ["NONE"], ["CMD", args...] or ["CMD-SHELL", command].
	Test                                          []string
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	Retries                                       int
}

// ImageDetail is everything `docker inspect` shows about an image.
type ImageDetail struct {
	ImageSummary
	Architecture string
	Variant      string
	OS           string
	Author       string
	Comment      string
	Config       ImageConfig
	// Layers are the uncompressed layer digests (diff IDs), base first.
	Layers []string
	// ManifestDigest is the digest of the stored manifest.
	ManifestDigest string
	// LastTagTime is when a name last pointed at this image.
	LastTagTime time.Time
}

// HistoryItem is one step of how an image was built, newest first as in
// `docker history`.
type HistoryItem struct {
	// ID is the image ID for the newest step, "<missing>" for the others
	// (their intermediate images are not stored, as with a pulled image).
	ID        string
	Created   time.Time
	CreatedBy string
	Comment   string
	// Size is the unpacked size of the layer this step made; 0 for steps
	// that only change metadata.
	Size int64
	Tags []string
	// EmptyLayer is true for steps that made no layer (ENV, CMD, …).
	EmptyLayer bool
}

// ProgressStatus says what is happening to one layer or the whole job.
type ProgressStatus int

const (
	ProgressResolving ProgressStatus = iota // looking up the reference
	ProgressWaiting                         // queued behind other layers
	ProgressDownloading
	ProgressDownloaded // blob complete and verified
	ProgressExtracting
	ProgressAlreadyExists // nothing to do: present in the store or registry
	ProgressPullComplete  // layer unpacked and ready
	ProgressPushing
	ProgressPushed
	ProgressDone // the whole job ended; Message says how
)

var progressNames = [...]string{
	"Resolving", "Waiting", "Downloading", "Download complete", "Extracting",
	"Already exists", "Pull complete", "Pushing", "Pushed", "Done",
}

func (s ProgressStatus) String() string {
	if int(s) < len(progressNames) {
		return progressNames[s]
	}
	return "Unknown"
}

// Progress is one event of a long job (pull, push, load). Layer events carry
// the layer's short ID and byte counts; job-wide events have an empty ID.
type Progress struct {
	ID      string // short layer digest, "" for the whole job
	Status  ProgressStatus
	Current int64 // bytes done
	Total   int64 // bytes in all, 0 when unknown
	Message string
}

// ProgressFunc receives progress events. It is called from the job's
// goroutines, possibly concurrently, and must not block for long.
type ProgressFunc func(Progress)

// Report calls f with p when f is not nil.
func (f ProgressFunc) Report(p Progress) {
	if f != nil {
		f(p)
	}
}

// SearchResult is one repository found by a registry search.
type SearchResult struct {
	Name        string
	Description string
	Stars       int
	Official    bool
	Automated   bool
}

// DeleteResult is one thing removing an image did: a name untagged or an
// image deleted.
type DeleteResult struct {
	Untagged string
	Deleted  string
}

// PruneReport says what a prune removed.
type PruneReport struct {
	Deleted        []DeleteResult
	SpaceReclaimed int64
}

// Event is something that happened to an object, as `docker events` shows.
type Event struct {
	Type       string // "image", later "container"
	Action     string // "pull", "push", "tag", "untag", "delete", "load", "save", "prune"
	ID         string // the object: an image reference or ID
	Attributes map[string]string
	Time       time.Time
}

// Distribution is what a registry says of a reference without pulling it
// (/distribution/{name}/json): its manifest's descriptor, and the
// platforms it has images for.
type Distribution struct {
	Descriptor struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	Platforms []Platform
}

// Platform is an image's OS and CPU, as the OCI writes them.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	OSVersion    string `json:"os.version,omitempty"`
	Variant      string `json:"variant,omitempty"`
}
