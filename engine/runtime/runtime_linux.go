package runtime

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"

	// Device rules in cgroups need the devices controller's code.
	_ "github.com/opencontainers/cgroups/devices"
)

// Images is what the runtime needs from the image store.
type Images interface {
	Inspect(ctx context.Context, name string) (engine.ImageDetail, error)
	LayerPath(diffID string) string
}

// Runtime runs the engine's containers.
type Runtime struct {
	root      string // <data-root>/containers
	volumes   string // <data-root>/volumes
	stateRoot string // libcontainer's state, on tmpfs: gone after a reboot
	images    Images
	net       *network
	// nets are the user-defined networks, kept under netDir; netMu guards
	// them and their addresses (taken after a container's lock).
	netMu    sync.Mutex
	nets     map[string]*userNet
	netDir   string
	pool     string
	poolSize int
	publish  func(engine.Event)
	// portsOnAnyAddress: see WithPortsOnAnyAddress.
	portsOnAnyAddress bool
	// sharedFolders: see WithSharedFolders (nil: not in a VM).
	sharedFolders []string
	// rootless: see WithRootless.
	rootless bool
	// cgroup and controllers, for a rootless engine: the cgroup the
	// system delegated to it ("": none) and the controllers it may use.
	cgroup      string
	controllers []string

	mu   sync.Mutex
	byID map[string]*ctr
	// volMu orders volume removal after a create that mounts the volume
	// has recorded it (create holds it from making the volume on).
	volMu sync.Mutex

	// launches bounds the processes being started at once (containers,
	// execs, build steps). Past a few per core more do not finish sooner;
	// each one blocked in the kernel holds a thread of its own, and Go
	// never gives threads back.
	launches chan struct{}

	stop      chan struct{}
	poolDone  <-chan struct{}
	closeOnce sync.Once
}

// ctr is one container and its current run.
type ctr struct {
	rt  *Runtime
	dir string

	mu      sync.Mutex
	rec     *record
	lc      *libcontainer.Container
	proc    *libcontainer.Process
	stdin   io.WriteCloser
	pty     console.Console
	streams *streams
	log     *logFile
	proxies []*portProxy
	exited  chan struct{} // closed when the current run has ended
	removed chan struct{}
	running bool
	// nextExit are waiters for the end of the next run to start.
	nextExit []chan struct{}
	// rlimits are the current run's limits, for the processes exec adds.
	rlimits []configs.Rlimit
}

// Option configures a Runtime.
type Option func(*options)

type options struct {
	runDir  string
	publish func(engine.Event)
	bridge  string
	bip     string
	nat     bool
	// anyAddress: published ports listen on every address (see
	// WithPortsOnAnyAddress).
	anyAddress bool
	// sharedFolders, when not nil: see WithSharedFolders.
	sharedFolders []string
	rootless      bool // see WithRootless
	cgroup        string
	controllers   []string
	// pool and poolSize: see WithAddressPool.
	pool     string
	poolSize int
}

// WithBridge sets the bridge containers attach to and its address with
// prefix length (the gateway), and whether their traffic to the outside
// is masqueraded. Default: berth0, 10.88.0.1/16, masqueraded.
func WithBridge(name, bip string, nat bool) Option {
	return func(o *options) { o.bridge, o.bip, o.nat = name, bip, nat }
}

// WithPortsOnAnyAddress makes published ports listen on every address of
// this machine whatever host IP they name. A VM's engine wants it: the
// name is an address of the user's computer, where the VM helper opens
// the port, while inside the VM the forward arrives on the VM's own
// network address, not on 127.0.0.1. Inspect still reports the named IP.
func WithPortsOnAnyAddress() Option { return func(o *options) { o.anyAddress = true } }

// WithSharedFolders says the engine runs in a VM that sees only these
// folders of the user's computer (at the same paths). A bind mount whose
// source is missing here must then lie in one of them: docker run -v
// would otherwise make an empty folder inside the VM, which is never what
// a user on macOS or Windows means, so the run is refused and says why.
func WithSharedFolders(folders []string) Option {
	return func(o *options) { o.sharedFolders = append([]string{}, folders...) }
}

// WithRunDir sets where runtime state that must not outlive a reboot
// lives (libcontainer state, network namespaces). Default: /run/berth.
func WithRunDir(dir string) Option { return func(o *options) { o.runDir = dir } }

// WithEvents sends container events to publish. Default: dropped.
func WithEvents(publish func(engine.Event)) Option { return func(o *options) { o.publish = publish } }

// New opens the runtime under dataRoot. Containers that were running when
// the engine stopped are cleaned up and reported as exited; those whose
// restart policy asks for it are started again.
func New(dataRoot string, images Images, opts ...Option) (*Runtime, error) {
	o := options{runDir: "/run/berth", bridge: DefaultBridge, bip: DefaultBIP, nat: true, pool: DefaultAddressPool, poolSize: DefaultPoolSize}
	for _, opt := range opts {
		opt(&o)
	}
	rt := &Runtime{
		root:              filepath.Join(dataRoot, "containers"),
		volumes:           filepath.Join(dataRoot, "volumes"),
		stateRoot:         filepath.Join(o.runDir, "runc"),
		images:            images,
		publish:           o.publish,
		byID:              map[string]*ctr{},
		launches:          make(chan struct{}, max(4, 2*goruntime.NumCPU())),
		portsOnAnyAddress: o.anyAddress,
		rootless:          o.rootless,
		cgroup:            o.cgroup,
		controllers:       o.controllers,
		sharedFolders:     o.sharedFolders,
		nets:              map[string]*userNet{},
		netDir:            filepath.Join(dataRoot, "networks"),
		pool:              o.pool,
		poolSize:          o.poolSize,
	}
	if _, p, err := net.ParseCIDR(o.pool); err != nil || p.IP.To4() == nil || o.poolSize > 30 || o.poolSize < func() int { ones, _ := p.Mask.Size(); return ones }() {
		return nil, fmt.Errorf("address pool %s with size %d: write an IPv4 network and a prefix length within it, like 10.89.0.0/16 and 24", o.pool, o.poolSize)
	}
	for _, d := range []string{rt.root, rt.volumes, rt.stateRoot, rt.netDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("runtime: %w", err)
		}
	}
	// Finish volume removals a crash cut short (deleteVolume).
	half, _ := filepath.Glob(filepath.Join(rt.volumes, ".removing-*"))
	for _, dir := range half {
		if unmountVolume(dir) == nil { // never into a bound folder
			os.RemoveAll(dir)
		}
	}
	hostNS := ""
	if o.rootless {
		hostNS = filepath.Join(o.runDir, "hostns")
	}
	n, err := newNetwork(filepath.Join(o.runDir, "netns"), o.bridge, o.bip, o.nat, hostNS)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	rt.net = n
	rt.loadNetworks()
	rt.stop = make(chan struct{})
	entries, err := os.ReadDir(rt.root)
	if err != nil {
		return nil, err
	}
	var restart []*ctr
	for _, e := range entries {
		dir := filepath.Join(rt.root, e.Name())
		rec, err := loadRecord(dir)
		if err != nil {
			continue // a create cut off before its record was written
		}
		c := &ctr{rt: rt, dir: dir, rec: rec, exited: closedChan(), removed: make(chan struct{})}
		c.streams = &streams{attached: map[*attachment]struct{}{}}
		switch rec.State.Status {
		case engine.StatusRunning, engine.StatusPaused, engine.StatusRestarting:
			c.cleanupAfterCrash()
			fallthrough
		case engine.StatusExited:
			// As dockerd: always comes back when the engine starts, even
			// after a person stopped it; unless-stopped unless they did.
			// (The engine's own clean stop is no person's.)
			if rec.Spec.Restart.Name == "always" || rec.Spec.Restart.Name == "unless-stopped" && !rec.UserStopped {
				restart = append(restart, c)
			}
		}
		rt.byID[rec.ID] = c
	}
	n.cleanStale()
	rt.poolDone = n.startPool(rt.stop)
	for _, c := range restart {
		go c.start(context.Background())
	}
	return rt, nil
}

// Shutdown stops every running container (each with its own stop signal
// and timeout, all at once), as dockerd does when it exits: their output
// would have nowhere to go. Those with a restart policy come back when the
// engine starts again. The bridge and the firewall rules the runtime made
// go too: nothing of the engine stays behind it.
func (rt *Runtime) Shutdown(ctx context.Context) {
	rt.mu.Lock()
	var running []*ctr
	for _, c := range rt.byID {
		if c.rt != nil {
			running = append(running, c)
		}
	}
	rt.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range running {
		c.mu.Lock()
		up := c.running
		c.mu.Unlock()
		if !up {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stop(ctx, nil)
			c.mu.Lock()
			// Not stopped by a person: restart policies apply next time.
			c.rec.UserStopped = false
			c.rec.save(c.dir)
			c.mu.Unlock()
		}()
	}
	wg.Wait()
	rt.Close()
	rt.closeNetworks(true)
	rt.net.remove()
}

// Close stops preparing network namespaces and releases the prepared ones.
// Containers keep running.
func (rt *Runtime) Close() {
	rt.closeOnce.Do(func() {
		close(rt.stop)
		<-rt.poolDone
	})
}

// RemoveBridge deletes the runtime's bridge and its firewall rules, for a
// runtime that will not be used again (tests, uninstalling).
func (rt *Runtime) RemoveBridge() {
	rt.closeNetworks(true)
	rt.net.remove()
}

func closedChan() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

func (rt *Runtime) event(action string, c *record, attrs map[string]string) {
	if rt.publish == nil {
		return
	}
	a := map[string]string{"name": c.Name, "image": c.Image}
	for k, v := range attrs {
		a[k] = v
	}
	rt.publish(engine.Event{Type: "container", Action: action, ID: c.ID, Attributes: a, Time: time.Now()})
}

// find resolves a full ID, a name (with or without "/") or a unique ID prefix.
// launch waits for a free launch slot; release gives it back.
func (rt *Runtime) launch(ctx context.Context) (release func(), err error) {
	select {
	case rt.launches <- struct{}{}:
		return func() { <-rt.launches }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (rt *Runtime) find(name string) (*ctr, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	// Placeholders (c.rt == nil) only reserve a name while Create runs.
	if c, ok := rt.byID[name]; ok && c.rt != nil {
		return c, nil
	}
	trimmed := strings.TrimPrefix(name, "/")
	for _, c := range rt.byID {
		if c.rec.Name == trimmed && c.rt != nil {
			return c, nil
		}
	}
	var found *ctr
	if trimmed != "" {
		for id, c := range rt.byID {
			if strings.HasPrefix(id, trimmed) && c.rt != nil {
				if found != nil {
					return nil, fmt.Errorf("multiple containers found with provided prefix: %s: %w", name, engine.ErrConflict)
				}
				found = c
			}
		}
	}
	if found == nil {
		return nil, notFound(name)
	}
	return found, nil
}

type notFoundError struct{ name string }

func (e notFoundError) Error() string        { return "No such container: " + e.name }
func (e notFoundError) Is(target error) bool { return target == engine.ErrNotFound }

func notFound(name string) error { return notFoundError{name} }

func conflict(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, engine.ErrConflict)...)
}

// Interface guards.
var (
	_ engine.Containers        = (*Runtime)(nil)
	_ engine.ContainerViews    = (*Runtime)(nil)
	_ engine.ContainerControls = (*Runtime)(nil)
	_ engine.ContainerIO       = (*Runtime)(nil)
)
