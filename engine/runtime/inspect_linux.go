package runtime

import (
	"context"
	"fmt"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"

	// Device rules in cgroups need the devices controller's code.
	_ "github.com/opencontainers/cgroups/devices"
)

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
	action, st := "unpause", c.rec.State
	st.Status = engine.StatusRunning
	if pause {
		action, st.Status = "pause", engine.StatusPaused
	}
	if err := c.transition(st); err != nil {
		return err
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

// Update changes a container's limits and restart policy: kept for its
// next runs, and applied to its cgroup at once when it runs.
func (rt *Runtime) Update(ctx context.Context, name string, u engine.ContainerUpdate) ([]string, error) {
	c, err := rt.find(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	spec := c.rec.Spec
	if u.Memory != nil {
		if *u.Memory != 0 && *u.Memory < 6<<20 {
			return nil, errInvalid("Minimum memory limit allowed is 6MB")
		}
		spec.Memory = *u.Memory
	}
	if u.NanoCPUs != nil {
		if *u.NanoCPUs < 0 || *u.NanoCPUs > int64(goruntime.NumCPU())*1e9 {
			return nil, errInvalid(fmt.Sprintf("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", goruntime.NumCPU(), goruntime.NumCPU()))
		}
		spec.NanoCPUs = *u.NanoCPUs
	}
	if u.PidsLimit != nil {
		spec.Security.PidsLimit = max(*u.PidsLimit, 0)
	}
	if u.Restart != nil {
		switch u.Restart.Name {
		case "", "no", "always", "on-failure", "unless-stopped":
		default:
			return nil, errInvalid("invalid restart policy " + u.Restart.Name)
		}
		if spec.AutoRemove && u.Restart.Name != "" && u.Restart.Name != "no" {
			return nil, errInvalid("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		spec.Restart = *u.Restart
	}
	var warnings []string
	if c.running && c.lc != nil && (u.Memory != nil || u.NanoCPUs != nil || u.PidsLimit != nil) {
		// A rootless engine limits with the controllers delegated to it.
		may := func(controller string, asked bool) bool {
			if !asked || !rt.rootless || slices.Contains(rt.controllers, controller) {
				return asked
			}
			warnings = append(warnings, "This rootless engine has no "+controller+" cgroup controller delegated to it: the new "+controller+" limit applies to no container")
			return false
		}
		memory, cpu, pids := may("memory", u.Memory != nil), may("cpu", u.NanoCPUs != nil), may("pids", u.PidsLimit != nil)
		if memory || cpu || pids {
			rec := *c.rec
			rec.Spec = spec
			s, err := buildSpec(&rec, filepath.Join(c.dir, "rootfs"), "", c.dir, processUser{}, spec.Tty)
			if err != nil {
				return nil, err
			}
			next, err := rt.containerConfig(rec.ID, s)
			if err != nil {
				return nil, err
			}
			cfg := c.lc.Config()
			if memory {
				cfg.Cgroups.Resources.Memory, cfg.Cgroups.Resources.MemorySwap = next.Cgroups.Resources.Memory, next.Cgroups.Resources.MemorySwap
				if spec.Memory == 0 {
					cfg.Cgroups.Resources.Memory, cfg.Cgroups.Resources.MemorySwap = -1, -1
				}
			}
			if cpu {
				cfg.Cgroups.Resources.CpuQuota, cfg.Cgroups.Resources.CpuPeriod = next.Cgroups.Resources.CpuQuota, next.Cgroups.Resources.CpuPeriod
				if spec.NanoCPUs == 0 {
					cfg.Cgroups.Resources.CpuQuota = -1 // no limit (0 would leave the old one)
				}
			}
			if pids {
				cfg.Cgroups.Resources.PidsLimit = next.Cgroups.Resources.PidsLimit
				if spec.Security.PidsLimit == 0 {
					unlimited := int64(-1)
					cfg.Cgroups.Resources.PidsLimit = &unlimited
				}
			}
			if err := c.lc.Set(cfg); err != nil {
				return nil, fmt.Errorf("update %s: %w", c.rec.Name, err)
			}
		}
	}
	c.rec.Spec = spec
	if err := c.rec.save(c.dir); err != nil {
		return nil, err
	}
	rt.event("update", c.rec, nil)
	return warnings, nil
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
