package runtime

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/containerd/console"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"

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
	publish   func(engine.Event)
	// portsOnAnyAddress: see WithPortsOnAnyAddress.
	portsOnAnyAddress bool
	// sharedFolders: see WithSharedFolders (nil: not in a VM).
	sharedFolders []string

	mu   sync.Mutex
	byID map[string]*ctr

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
	o := options{runDir: "/run/berth", bridge: DefaultBridge, bip: DefaultBIP, nat: true}
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
		portsOnAnyAddress: o.anyAddress,
		sharedFolders:     o.sharedFolders,
	}
	for _, d := range []string{rt.root, rt.volumes, rt.stateRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("runtime: %w", err)
		}
	}
	n, err := newNetwork(filepath.Join(o.runDir, "netns"), o.bridge, o.bip, o.nat)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	rt.net = n
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
// engine starts again.
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
func (rt *Runtime) RemoveBridge() { rt.net.remove() }

func closedChan() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

// cleanupAfterCrash ends what a run left when the engine died under it:
// the process (its output had nowhere to go), mounts, the namespace.
func (c *ctr) cleanupAfterCrash() {
	if lc, err := libcontainer.Load(c.rt.stateRoot, c.rec.ID); err == nil {
		lc.Signal(unix.SIGKILL)
		lc.Destroy()
	}
	unix.Unmount(filepath.Join(c.dir, "rootfs"), unix.MNT_DETACH)
	c.rec.NetNS = "" // cleanStale tears every old namespace down
	c.rec.State.Status = engine.StatusExited
	c.rec.State.Pid = 0
	c.rec.State.ExitCode = 255
	c.rec.State.Error = "the engine stopped while the container was running"
	c.rec.State.FinishedAt = time.Now().UTC()
	c.rec.save(c.dir)
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

// Create makes a container from spec.
func (rt *Runtime) Create(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	img, err := rt.images.Inspect(ctx, spec.Image)
	if err != nil {
		return "", err
	}
	argv := commandLine(spec, img.Config)
	if len(argv) == 0 {
		return "", fmt.Errorf("no command specified: %w", engine.ErrInvalidArgument)
	}
	id := newID()
	name := strings.TrimPrefix(spec.Name, "/")
	rt.mu.Lock()
	if name == "" {
		for name = randomName(); rt.nameTaken(name); name = randomName() + "_" + id[:4] {
		}
	} else if !validName.MatchString(name) {
		rt.mu.Unlock()
		return "", fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, engine.ErrInvalidArgument)
	} else if other := rt.nameTakenBy(name); other != "" {
		rt.mu.Unlock()
		return "", conflict(`Conflict. The container name "/%s" is already in use by container "%s". You have to remove (or rename) that container to be able to reuse that name`, name, other)
	}
	// Reserve the name while the container's files are made.
	placeholder := &ctr{rec: &record{Container: engine.Container{ID: id, Name: name}}, removed: make(chan struct{}), exited: closedChan()}
	rt.byID[id] = placeholder
	rt.mu.Unlock()
	fail := func(err error) (string, error) {
		rt.mu.Lock()
		delete(rt.byID, id)
		rt.mu.Unlock()
		os.RemoveAll(filepath.Join(rt.root, id))
		return "", err
	}

	if spec.StopSignal == "" {
		spec.StopSignal = img.Config.StopSignal
	}
	rec := &record{
		Container: engine.Container{
			ID: id, Name: name, Image: spec.Image, ImageID: img.ID, Created: time.Now().UTC(),
			Path: argv[0], Args: argv[1:], Spec: spec, Labels: mergeLabels(img.Config.Labels, spec.Labels),
			State: engine.ContainerState{Status: engine.StatusCreated},
		},
		Env:      mergeEnv(img.Config.Env, spec.Env),
		Cwd:      firstNonEmpty(spec.WorkingDir, img.Config.WorkingDir, "/"),
		UserSpec: firstNonEmpty(spec.User, img.Config.User),
		Layers:   img.Layers,
	}
	if !hasEnv(rec.Env, "PATH") {
		rec.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, rec.Env...)
	}
	rec.Env = mergeEnv(rec.Env, []string{"HOSTNAME=" + rec.hostname()})
	if spec.Tty {
		rec.Env = mergeEnv(rec.Env, []string{"TERM=xterm"})
	}
	rec.Spec.ExposedPorts = mergePorts(img.Config.ExposedPorts, spec.ExposedPorts)
	if spec.PublishAll {
		for _, p := range rec.Spec.ExposedPorts {
			port, proto := splitPort(p)
			if port > 0 && !published(spec.Ports, port, proto) {
				rec.Spec.Ports = append(rec.Spec.Ports, engine.PortBinding{ContainerPort: port, Proto: proto})
			}
		}
	}
	dir := filepath.Join(rt.root, id)
	for _, d := range []string{dir, filepath.Join(dir, "rootfs"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fail(err)
		}
	}
	if err := rt.resolveMounts(rec, img.Config.Volumes); err != nil {
		return fail(err)
	}
	if err := writeEtcFiles(dir, rec); err != nil {
		return fail(err)
	}
	rec.LogPath = filepath.Join(dir, id+"-json.log")
	if err := rec.save(dir); err != nil {
		return fail(err)
	}
	c := &ctr{rt: rt, dir: dir, rec: rec, exited: closedChan(), removed: make(chan struct{})}
	c.streams = &streams{attached: map[*attachment]struct{}{}}
	rt.mu.Lock()
	rt.byID[id] = c
	rt.mu.Unlock()
	rt.event("create", rec, nil)
	return id, nil
}

func (rt *Runtime) nameTaken(name string) bool { return rt.nameTakenBy(name) != "" }

func (rt *Runtime) nameTakenBy(name string) string {
	for id, c := range rt.byID {
		if c.rec.Name == name {
			return id
		}
	}
	return ""
}

// checkShared refuses, in a VM, a missing bind source outside the folders
// the user's computer shares with it (WithSharedFolders).
func (rt *Runtime) checkShared(source string) error {
	if rt.sharedFolders == nil {
		return nil
	}
	if _, err := os.Lstat(source); err == nil {
		return nil // the VM's own (/var/run/…), or in a share
	}
	clean := filepath.Clean(source)
	for _, f := range rt.sharedFolders {
		if clean == f || strings.HasPrefix(clean, strings.TrimSuffix(f, "/")+"/") {
			return nil
		}
	}
	return fmt.Errorf("mounts denied: the path %s is not shared from your computer with Berth's VM; add a folder that holds it to shares under [vm] in Berth's settings: %w", source, engine.ErrInvalidArgument)
}

// resolveMounts gives every bind mount and volume a host directory: named
// volumes under volumes/<name>/_data, anonymous ones (the request's and
// the image's VOLUME paths) under volumes/<random>/_data.
func (rt *Runtime) resolveMounts(rec *record, imageVolumes []string) error {
	targets := map[string]bool{}
	for _, m := range rec.Spec.Mounts {
		mp := mountPoint{Mount: m}
		switch m.Type {
		case "bind":
			if !filepath.IsAbs(m.Source) {
				return fmt.Errorf("invalid mount %s:%s: a bind mount source must be an absolute path: %w", m.Source, m.Target, engine.ErrInvalidArgument)
			}
			if err := rt.checkShared(m.Source); err != nil {
				return err
			}
			// docker run -v creates a missing source directory.
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return err
			}
			mp.hostPath = m.Source
		default:
			name := m.Source
			if name == "" {
				name = newID()
				rec.AnonVolumes = append(rec.AnonVolumes, name)
			}
			mp.hostPath = filepath.Join(rt.volumes, name, "_data")
			if err := os.MkdirAll(mp.hostPath, 0o755); err != nil {
				return err
			}
		}
		if !filepath.IsAbs(m.Target) {
			return fmt.Errorf("invalid mount target %q: must be absolute: %w", m.Target, engine.ErrInvalidArgument)
		}
		targets[filepath.Clean(m.Target)] = true
		rec.mounts = append(rec.mounts, mp)
	}
	for _, v := range imageVolumes {
		if targets[filepath.Clean(v)] {
			continue
		}
		name := newID()
		rec.AnonVolumes = append(rec.AnonVolumes, name)
		host := filepath.Join(rt.volumes, name, "_data")
		if err := os.MkdirAll(host, 0o755); err != nil {
			return err
		}
		rec.mounts = append(rec.mounts, mountPoint{Mount: engine.Mount{Type: "volume", Target: v}, hostPath: host})
	}
	return nil
}

// writeEtcFiles makes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf (the host's, less loopback resolvers that mean nothing
// inside the container's network namespace).
func writeEtcFiles(dir string, rec *record) error {
	if err := os.WriteFile(filepath.Join(dir, "hostname"), []byte(rec.hostname()+"\n"), 0o644); err != nil {
		return err
	}
	if err := writeHosts(dir, rec); err != nil {
		return err
	}
	resolv, _ := os.ReadFile("/etc/resolv.conf")
	var kept []string
	for _, line := range strings.Split(string(resolv), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && (strings.HasPrefix(f[1], "127.") || f[1] == "::1") {
			continue
		}
		kept = append(kept, line)
	}
	out := strings.TrimSpace(strings.Join(kept, "\n"))
	if !strings.Contains(out, "nameserver") {
		out += "\nnameserver 8.8.8.8\nnameserver 8.8.4.4"
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(strings.TrimSpace(out)+"\n"), 0o644)
}

func writeHosts(dir string, rec *record) error {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	if rec.IPAddress != "" {
		hosts += rec.IPAddress + "\t" + rec.hostname() + "\n"
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644)
}

// Start runs the container.
func (rt *Runtime) Start(ctx context.Context, name string) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	if err := c.start(ctx); err != nil {
		c.mu.Lock()
		autoRemove := c.rec.Spec.AutoRemove
		c.mu.Unlock()
		if autoRemove {
			// docker run --rm waits for the removal; a start that failed
			// removes the container, as dockerd does.
			rt.remove(c, true)
		}
		return err
	}
	return nil
}

func (c *ctr) start(ctx context.Context) (err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	rec := c.rec
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			rec.State.Error = err.Error()
			rec.save(c.dir)
		}
	}()
	rootfs := filepath.Join(c.dir, "rootfs")
	if err := c.mountRootfs(rootfs); err != nil {
		return err
	}
	undo = append(undo, func() { unix.Unmount(rootfs, unix.MNT_DETACH) })
	u, err := resolveUser(rootfs, rec.UserSpec)
	if err != nil {
		return err
	}
	proxies, ports, err := listenPorts(rec.Spec.Ports, c.rt.portsOnAnyAddress)
	if err != nil {
		return err
	}
	undo = append(undo, func() {
		for _, p := range proxies {
			p.close()
		}
	})
	ns, err := c.rt.net.take()
	if err != nil {
		return fmt.Errorf("container network: %w", err)
	}
	undo = append(undo, func() { c.rt.net.discard(ns) })
	rec.NetNS = ns.id
	rec.IPAddress, rec.Gateway, rec.MacAddress, rec.Ports = ns.ip.String(), c.rt.net.gateway.String(), ns.mac, ports
	if err := writeHosts(c.dir, rec); err != nil {
		return err
	}

	spec := buildSpec(rec, rootfs, c.rt.net.nsPath(ns.id), c.dir, u, rec.Spec.Tty)
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: rec.ID, Spec: spec, NoNewKeyring: true})
	if err != nil {
		return fmt.Errorf("container config: %w", err)
	}
	if old, err := libcontainer.Load(c.rt.stateRoot, rec.ID); err == nil {
		old.Destroy() // state left by a run the engine did not see end
	}
	lc, err := libcontainer.Create(c.rt.stateRoot, rec.ID, config)
	if err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	undo = append(undo, func() { lc.Destroy() })

	log, err := openLog(rec.LogPath)
	if err != nil {
		return err
	}
	undo = append(undo, func() { log.close(); c.streams.setLog(nil) })
	// The log is in place before the process can print anything.
	c.streams.setLog(log)
	proc := &libcontainer.Process{Args: spec.Process.Args, Env: rec.Env, Cwd: rec.Cwd, UID: u.UID, GID: u.GID, AdditionalGroups: u.Groups, Init: true,
		ConsoleHeight: uint16(rec.Spec.ConsoleHeight), ConsoleWidth: uint16(rec.Spec.ConsoleWidth)}
	rio, err := c.wireIO(proc, rec.Spec.Tty, rec.Spec.OpenStdin)
	if err != nil {
		return err
	}
	undo = append(undo, rio.closeAll)
	if err := lc.Run(proc); err != nil {
		return startError(err)
	}
	if err := rio.afterStart(proc); err != nil {
		proc.Signal(unix.SIGKILL)
		proc.Wait()
		return err
	}
	pid, _ := proc.Pid()

	c.lc, c.proc, c.log, c.proxies, c.stdin, c.pty = lc, proc, log, proxies, rio.stdin, rio.pty
	c.running = true
	c.exited = make(chan struct{})
	runWaiters := c.nextExit
	c.nextExit = nil
	for i, p := range proxies {
		p.serve(rec.IPAddress, rec.Ports[i].ContainerPort) // listenPorts keeps the order
	}
	rec.UserStopped = false
	rec.State = engine.ContainerState{Status: engine.StatusRunning, Pid: pid, StartedAt: time.Now().UTC()}
	rec.save(c.dir)
	c.rt.event("start", rec, nil)
	go c.monitor(proc, &rio.copiers, c.exited, runWaiters)
	return nil
}

// startError keeps docker's wording for a missing command, which the
// docker CLI turns into exit code 127 (126 for a non-executable file).
func startError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "permission denied") {
		return errInvalid("failed to create task for container: " + msg)
	}
	return fmt.Errorf("start container: %w", err)
}

func (c *ctr) mountRootfs(rootfs string) error {
	if len(c.rec.Layers) == 0 {
		return fmt.Errorf("image has no layers")
	}
	lower := make([]string, 0, len(c.rec.Layers))
	for i := len(c.rec.Layers) - 1; i >= 0; i-- {
		p := c.rt.images.LayerPath(c.rec.Layers[i])
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("layer %s of image %s is missing from the store: %w", c.rec.Layers[i], c.rec.Image, engine.ErrNotFound)
		}
		lower = append(lower, p)
	}
	unix.Unmount(rootfs, unix.MNT_DETACH) // a mount left by a crash
	if err := MountOverlay(rootfs, lower, filepath.Join(c.dir, "upper"), filepath.Join(c.dir, "work")); err != nil {
		return fmt.Errorf("mount the container's filesystem: %w", err)
	}
	return nil
}

// resolveUser reads the image's own /etc/passwd and /etc/group (resolved
// inside the rootfs, so a symlink cannot point at the host's).
func resolveUser(rootfs, spec string) (processUser, error) {
	passwd, _ := securejoin.SecureJoin(rootfs, "/etc/passwd")
	group, _ := securejoin.SecureJoin(rootfs, "/etc/group")
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	if spec == "" {
		spec = "0"
	}
	eu, err := user.GetExecUserPath(spec, defaults, passwd, group)
	if err != nil {
		return processUser{}, fmt.Errorf("unable to find user %s: %w: %w", spec, engine.ErrInvalidArgument, err)
	}
	return processUser{UID: eu.Uid, GID: eu.Gid, Groups: eu.Sgids, Home: eu.Home}, nil
}

// runIO is one run's standard streams.
type runIO struct {
	stdin   io.WriteCloser
	pty     console.Console
	copiers sync.WaitGroup
	// child ends, closed in the engine once the process has them
	childEnds []*os.File
	sockets   []*os.File
	tty       bool
	c         *ctr
}

func (r *runIO) closeAll() {
	for _, f := range append(r.childEnds, r.sockets...) {
		f.Close()
	}
	if r.stdin != nil {
		r.stdin.Close()
	}
}

func (c *ctr) wireIO(proc *libcontainer.Process, tty, openStdin bool) (*runIO, error) {
	r := &runIO{tty: tty, c: c}
	if tty {
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			return nil, err
		}
		proc.ConsoleSocket = child
		r.childEnds = append(r.childEnds, child)
		r.sockets = append(r.sockets, parent)
		return r, nil
	}
	if openStdin {
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		proc.Stdin, r.stdin = pr, pw
		r.childEnds = append(r.childEnds, pr)
	}
	for _, stream := range []string{"stdout", "stderr"} {
		pr, pw, err := os.Pipe()
		if err != nil {
			r.closeAll()
			return nil, err
		}
		if stream == "stdout" {
			proc.Stdout = pw
		} else {
			proc.Stderr = pw
		}
		r.childEnds = append(r.childEnds, pw)
		r.copiers.Add(1)
		go func() {
			defer r.copiers.Done()
			defer pr.Close()
			c.streams.copyFrom(stream, pr)
		}()
	}
	return r, nil
}

// afterStart closes the engine's copies of the child's ends (so EOF comes
// when the process ends) and, for a TTY, receives the terminal.
func (r *runIO) afterStart(proc *libcontainer.Process) error {
	for _, f := range r.childEnds {
		f.Close()
	}
	r.childEnds = nil
	if !r.tty {
		return nil
	}
	master, err := utils.RecvFile(r.sockets[0])
	for _, s := range r.sockets {
		s.Close()
	}
	r.sockets = nil
	if err != nil {
		return fmt.Errorf("receive the container's terminal: %w", err)
	}
	pty, err := console.ConsoleFromFile(master)
	if err != nil {
		return err
	}
	r.pty, r.stdin = pty, master
	r.copiers.Add(1)
	go func() {
		defer r.copiers.Done()
		r.c.streams.copyFrom("stdout", pty)
	}()
	return nil
}

// monitor waits for the run to end, records it, and applies the restart
// policy and --rm.
func (c *ctr) monitor(proc *libcontainer.Process, copiers *sync.WaitGroup, exited chan struct{}, waiters []chan struct{}) {
	ps, _ := proc.Wait()
	done := make(chan struct{})
	go func() { copiers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		// A background child still holds the output open; the run is
		// over all the same.
	}
	code := exitCode(ps)

	c.mu.Lock()
	c.lc.Destroy() // kills what is left in the cgroup, removes it
	if c.pty != nil {
		c.pty.Close()
	}
	if c.stdin != nil {
		c.stdin.Close()
	}
	for _, p := range c.proxies {
		p.close()
	}
	unix.Unmount(filepath.Join(c.dir, "rootfs"), unix.MNT_DETACH)
	if ip := net.ParseIP(c.rec.IPAddress); ip != nil && c.rec.NetNS != "" {
		c.rt.net.discard(&netns0{id: c.rec.NetNS, ip: ip})
	}
	c.rec.NetNS = ""
	c.streams.endRun()
	c.log.close()
	c.running, c.lc, c.proc, c.stdin, c.pty, c.proxies = false, nil, nil, nil, nil, nil
	rec := c.rec
	rec.Ports = nil // published only while running, as docker ps shows
	oom := rec.State.OOMKilled
	rec.State = engine.ContainerState{Status: engine.StatusExited, ExitCode: code, StartedAt: rec.State.StartedAt, FinishedAt: time.Now().UTC(), OOMKilled: oom}
	rec.save(c.dir)
	restart := c.shouldRestart(code)
	autoRemove := rec.Spec.AutoRemove && !restart
	c.mu.Unlock()
	close(exited)
	for _, w := range waiters {
		close(w)
	}
	c.rt.event("die", rec, map[string]string{"exitCode": fmt.Sprint(code)})

	switch {
	case autoRemove:
		c.rt.remove(c, false)
	case restart:
		c.mu.Lock()
		rec.RestartCount++
		delay := time.Duration(100<<min(rec.RestartCount, 8)) * time.Millisecond
		rec.State.Status = engine.StatusRestarting
		c.mu.Unlock()
		time.AfterFunc(delay, func() {
			c.mu.Lock()
			stopped := c.rec.UserStopped
			c.mu.Unlock()
			if !stopped {
				c.start(context.Background())
			}
		})
	}
}

func (c *ctr) shouldRestart(code int) bool {
	if c.rec.UserStopped {
		return false
	}
	switch c.rec.Spec.Restart.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (c.rec.Spec.Restart.MaxRetries == 0 || c.rec.RestartCount < c.rec.Spec.Restart.MaxRetries)
	}
	return false
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 255
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// Stop sends the stop signal and, after the timeout, SIGKILL.
func (rt *Runtime) Stop(ctx context.Context, name string, timeout *time.Duration) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	return c.stop(ctx, timeout)
}

func (c *ctr) stop(ctx context.Context, timeout *time.Duration) error {
	c.mu.Lock()
	c.rec.UserStopped = true
	if !c.running {
		c.rec.save(c.dir)
		c.mu.Unlock()
		return nil
	}
	wait := 10 * time.Second
	if timeout != nil {
		wait = *timeout
	} else if c.rec.Spec.StopTimeout != nil {
		wait = time.Duration(*c.rec.Spec.StopTimeout) * time.Second
	}
	sig, err := signalNumber(firstNonEmpty(c.rec.Spec.StopSignal, "SIGTERM"))
	if err != nil {
		sig = unix.SIGTERM
	}
	exited, lc, paused := c.exited, c.lc, c.rec.State.Status == engine.StatusPaused
	c.mu.Unlock()
	if paused {
		lc.Resume() // a frozen process cannot act on a signal
	}
	if wait > 0 {
		lc.Signal(sig)
		select {
		case <-exited:
			c.rt.event("stop", c.rec, nil)
			return nil
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	lc.Signal(unix.SIGKILL)
	select {
	case <-exited:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.rt.event("stop", c.rec, nil)
	return nil
}

// Kill signals the container's process.
func (rt *Runtime) Kill(ctx context.Context, name, signal string) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	sig, err := signalNumber(signal)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return conflict("Container %s is not running", c.rec.ID[:12])
	}
	if sig == unix.SIGKILL {
		c.rec.UserStopped = true
	}
	if c.rec.State.Status == engine.StatusPaused {
		c.lc.Resume()
	}
	if err := c.lc.Signal(sig); err != nil {
		return fmt.Errorf("kill %s: %w", c.rec.Name, err)
	}
	c.rt.event("kill", c.rec, map[string]string{"signal": fmt.Sprint(int(sig))})
	return nil
}

// Wait registers a wait condition; the returned func blocks until it holds.
func (rt *Runtime) Wait(ctx context.Context, name, condition string) (func() (int, error), error) {
	c, err := rt.find(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	var until <-chan struct{}
	switch condition {
	case "", "not-running":
		until = c.exited // closed already when not running
	case "next-exit":
		if c.running {
			until = c.exited
		} else {
			// The run that starts next closes it when it ends.
			ch := make(chan struct{})
			c.nextExit = append(c.nextExit, ch)
			until = ch
		}
	case "removed":
		until = c.removed
	default:
		c.mu.Unlock()
		return nil, errInvalid("invalid condition: " + condition)
	}
	removed := c.removed
	c.mu.Unlock()
	return func() (int, error) {
		select {
		case <-until:
		case <-removed: // a removed container will not exit again
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		return c.exitCode(), nil
	}, nil
}

func (c *ctr) exitCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.State.ExitCode
}

// Remove deletes a container.
func (rt *Runtime) Remove(ctx context.Context, name string, force, volumes bool) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	running := c.running
	c.mu.Unlock()
	if running {
		if !force {
			return conflict("You cannot remove a running container %s. Stop the container before attempting removal or force remove", c.rec.ID)
		}
		c.mu.Lock()
		c.rec.UserStopped, c.rec.Spec.AutoRemove = true, false
		exited := c.exited
		c.lc.Signal(unix.SIGKILL)
		c.mu.Unlock()
		select {
		case <-exited:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return rt.remove(c, volumes)
}

func (rt *Runtime) remove(c *ctr, volumes bool) error {
	rt.mu.Lock()
	if rt.byID[c.rec.ID] != c {
		rt.mu.Unlock()
		return nil // already removed
	}
	delete(rt.byID, c.rec.ID)
	rt.mu.Unlock()
	unix.Unmount(filepath.Join(c.dir, "rootfs"), unix.MNT_DETACH)
	err := os.RemoveAll(c.dir)
	// Anonymous volumes go with the container when asked, and always with
	// --rm, as docker does.
	if volumes || c.rec.Spec.AutoRemove {
		for _, v := range c.rec.AnonVolumes {
			os.RemoveAll(filepath.Join(rt.volumes, v))
		}
	}
	close(c.removed)
	rt.event("destroy", c.rec, nil)
	if err != nil {
		return fmt.Errorf("remove container %s: %w", c.rec.Name, err)
	}
	return nil
}

// List returns containers, newest first.
func (rt *Runtime) List(ctx context.Context, all bool) ([]engine.Container, error) {
	rt.mu.Lock()
	cs := make([]*ctr, 0, len(rt.byID))
	for _, c := range rt.byID {
		if c.rt != nil {
			cs = append(cs, c)
		}
	}
	rt.mu.Unlock()
	var out []engine.Container
	for _, c := range cs {
		v := c.view()
		if all || v.State.Status == engine.StatusRunning || v.State.Status == engine.StatusPaused || v.State.Status == engine.StatusRestarting {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

func (c *ctr) view() engine.Container {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.rec.Container
	v.Args = append([]string(nil), v.Args...)
	v.Ports = append([]engine.PortBinding(nil), v.Ports...)
	v.Spec.Env = c.rec.Env
	v.Spec.WorkingDir = c.rec.Cwd
	v.Spec.User = c.rec.UserSpec
	v.Spec.Mounts = nil
	for _, m := range c.rec.mounts {
		mm := m.Mount
		if mm.Type != "bind" {
			mm.Source = filepath.Base(filepath.Dir(m.hostPath))
		}
		v.Spec.Mounts = append(v.Spec.Mounts, mm)
	}
	return v
}

// Inspect describes one container.
func (rt *Runtime) Inspect(ctx context.Context, name string) (engine.Container, error) {
	c, err := rt.find(name)
	if err != nil {
		return engine.Container{}, err
	}
	return c.view(), nil
}

// Logs reads a container's log.
func (rt *Runtime) Logs(ctx context.Context, name string, opts engine.LogOptions, fn func(engine.LogEntry) error) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	var live *logFile
	if c.running && opts.Follow {
		live = c.log
	}
	path := c.rec.LogPath
	c.mu.Unlock()
	ch, err := readLog(path, opts, live, fn)
	if err != nil || ch == nil {
		return err
	}
	defer live.unfollow(ch)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return nil
			}
			if !wanted(opts, e) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// Stats samples the container's cgroup.
func (rt *Runtime) Stats(ctx context.Context, name string) (engine.ContainerStats, error) {
	c, err := rt.find(name)
	if err != nil {
		return engine.ContainerStats{}, err
	}
	c.mu.Lock()
	lc := c.lc
	c.mu.Unlock()
	s := engine.ContainerStats{Read: time.Now(), OnlineCPUs: onlineCPUs(), SystemCPU: systemCPU()}
	if lc == nil {
		return s, nil
	}
	st, err := lc.Stats()
	if err != nil || st.CgroupStats == nil {
		return s, nil
	}
	cg := st.CgroupStats
	s.CPUTotal = cg.CpuStats.CpuUsage.TotalUsage
	s.MemoryUsage = cg.MemoryStats.Usage.Usage
	s.MemoryLimit = cg.MemoryStats.Usage.Limit
	s.PIDs = cg.PidsStats.Current
	if s.MemoryLimit == 0 || s.MemoryLimit > 1<<60 {
		s.MemoryLimit = totalMemory()
	}
	return s, nil
}

// Restart stops and starts a container.
func (rt *Runtime) Restart(ctx context.Context, name string, timeout *time.Duration) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	if err := c.stop(ctx, timeout); err != nil {
		return err
	}
	if err := c.start(ctx); err != nil {
		return err
	}
	rt.event("restart", c.rec, nil)
	return nil
}

// Pause freezes the container's processes.
func (rt *Runtime) Pause(ctx context.Context, name string) error {
	return rt.freeze(name, true)
}

// Unpause thaws them.
func (rt *Runtime) Unpause(ctx context.Context, name string) error {
	return rt.freeze(name, false)
}

func (rt *Runtime) freeze(name string, pause bool) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return conflict("Container %s is not running", c.rec.ID)
	}
	paused := c.rec.State.Status == engine.StatusPaused
	switch {
	case pause && paused:
		return conflict("Container %s is already paused", c.rec.ID)
	case !pause && !paused:
		return conflict("Container %s is not paused", c.rec.ID)
	case pause:
		err = c.lc.Pause()
	default:
		err = c.lc.Resume()
	}
	if err != nil {
		return fmt.Errorf("pause %s: %w", c.rec.Name, err)
	}
	action := "unpause"
	c.rec.State.Status = engine.StatusRunning
	if pause {
		action = "pause"
		c.rec.State.Status = engine.StatusPaused
	}
	c.rec.save(c.dir)
	rt.event(action, c.rec, nil)
	return nil
}

// Rename gives a container a new name.
func (rt *Runtime) Rename(ctx context.Context, name, newName string) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	newName = strings.TrimPrefix(newName, "/")
	if !validName.MatchString(newName) {
		return errInvalid("Invalid container name (" + newName + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
	}
	rt.mu.Lock()
	if other := rt.nameTakenBy(newName); other != "" && other != c.rec.ID {
		rt.mu.Unlock()
		return conflict(`Conflict. The container name "/%s" is already in use by container "%s"`, newName, other)
	}
	c.mu.Lock()
	old := c.rec.Name
	c.rec.Name = newName
	c.rec.save(c.dir)
	c.mu.Unlock()
	rt.mu.Unlock()
	rt.event("rename", c.rec, map[string]string{"oldName": "/" + old})
	return nil
}

// Prune removes every container that is not running.
func (rt *Runtime) Prune(ctx context.Context) ([]string, error) {
	list, err := rt.List(ctx, true)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, c := range list {
		if c.State.Status == engine.StatusExited || c.State.Status == engine.StatusCreated || c.State.Status == engine.StatusDead {
			if err := rt.Remove(ctx, c.ID, false, false); err == nil {
				removed = append(removed, c.ID)
			}
		}
	}
	return removed, nil
}

// ImageUsers counts the containers made from an image, for the image
// store's refusal to delete an image in use.
func (rt *Runtime) ImageUsers(imageID string) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	n := 0
	for _, c := range rt.byID {
		if c.rec.ImageID == imageID {
			n++
		}
	}
	return n
}

// Attach connects a client to the container's streams.
func (rt *Runtime) Attach(ctx context.Context, name string, opts engine.AttachOptions) (func() error, error) {
	c, err := rt.find(name)
	if err != nil {
		return nil, err
	}
	a := &attachment{stdout: opts.Stdout, stderr: opts.Stderr, done: make(chan struct{})}
	if opts.Logs {
		c.mu.Lock()
		path := c.rec.LogPath
		c.mu.Unlock()
		readLog(path, engine.LogOptions{Stdout: true, Stderr: true, Tail: -1}, nil, func(e engine.LogEntry) error {
			w := opts.Stdout
			if e.Stream == "stderr" {
				w = opts.Stderr
			}
			if w != nil {
				w.Write(e.Data)
			}
			return nil
		})
	}
	c.mu.Lock()
	c.streams.add(a)
	c.mu.Unlock()
	if opts.Stdin != nil {
		go c.feedStdin(opts.Stdin, a)
	}
	return func() error {
		defer c.streams.remove(a)
		select {
		case <-a.done:
		case <-ctx.Done():
		}
		return nil
	}, nil
}

// feedStdin copies a client's input to the process. The container may not
// have started yet (docker run attaches first), so it waits for the run.
func (c *ctr) feedStdin(in io.Reader, a *attachment) {
	var w io.WriteCloser
	for w == nil {
		c.mu.Lock()
		w = c.stdin
		c.mu.Unlock()
		if w != nil {
			break
		}
		select {
		case <-a.done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	io.Copy(w, in)
	c.mu.Lock()
	defer c.mu.Unlock()
	// docker run -i (StdinOnce): the client's EOF is the process's EOF.
	if c.stdin == w && c.pty == nil {
		w.Close()
		c.stdin = nil
	}
}

// Resize sets the terminal size of a TTY container.
func (rt *Runtime) Resize(ctx context.Context, name string, height, width uint) error {
	c, err := rt.find(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pty == nil {
		return nil
	}
	return c.pty.Resize(console.WinSize{Height: uint16(height), Width: uint16(width)})
}

// Exec runs a process in a running container and returns its exit code.
func (rt *Runtime) Exec(ctx context.Context, name string, spec engine.ExecSpec, streams engine.AttachOptions) (int, error) {
	c, err := rt.find(name)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return 0, conflict("Container %s is not running", c.rec.ID)
	}
	lc, rec := c.lc, c.rec
	env := mergeEnv(c.rec.Env, spec.Env)
	cwd := firstNonEmpty(spec.WorkingDir, c.rec.Cwd)
	userSpec := firstNonEmpty(spec.User, c.rec.UserSpec)
	c.mu.Unlock()
	u, err := resolveUser(filepath.Join(c.dir, "rootfs"), userSpec)
	if err != nil {
		return 0, err
	}
	proc := &libcontainer.Process{Args: spec.Cmd, Env: env, Cwd: cwd, UID: u.UID, GID: u.GID, AdditionalGroups: u.Groups,
		ConsoleHeight: uint16(spec.ConsoleHeight), ConsoleWidth: uint16(spec.ConsoleWidth)}
	var copiers sync.WaitGroup
	var closers []io.Closer
	var pty console.Console
	var parentSock *os.File
	if spec.Tty {
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			return 0, err
		}
		proc.ConsoleSocket, parentSock = child, parent
		closers = append(closers, child)
	} else {
		proc.Stdin = streams.Stdin
		proc.Stdout = orDiscard(streams.Stdout)
		proc.Stderr = orDiscard(streams.Stderr)
	}
	if err := lc.Run(proc); err != nil {
		for _, cl := range closers {
			cl.Close()
		}
		return 126, startError(err)
	}
	for _, cl := range closers {
		cl.Close()
	}
	if parentSock != nil {
		master, err := utils.RecvFile(parentSock)
		parentSock.Close()
		if err != nil {
			proc.Signal(unix.SIGKILL)
			proc.Wait()
			return 0, err
		}
		pty, _ = console.ConsoleFromFile(master)
		copiers.Add(1)
		go func() { defer copiers.Done(); io.Copy(orDiscard(streams.Stdout), pty) }()
		if streams.Stdin != nil {
			go io.Copy(pty, streams.Stdin)
		}
	}
	rt.event("exec_start", rec, map[string]string{"command": strings.Join(spec.Cmd, " ")})
	ps, _ := proc.Wait()
	if pty != nil {
		done := make(chan struct{})
		go func() { copiers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		pty.Close()
	}
	code := exitCode(ps)
	rt.event("exec_die", rec, map[string]string{"exitCode": fmt.Sprint(code)})
	return code, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func mergeLabels(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func mergePorts(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range append(append([]string(nil), a...), b...) {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func splitPort(p string) (int, string) {
	num, proto, _ := strings.Cut(p, "/")
	n, _ := parseInt(num)
	if proto == "" {
		proto = "tcp"
	}
	return n, proto
}

func published(bindings []engine.PortBinding, port int, proto string) bool {
	for _, b := range bindings {
		if b.ContainerPort == port && firstNonEmpty(b.Proto, "tcp") == proto {
			return true
		}
	}
	return false
}

// Interface guards.
var (
	_ engine.Containers        = (*Runtime)(nil)
	_ engine.ContainerViews    = (*Runtime)(nil)
	_ engine.ContainerControls = (*Runtime)(nil)
	_ engine.ContainerIO       = (*Runtime)(nil)
)
