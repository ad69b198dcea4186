package engine

import (
	"context"
	"io"
	"os"
	"strings"
	"time"
)

// ContainerSpec is what a container is created from: the image plus any
// overrides. Zero values mean "as the image says".
type ContainerSpec struct {
	Name  string // empty: a generated name
	Image string
	// Entrypoint and Cmd replace the image's when not nil. A non-nil empty
	// Entrypoint clears the image's entrypoint (docker run --entrypoint "").
	Entrypoint []string
	Cmd        []string
	Env        []string // added to (and overriding) the image's
	WorkingDir string
	User       string // "name", "uid", "uid:gid", "name:group"
	Hostname   string
	Tty        bool
	OpenStdin  bool
	// ConsoleHeight and ConsoleWidth size the TTY from the start.
	ConsoleHeight, ConsoleWidth uint
	// Ports publishes container ports on the host.
	Ports []PortBinding
	// PublishAll publishes every exposed port on a free host port (-P).
	PublishAll   bool
	ExposedPorts []string // "80/tcp", added to the image's
	Mounts       []Mount
	Memory       int64 // bytes, 0: no limit
	NanoCPUs     int64 // 1e9 = one CPU, 0: no limit
	Restart      RestartPolicy
	AutoRemove   bool
	Labels       map[string]string
	StopSignal   string // empty: the image's, else SIGTERM
	StopTimeout  *int   // seconds, nil: 10
	// NoNewPrivileges stops setuid binaries from gaining privileges
	// (--security-opt no-new-privileges).
	NoNewPrivileges bool
	Security        Security
	// Network is "" or "bridge" (Berth's bridge), "none" (a loopback
	// only), "host" (the engine's own network), or the name of a network
	// made with CreateNetwork.
	Network string
	// Aliases are more names the container answers to on a user-defined
	// Network (compose gives each container its service's name).
	Aliases []string
	// ExtraHosts are more /etc/hosts lines, "name:ip" (--add-host; the
	// ip "host-gateway" is the engine's host as the container sees it).
	ExtraHosts []string
	// DNS, DNSSearch and DNSOptions replace resolv.conf's nameservers,
	// search domains and options (--dns, --dns-search, --dns-option).
	DNS, DNSSearch, DNSOptions []string
	// Links name other containers on the engine's bridge in /etc/hosts,
	// "name[:alias]" (--link).
	Links []string
	// Healthcheck overrides the image's HEALTHCHECK field by field
	// (--health-cmd, --health-interval…); Test ["NONE"] turns it off.
	Healthcheck *HealthCheck
}

// OnBridge says whether the container's network is the engine's bridge
// (the default), not host, none or a user-defined network.
func (s ContainerSpec) OnBridge() bool {
	return s.Network == "" || s.Network == "bridge" || s.Network == "default"
}

// Security is what a container may do, beyond Docker's defaults (the
// default capabilities, Docker's seccomp profile, masked /proc paths).
type Security struct {
	// Privileged gives every capability and device, no seccomp filter
	// and no masked paths (docker run --privileged).
	Privileged bool
	// CapAdd and CapDrop change the default capabilities ("NET_ADMIN" or
	// "CAP_NET_ADMIN"; "ALL" for every one).
	CapAdd, CapDrop []string
	// Seccomp is "" (Docker's default profile), "unconfined", or a
	// profile in Docker's JSON format (--security-opt seccomp=FILE).
	Seccomp string
	// ReadOnly mounts the root filesystem read-only (--read-only).
	ReadOnly bool
	// PidsLimit bounds the processes in the container; 0: no limit.
	PidsLimit int64
	Ulimits   []Ulimit
	Devices   []Device
}

// Ulimit is a resource limit (--ulimit nofile=1024:2048).
type Ulimit struct {
	Name       string // "nofile", "nproc", …
	Soft, Hard int64
}

// Device is a host device given to the container (--device).
type Device struct {
	PathOnHost, PathInContainer string
	Permissions                 string // "rwm" by default
}

// PortBinding publishes ContainerPort/Proto on HostIP:HostPort.
// HostPort 0 picks a free port; HostIP "" means all addresses.
type PortBinding struct {
	HostIP        string
	HostPort      int
	ContainerPort int
	Proto         string // "tcp" or "udp"
}

// Mount is a bind mount (Source is a host path) or a named volume
// (Source is the volume name; empty for an anonymous volume).
type Mount struct {
	Type     string // "bind" or "volume"
	Source   string
	Target   string
	ReadOnly bool
}

// RestartPolicy says what happens when a container's process ends.
type RestartPolicy struct {
	Name       string // "no", "always", "on-failure", "unless-stopped"
	MaxRetries int
}

// ContainerStatus is a container's life stage.
type ContainerStatus string

const (
	StatusCreated    ContainerStatus = "created"
	StatusRunning    ContainerStatus = "running"
	StatusPaused     ContainerStatus = "paused"
	StatusRestarting ContainerStatus = "restarting"
	StatusExited     ContainerStatus = "exited"
	StatusDead       ContainerStatus = "dead"
)

// ContainerState is where a container is in its life.
type ContainerState struct {
	Status     ContainerStatus
	Pid        int
	ExitCode   int
	Error      string
	OOMKilled  bool
	StartedAt  time.Time
	FinishedAt time.Time
	// Health is the health check's view while the container runs with
	// one; nil without.
	Health *Health
}

// Health is a running container's health, from its health check.
type Health struct {
	Status        string // "starting", "healthy" or "unhealthy"
	FailingStreak int
	Log           []HealthResult // the last few checks, oldest first
}

// HealthResult is one run of a health check.
type HealthResult struct {
	Start, End time.Time
	ExitCode   int
	Output     string
}

// Container is one container as `docker ps` and `docker inspect` show it.
type Container struct {
	ID      string
	Name    string
	Image   string // as the user named it
	ImageID string
	Created time.Time
	// Path and Args are the resolved command: entrypoint and cmd joined.
	Path       string
	Args       []string
	Spec       ContainerSpec
	State      ContainerState
	Ports      []PortBinding // as published, host ports resolved
	IPAddress  string
	Gateway    string
	MacAddress string
	// Networks are the user-defined networks it is attached to.
	Networks     []Attachment
	RestartCount int
	LogPath      string
	Labels       map[string]string
	// StatusText is how an engine's list words the state ("Up 3 minutes"),
	// for lists that come without the start time.
	StatusText string
}

// LogOptions select log lines.
type LogOptions struct {
	Stdout, Stderr bool
	Follow         bool
	Timestamps     bool
	Since, Until   time.Time // zero: no bound
	Tail           int       // lines from the end; < 0: all
}

// LogEntry is one chunk a container wrote.
type LogEntry struct {
	Stream string // "stdout" or "stderr"
	Time   time.Time
	Data   []byte
}

// AttachOptions connect a client to a container's standard streams.
// Nil writers and a nil Stdin are not attached.
type AttachOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Logs first replays what the container wrote so far.
	Logs bool
}

// ExecSpec is a process to run in a running container.
type ExecSpec struct {
	Cmd                         []string
	Env                         []string
	User                        string
	WorkingDir                  string
	Tty                         bool
	ConsoleHeight, ConsoleWidth uint
	Privileged                  bool
	// Resizes, with Tty, carries the terminal's new sizes while the
	// process runs (docker's exec resize).
	Resizes <-chan TermSize `json:"-"`
}

// TermSize is a terminal's size in characters.
type TermSize struct{ Height, Width uint }

// ContainerStats is one sample of a container's resource use.
type ContainerStats struct {
	Read        time.Time
	CPUTotal    uint64 // nanoseconds of CPU used since start
	SystemCPU   uint64 // nanoseconds of CPU the host used since boot
	OnlineCPUs  int
	MemoryUsage uint64
	MemoryLimit uint64
	PIDs        uint64
}

// Containers create and control containers. Names may be full IDs,
// unique ID prefixes or names; unknown ones give ErrNotFound.
type Containers interface {
	// Create makes a container without starting it and returns its ID.
	Create(ctx context.Context, spec ContainerSpec) (string, error)
	// Start runs the container's process. Starting a running container is
	// not an error.
	Start(ctx context.Context, name string) error
	// Stop sends the stop signal, then SIGKILL after timeout (nil: the
	// container's StopTimeout, else 10 s).
	Stop(ctx context.Context, name string, timeout *time.Duration) error
	// Kill sends signal ("" means SIGKILL) to the container's process.
	Kill(ctx context.Context, name, signal string) error
	// Wait registers interest in the container not running (condition
	// "not-running"), its next exit ("next-exit"), or its removal
	// ("removed"). The condition is registered when Wait returns, so a
	// Start that follows cannot be missed; the returned func blocks until
	// the condition holds and gives the exit code.
	Wait(ctx context.Context, name, condition string) (func() (int, error), error)
	// Remove deletes a stopped container (force: kills it first) with its
	// writable layer, and its anonymous volumes when volumes is set.
	Remove(ctx context.Context, name string, force, volumes bool) error
}

// ContainerFiles copy files in and out of a container's file system
// (docker cp), running or not. Paths are the container's; symlinks on the
// way resolve inside it, and nothing is read or written outside it or the
// mounts it was given.
type ContainerFiles interface {
	// StatPath describes path without following a final symlink.
	StatPath(ctx context.Context, name, path string) (PathStat, error)
	// ArchivePath streams path (a file, or a folder with what it holds) as
	// a tar archive whose top entry is path's base name. Closing the
	// reader early ends the copy.
	ArchivePath(ctx context.Context, name, path string) (PathStat, io.ReadCloser, error)
	// ExtractArchive unpacks a tar archive (plain or compressed) into the
	// folder dir.
	ExtractArchive(ctx context.Context, name, dir string, archive io.Reader, opts ExtractOptions) error
}

// PathStat is what docker cp is told about a path before the copy.
type PathStat struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Mode       os.FileMode `json:"mode"`
	Mtime      time.Time   `json:"mtime"`
	LinkTarget string      `json:"linkTarget"`
}

// ExtractOptions are docker cp's choices when copying in.
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a folder with a file or a
	// file with a folder.
	NoOverwriteDirNonDir bool
	// KeepOwners keeps the archive's owners (docker cp -a); otherwise
	// copied files belong to root.
	KeepOwners bool
}

// ContainerViews look at containers.
type ContainerViews interface {
	// List returns running containers, or all when all is set, newest first.
	List(ctx context.Context, all bool) ([]Container, error)
	Inspect(ctx context.Context, name string) (Container, error)
	// Logs sends log entries to fn until the log ends (or, following,
	// until the container stops or ctx ends).
	Logs(ctx context.Context, name string, opts LogOptions, fn func(LogEntry) error) error
	Stats(ctx context.Context, name string) (ContainerStats, error)
}

// ContainerControls are the less common lifecycle operations.
type ContainerControls interface {
	Restart(ctx context.Context, name string, timeout *time.Duration) error
	Pause(ctx context.Context, name string) error
	Unpause(ctx context.Context, name string) error
	Rename(ctx context.Context, name, newName string) error
	// Prune removes every stopped container and returns their IDs.
	Prune(ctx context.Context) ([]string, error)
}

// ContainerIO connects clients to container processes.
type ContainerIO interface {
	// Attach connects to the container's streams. It returns once the
	// client is registered (so a Start that follows misses nothing); the
	// returned wait blocks until the container's output ends or ctx ends.
	Attach(ctx context.Context, name string, opts AttachOptions) (wait func() error, err error)
	// Resize sets a TTY container's terminal size.
	Resize(ctx context.Context, name string, height, width uint) error
	// Exec runs a process in a running container, returning its exit code.
	Exec(ctx context.Context, name string, spec ExecSpec, io AttachOptions) (int, error)
}

// Volume is a named (or anonymous) volume as `docker volume inspect`
// shows it.
type Volume struct {
	Name       string
	Mountpoint string // its folder on the engine's host
	Created    time.Time
	Labels     map[string]string
	// Anonymous: made for one container (its -v /path or the image's
	// VOLUME), not by name; `docker volume prune` removes only these
	// unless asked for all.
	Anonymous bool
	// UsedBy are the IDs of the containers that mount it, where known;
	// Containers counts them always (docker system df gives only that).
	UsedBy     []string
	Containers int
	// Size is what its files take, in bytes; -1 when not counted.
	Size int64
	// Options are the local driver's (type=tmpfs, or o=bind with device).
	Options map[string]string
}

// Volumes keeps named volumes: `docker volume` and compose's volumes.
type Volumes interface {
	// ListVolumes lists every volume; withSize counts their files.
	ListVolumes(ctx context.Context, withSize bool) ([]Volume, error)
	// CreateVolume makes a volume (a random name when name is empty) or
	// returns the one of that name.
	CreateVolume(ctx context.Context, name string, labels map[string]string) (Volume, error)
	InspectVolume(ctx context.Context, name string) (Volume, error)
	// RemoveVolume removes a volume no container uses (ErrConflict
	// otherwise, unless force and the containers are gone).
	RemoveVolume(ctx context.Context, name string, force bool) error
	// PruneVolumes removes the volumes no container uses: anonymous ones,
	// or all with all set, whose labels have every key[=value] of labels.
	PruneVolumes(ctx context.Context, all bool, labels []string) (removed []string, reclaimed int64, err error)
}

// MatchLabels: labels have every "key" and "key=value" of filters, as
// Docker's label filters AND (compose lists a project's containers by two).
func MatchLabels(filters []string, labels map[string]string) bool {
	for _, f := range filters {
		k, v, hasValue := strings.Cut(f, "=")
		got, ok := labels[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	return true
}

// ProcessList is what `docker top` shows: column titles and a row of
// values per process.
type ProcessList struct {
	Titles    []string
	Processes [][]string
}

// FileChange is one path a container changed, as `docker diff` shows it.
type FileChange struct {
	Path string
	Kind int // 0 modified, 1 added, 2 deleted (dockerd's numbers)
}

// ContainerInsight looks into a container: its processes, and what it
// changed in its image's files.
type ContainerInsight interface {
	Top(ctx context.Context, name string) (ProcessList, error)
	Changes(ctx context.Context, name string) ([]FileChange, error)
}

// DiskUsage is what `docker system df` shows: the space images,
// containers, volumes and the build cache take.
type DiskUsage struct {
	// LayersSize counts each image layer once, however many images share it.
	LayersSize int64
	Images     []ImageUsage
	Containers []ContainerUsage
	Volumes    []Volume // with Size counted
	BuildCache []BuildCacheUsage
}

// ImageUsage is one image's share of the layers.
type ImageUsage struct {
	ImageSummary
	// SharedSize is the bytes of its layers other images use too.
	SharedSize int64
}

// ContainerUsage is one container's writable layer.
type ContainerUsage struct {
	Container
	SizeRw int64
}

// BuildCacheUsage is one build cache entry that holds a layer.
type BuildCacheUsage struct {
	ID          string
	Size        int64
	LastUsed    time.Time
	InUse       bool // an image holds its layer too
	Description string
}

// DiskUsager reports disk usage.
type DiskUsager interface {
	DiskUsage(ctx context.Context) (DiskUsage, error)
}

// CommitOptions are docker commit's: the names the image gets, its
// author and comment.
type CommitOptions struct {
	Names           []string
	Author, Comment string
}

// Committer makes an image of a container: its image with what the
// container changed as one more layer, and its command and environment.
type Committer interface {
	CommitContainer(ctx context.Context, name string, opts CommitOptions) (string, error)
}

// Importer makes an image of one file-system tarball (docker import).
type Importer interface {
	Import(ctx context.Context, archive io.Reader, names []string, comment string) (string, error)
}

// Network is a user-defined bridge network (docker network create): a
// bridge and subnet of its own, where containers reach each other by name.
type Network struct {
	ID, Name        string
	Subnet, Gateway string
	// Internal: no route out of the network.
	Internal bool
	Labels   map[string]string
	Created  time.Time
	// Endpoints are the containers attached to it.
	Endpoints []Attachment
}

// Attachment is a container on a user-defined network.
type Attachment struct {
	NetworkID, Network string
	ContainerID        string
	ContainerName      string
	// Aliases are the names it answers to there besides its own.
	Aliases []string
	// IPAddress, Gateway, MacAddress and PrefixLen are set while it runs.
	IPAddress, Gateway, MacAddress string
	PrefixLen                      int
}

// NetworkOptions are what a network is made with; empty Subnet and
// Gateway are chosen from the engine's address pool.
type NetworkOptions struct {
	Name            string
	Labels          map[string]string
	Subnet, Gateway string
	Internal        bool
}

// Networks are an engine's user-defined networks.
type Networks interface {
	CreateNetwork(ctx context.Context, opts NetworkOptions) (Network, error)
	// ListNetworks lists them with their endpoints.
	ListNetworks(ctx context.Context) ([]Network, error)
	// InspectNetwork finds one by name, ID or unique ID prefix.
	InspectNetwork(ctx context.Context, ref string) (Network, error)
	// RemoveNetwork removes one no running container is attached to.
	RemoveNetwork(ctx context.Context, ref string) error
	// ConnectNetwork attaches a container (running or not) with aliases;
	// DisconnectNetwork detaches it.
	ConnectNetwork(ctx context.Context, network, container string, aliases []string) error
	DisconnectNetwork(ctx context.Context, network, container string) error
}

// ContainerUpdate is what docker update changes; nil leaves it be.
type ContainerUpdate struct {
	Memory    *int64 // bytes, 0: no limit
	NanoCPUs  *int64
	PidsLimit *int64 // 0 or -1: no limit
	Restart   *RestartPolicy
}
