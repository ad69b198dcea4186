package app

import (
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/memtrim"
)

// Roles are the engine as the app drives it: what Berth's engine, Docker
// and Podman all serve through the Docker Engine API. Every field is an
// interface, so a fake engine (enginetest.Fake) stands in for views' tests.
type Roles struct {
	Images     engine.Images
	Registry   engine.Registry
	Archives   engine.Archives
	Events     engine.Events
	Builder    engine.Builder
	Containers ContainerEngine
	// Disk is docker system df and volume prune; nil for an engine without.
	Disk DiskEngine
	// Volumes are the engine's named volumes; nil for an engine without.
	Volumes engine.Volumes
	// Files copy into containers (docker cp); nil for an engine without.
	Files FileCopier
	// Terminals open shells in containers; nil for an engine without.
	Terminals Terminals
	// Insight lists a container's processes and file changes; nil for an
	// engine without.
	Insight engine.ContainerInsight
}

// FileCopier copies files into a container, as docker cp does.
type FileCopier interface {
	ExtractArchive(ctx context.Context, name, dir string, archive io.Reader, opts engine.ExtractOptions) error
}

// EngineInfo is what the engine says it is.
type EngineInfo struct {
	Product, Version string
	// Address is where it answers, in DOCKER_HOST form.
	Address string
	// Started: the app started Berth's engine (natively) for this Core.
	Started bool
	// Context is the engine context it was chosen by ("berth" for
	// Berth's own), empty when by address.
	Context string
}

// Core is the app's life, without widgets: the engine's roles, the state
// holders the panels draw, Berth's VM when the engine runs there, a root
// context every job derives from (Close cancels it) and a stream of
// status lines. Open makes one; the window and every berth subcommand
// reach the engine only through it.
type Core struct {
	Engine     Roles
	Images     *Images
	Containers *Containers
	Search     *Search
	Volumes    *Volumes
	// Attention notifies of long work that ended while the window was in
	// the background.
	Attention *Attention

	info EngineInfo
	// trim gives memory back once the first lists are loaded, and after
	// each long job, when the app goes quiet.
	trim *memtrim.Trimmer
	// forwards are local ports carried to a remote engine's host.
	forwards forwards
	// closeIdle ends the engine connections kept for reuse (for an
	// engine behind SSH, ssh processes); nil for a Core over a fake.
	closeIdle func()
	settings  Settings
	vm        VMHandle

	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	status    Status
	listeners observers
	closeOnce sync.Once
	closeErr  error
	follow    sync.Once
}

// Status is the status bar's line, and the VM's state when Berth's VM
// runs the engine.
type Status struct {
	Line string
	VM   *VMStatus
}

// OpenOption changes how Open reaches the engine.
type OpenOption func(*openOptions)

type openOptions struct {
	startBerthd StartEngineFunc
	noVMBoot    bool
}

// WithEngineStarter starts Berth's own engine with start when none
// answers (default: berthd beside the app, with the settings' flags).
func WithEngineStarter(start StartEngineFunc) OpenOption {
	return func(o *openOptions) { o.startBerthd = start }
}

// WithoutVMBoot uses Berth's VM only when another Berth (the app, berth
// vm start) serves it, instead of booting it: for terminal commands.
func WithoutVMBoot() OpenOption { return func(o *openOptions) { o.noVMBoot = true } }

// Open reaches the engine the settings name and returns the Core over it:
// s.Engine ("vm" for Berth's VM, or an address), else $DOCKER_HOST, else
// Berth's own socket, where Berth's engine is started when none answers
// (natively on Linux; on macOS and Windows Berth's VM, its boot reported
// to progress). The Core lives until Close, or until ctx ends.
func Open(ctx context.Context, s Settings, progress Progress, opts ...OpenOption) (*Core, error) {
	o := openOptions{startBerthd: StartBerthdFor(s)}
	for _, opt := range opts {
		opt(&o)
	}
	var conn *connection
	var v *VM
	var err error
	switch {
	case s.UsesVM() && o.noVMBoot:
		conn, err = connectRunningVM(ctx, s)
	case s.UsesVM():
		conn, v, err = connectVM(ctx, s, progress)
	default:
		conn, err = connect(ctx, s, o.startBerthd)
	}
	if err != nil {
		return nil, err
	}
	var vmh VMHandle
	if v != nil {
		vmh = v
	}
	c := NewCore(ctx, conn.roles(), s, vmh)
	c.info = conn.info
	if t, ok := conn.client.SSH(); ok {
		c.forwards.ssh = &t
	}
	c.closeIdle = conn.client.CloseIdleConnections
	c.status.Line = conn.status
	if ctx.Err() != nil { // given up while the engine came up: a VM booted meanwhile goes too
		c.Close()
		return nil, ctx.Err()
	}
	return c, nil
}

// VMHandle is Berth's VM as the Core drives it: *VM, or a stand-in in
// tests of the window.
type VMHandle interface {
	Status() VMStatus
	Stop(context.Context) error
	Detach()
	// Supervise restarts a crashed VM and reports each change of state
	// until ctx ends.
	Supervise(context.Context, func(VMStatus))
}

// NewCore makes a Core over roles the caller provides (Open's engine, or a
// fake engine in views' tests), with Berth's VM when the engine runs
// there (nil otherwise), which the Core then supervises until Close.
func NewCore(ctx context.Context, roles Roles, s Settings, vm VMHandle) *Core {
	c := &Core{Engine: roles, settings: s, vm: vm, status: Status{Line: "Connected"}, info: EngineInfo{Context: s.Context}}
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.Images = NewImages(roles.Images, roles.Registry)
	c.Containers = NewContainers(roles.Containers)
	c.Search = NewSearch(roles.Registry, s.DefaultRegistry)
	c.Volumes = NewVolumes(roles.Volumes)
	c.trim = &memtrim.Trimmer{Quiet: 3 * time.Second}
	c.Attention = &Attention{trim: c.trim}
	if vm != nil {
		st := vm.Status()
		c.status = Status{Line: st.Line(), VM: &st}
		go vm.Supervise(c.ctx, func(st VMStatus) { c.setStatus(Status{Line: st.Line(), VM: &st}) })
	}
	return c
}

// Context is the Core's root context: every job the app runs derives from
// it, and Close cancels it.
func (c *Core) Context() context.Context { return c.ctx }

// Settings are the settings the Core was opened with.
func (c *Core) Settings() Settings { return c.settings }

// Info is what the engine says it is.
func (c *Core) Info() EngineInfo { return c.info }

// Status is the status bar's line now.
func (c *Core) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// OnStatus registers fn to hear each new status line (on the goroutine
// that changed it: views hand it to the UI thread).
func (c *Core) OnStatus(fn func(Status)) { c.listeners.add(func() { fn(c.Status()) }) }

func (c *Core) setStatus(st Status) {
	c.mu.Lock()
	c.status = st
	c.mu.Unlock()
	c.listeners.notify()
}

// Follow loads the images and containers and keeps them current from the
// engine's events until Close; calling it again does nothing.
func (c *Core) Follow() {
	c.follow.Do(func() {
		go c.trim.Run(c.ctx)
		go func() {
			c.Images.Refresh(c.ctx)
			c.Containers.Refresh(c.ctx)
			c.trim.Touch() // the first screen's fonts and lists are made
			Follow(c.ctx, c.Engine.Events, c.Images, c.Containers)
		}()
	})
}

// Close ends the Core's work: its jobs' context is cancelled, and Berth's
// VM stops cleanly, or with keep_running is left running for the next
// start to adopt. A berthd the Core started keeps running (it serves the
// docker CLI too). It may be called more than once (the first call's
// error is the VM's stop); it waits for the VM, so call it off the UI
// thread.
func (c *Core) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		if c.closeIdle != nil {
			c.closeIdle()
		}
		if c.vm == nil {
			return
		}
		if c.settings.VM.KeepRunning {
			c.vm.Detach()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		c.closeErr = c.vm.Stop(ctx)
	})
	return c.closeErr
}

// Cancel cancels the Core's jobs at once, without waiting for anything:
// for the UI thread, when the window closes (Close follows, off it).
func (c *Core) Cancel() { c.cancel() }

// VM is Berth's VM when the engine runs there, else nil.
func (c *Core) VM() VMHandle { return c.vm }

// observers are functions to call after a change, safe from any
// goroutine: the one implementation of the state holders' OnChange.
type observers struct {
	mu  sync.Mutex
	fns []func()
}

func (o *observers) add(fn func()) {
	o.mu.Lock()
	o.fns = append(o.fns, fn)
	o.mu.Unlock()
}

// notify calls them on the caller's goroutine.
func (o *observers) notify() {
	o.mu.Lock()
	fns := slices.Clone(o.fns)
	o.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
