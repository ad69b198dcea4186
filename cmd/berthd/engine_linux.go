package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/build"
	"github.com/berth-dev/berth/engine/buildkit"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/overlayfs"
	"github.com/berth-dev/berth/engine/registry"
	"github.com/berth-dev/berth/engine/rootless"
	"github.com/berth-dev/berth/engine/runtime"
	"github.com/berth-dev/berth/engine/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// claim makes this berthd the engine of its data root and ends what a
// berthd killed before it left running (runtime.Claim).
// It also records, in runDir/berthd.pid, the PID that stops the engine
// (berth engine stop signals it).
func claim(dataRoot, runDir string) (func(), error) {
	cgroup := "/"
	if rootless.Inside() {
		cgroup, _ = rootless.DelegatedCgroup()
	}
	release, err := runtime.Claim(dataRoot, runDir, cgroup)
	if err != nil {
		return nil, err
	}
	pidFile := filepath.Join(runDir, client.PIDFile)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(rootless.HostPID())+"\n"), 0o644); err != nil {
		release()
		return nil, fmt.Errorf("record the engine's PID: %w", err)
	}
	return func() { os.Remove(pidFile); release() }, nil
}

// containers adds the container runtime to the backend, and tells the
// store which images containers use.
// The returned func stops the containers when the engine shuts down.
func containers(b *api.Backend, st *store.Store, reg *registry.Registry, n netFlags, evlog *events.Log, setUsage func(func(string) int), setRoots func(func() []string)) (func(context.Context), error) {
	if err := overlayfs.SetDriver(n.storageDriver); err != nil {
		return nil, err
	}
	opts := []runtime.Option{runtime.WithRunDir(n.runDir), runtime.WithEvents(evlog.Publish), runtime.WithBridge(n.bridge, n.bip, n.nat), runtime.WithAddressPool(n.pool, n.poolSize)}
	if n.portsOnAnyAddress {
		opts = append(opts, runtime.WithPortsOnAnyAddress())
	}
	if n.rootless {
		opts = append(opts, runtime.WithRootless(rootless.DelegatedCgroup()))
	}
	if n.sharedFolders != nil {
		opts = append(opts, runtime.WithSharedFolders(n.sharedFolders))
	}
	rt, err := runtime.New(n.dataRoot, st, opts...)
	if err != nil {
		return nil, err
	}
	setUsage(rt.ImageUsers)
	b.Containers, b.ContainerViews, b.ContainerControls, b.ContainerIO, b.ContainerFiles, b.ContainerInsight, b.Volumes, b.Networks = rt, rt, rt, rt, rt, rt, rt, rt
	bld, err := build.New(filepath.Join(n.dataRoot, "build"), st, reg, rt)
	if err != nil {
		return nil, err
	}
	setRoots(bld.CacheRoots)
	b.DiskUsage = diskUsage{st, rt, bld}
	b.Committer = committer{st, rt}
	b.Builder, b.BuildContextDir = bld, bld.ContextDir
	if b.BuildKit, err = buildkit.New(buildkit.Backend{Builder: bld, ContextDir: bld.ContextDir, Push: reg.Push, Pull: reg.Pull, Save: st.Save, Image: st.Image,
		Remove:    func(ctx context.Context, name string) error { _, err := st.Remove(ctx, name, false); return err },
		PushIndex: reg.PushIndex,
		Put:       func(ctx context.Context, img v1.Image) (string, error) { return st.Put(ctx, img, store.PutOptions{}) }}, version); err != nil {
		return nil, err
	}
	return rt.Shutdown, nil
}

// storageDriverInUse is docker info's storage driver.
func storageDriverInUse() string { return overlayfs.Driver() }

// securityInfo is what docker info says of the engine's isolation, and
// what it warns of.
func securityInfo(n netFlags) (options, warnings []string) {
	if runtime.SeccompEnabled {
		options = append(options, "name=seccomp,profile=builtin")
	}
	if n.rootless {
		options = append(options, "name=rootless")
		warnings = append(warnings, rootlessWarnings()...)
	}
	return options, warnings
}

// diskUsage is docker system df's answer, from the store, the runtime and
// the builder.
type diskUsage struct {
	st  *store.Store
	rt  *runtime.Runtime
	bld *build.Builder
}

func (d diskUsage) DiskUsage(ctx context.Context) (engine.DiskUsage, error) {
	var u engine.DiskUsage
	var err error
	if u.LayersSize, u.Images, err = d.st.ImageUsage(ctx); err != nil {
		return u, err
	}
	if u.Containers, err = d.rt.ContainerUsage(ctx); err != nil {
		return u, err
	}
	if u.Volumes, err = d.rt.ListVolumes(ctx, true); err != nil {
		return u, err
	}
	u.BuildCache = d.bld.CacheUsage()
	return u, nil
}

// committer is docker commit: the container's changes as a layer on its
// image, with its command, environment and working directory.
type committer struct {
	st *store.Store
	rt *runtime.Runtime
}

func (cm committer) CommitContainer(ctx context.Context, name string, opts engine.CommitOptions) (string, error) {
	dir, err := cm.st.TempDir("commit-")
	if err != nil {
		return "", err
	}
	c, err := cm.rt.CopyChanges(ctx, name, dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	base, layers, err := cm.st.ConfigFile(c.ImageID)
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("commit %s: its image: %w", c.Name, err)
	}
	layer, ok, release, err := cm.st.AddLayer(ctx, dir)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", c.Name, err)
	}
	if ok {
		defer release()
		layers = append(layers, layer)
	}
	cfg := *base
	cfg.Config.Cmd, cfg.Config.Entrypoint = c.Spec.Cmd, c.Spec.Entrypoint
	if c.Spec.Cmd == nil && c.Spec.Entrypoint == nil {
		cfg.Config.Cmd, cfg.Config.Entrypoint = base.Config.Cmd, base.Config.Entrypoint
	}
	// The environment the container ran with, less what the engine gave
	// this one container.
	cfg.Config.Env = slices.DeleteFunc(slices.Clone(c.Spec.Env), func(e string) bool { return strings.HasPrefix(e, "HOSTNAME=") })
	cfg.Config.WorkingDir, cfg.Config.User = cmp.Or(c.Spec.WorkingDir, base.Config.WorkingDir), cmp.Or(c.Spec.User, base.Config.User)
	cfg.Config.Labels = c.Labels
	now := time.Now().UTC()
	cfg.Created = v1.Time{Time: now}
	cfg.Author = opts.Author
	cfg.History = append(slices.Clone(base.History), v1.History{Created: v1.Time{Time: now}, Author: opts.Author, Comment: opts.Comment,
		CreatedBy: strings.Join(append([]string{c.Path}, c.Args...), " "), EmptyLayer: !ok})
	return cm.st.Commit(ctx, cfg, layers, opts.Names)
}
