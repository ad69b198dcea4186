package runtime

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/overlayfs"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	// Device rules in cgroups need the devices controller's code.
	_ "github.com/opencontainers/cgroups/devices"
)

// cleanupAfterCrash ends what a run left when the engine died under it:
// the process (its output had nowhere to go), mounts, the namespace.
func (c *ctr) cleanupAfterCrash() {
	if lc, err := libcontainer.Load(c.rt.stateRoot, c.rec.ID); err == nil {
		lc.Signal(unix.SIGKILL)
		lc.Destroy()
	}
	unix.Unmount(filepath.Join(c.dir, "rootfs"), unix.MNT_DETACH)
	c.rec.NetNS = "" // cleanStale tears every old namespace down
	for i := range c.rec.Networks {
		a := &c.rec.Networks[i]
		a.IPAddress, a.Gateway, a.MacAddress, a.PrefixLen = "", "", "", 0
	}
	st := c.rec.State
	st.Status, st.Pid, st.ExitCode, st.FinishedAt = engine.StatusExited, 0, 255, time.Now().UTC()
	st.Error = "the engine stopped while the container was running"
	c.rec.State = st // whatever it was recorded as: the engine died under it
	c.rec.save(c.dir)
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
	release, err := c.rt.launch(ctx)
	if err != nil {
		return err
	}
	defer release()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	rec := c.rec
	running := engine.ContainerState{Status: engine.StatusRunning}
	if err := c.allowed(running.Status); err != nil {
		return err
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			rec.State.Error = err.Error()
			rec.save(c.dir)
			c.streams.endRun() // an attached docker run hears of the failure and lets go
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
	// "" for the host's network, or none (a namespace of its own, only lo)
	netnsPath, err := c.rt.startNetworks(rec)
	if err != nil {
		return err
	}
	undo = append(undo, func() {
		c.rt.netMu.Lock()
		c.rt.releaseNetworks(rec)
		c.rt.netMu.Unlock()
	})
	rec.Ports = ports
	if err := c.rt.writeResolvConf(c.dir, rec); err != nil {
		return err
	}
	if err := c.rt.writeHosts(c.dir, rec, true); err != nil {
		return err
	}

	spec, err := buildSpec(rec, rootfs, netnsPath, c.dir, u, rec.Spec.Tty)
	if err != nil {
		return err
	}
	if err := checkCommand(rootfs, spec); err != nil {
		return startError(err)
	}
	config, err := c.rt.containerConfig(rec.ID, spec)
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
		ConsoleHeight: uint16(rec.Spec.ConsoleHeight), ConsoleWidth: uint16(rec.Spec.ConsoleWidth), Rlimits: processRlimits(spec)}
	c.rlimits = proc.Rlimits
	rio, err := c.wireIO(proc, rec.Spec.Tty, rec.Spec.OpenStdin)
	if err != nil {
		return err
	}
	undo = append(undo, rio.closeAll)
	if err := runInit(lc, proc, filepath.Join(c.rt.stateRoot, rec.ID)); err != nil {
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
		p.serve(rec.IPAddress, rec.Ports[i].ContainerPort, c.rt.net.dial) // listenPorts keeps the order
	}
	rec.UserStopped = false
	running.Pid, running.StartedAt = pid, time.Now().UTC()
	hc := rec.Spec.Healthcheck
	if checksHealth(hc) {
		running.Health = &engine.Health{Status: "starting"}
	}
	c.transition(running) // allowed: checked before the process started
	rec.save(c.dir)
	c.rt.event("start", rec, nil)
	go c.monitor(proc, &rio.copiers, c.exited, runWaiters)
	if checksHealth(hc) {
		go c.checkHealth(*hc, running.StartedAt, c.exited)
	}
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
	if err := overlayfs.Mount(rootfs, lower, filepath.Join(c.dir, "upper"), filepath.Join(c.dir, "work")); err != nil {
		return fmt.Errorf("mount the container's filesystem: %w", err)
	}
	return nil
}

// monitor waits for the run to end, records it, and applies the restart
// policy and --rm.
func (c *ctr) monitor(proc *libcontainer.Process, copiers *sync.WaitGroup, exited chan struct{}, waiters []chan struct{}) {
	ps, _ := waitProcess(proc)
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
	c.rt.netMu.Lock()
	c.rt.releaseNetworks(c.rec)
	c.rt.netMu.Unlock()
	c.streams.endRun()
	c.log.close()
	c.running, c.lc, c.proc, c.stdin, c.pty, c.proxies = false, nil, nil, nil, nil, nil
	rec := c.rec
	rec.Ports = nil // published only while running, as docker ps shows
	oom := rec.State.OOMKilled
	if err := c.transition(engine.ContainerState{Status: engine.StatusExited, ExitCode: code, StartedAt: rec.State.StartedAt, FinishedAt: time.Now().UTC(), OOMKilled: oom}); err != nil {
		rec.State.Error = err.Error() // the process has exited all the same
	}
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
		st := rec.State
		st.Status = engine.StatusRestarting
		c.transition(st)
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
	sig, err := signalNumber(cmp.Or(c.rec.Spec.StopSignal, "SIGTERM"))
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
	if !c.running {
		c.mu.Unlock()
		return conflict("Container %s is not running", c.rec.ID[:12])
	}
	if sig == unix.SIGKILL {
		c.rec.UserStopped = true
	}
	if c.rec.State.Status == engine.StatusPaused {
		c.lc.Resume()
	}
	if err := c.lc.Signal(sig); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("kill %s: %w", c.rec.Name, err)
	}
	c.rt.event("kill", c.rec, map[string]string{"signal": fmt.Sprint(int(sig))})
	exited := c.exited
	c.mu.Unlock()
	if sig == unix.SIGKILL {
		// As dockerd: a SIGKILL returns once the container has stopped,
		// so that kill then rm (docker-py's habit) finds it stopped.
		select {
		case <-exited:
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	}
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
	// Whatever a run left (its state, cgroups, mount) goes with it.
	if lc, err := libcontainer.Load(rt.stateRoot, c.rec.ID); err == nil {
		lc.Signal(unix.SIGKILL)
		lc.Destroy()
	}
	os.RemoveAll(filepath.Join(rt.stateRoot, c.rec.ID))
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
