package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/engine"
	"github.com/hashicorp/go-multierror"
)

// DiskEngine is what the disk usage view asks of the engine.
type DiskEngine interface {
	DiskUsage(ctx context.Context) (engine.DiskUsage, error)
	PruneVolumes(ctx context.Context, all bool, labels []string) ([]string, int64, error)
}

// DiskRow is one kind of thing on disk: how many, their size, and what
// Clean up would give back.
type DiskRow struct {
	Kind              string // "Images", "Containers", "Volumes", "Build cache"
	Count             int
	Size, Reclaimable int64
	Removes           string // what Clean up removes of this kind, for the confirmation
}

// DiskUsage is the disk usage view: what images, containers, volumes and
// the build cache take, and what a cleanup would remove: stopped
// containers, images with no name that no container uses, the build
// cache, and anonymous volumes no container uses (what docker system
// prune --volumes removes).
func (c *Core) DiskUsage(ctx context.Context) ([]DiskRow, error) {
	if c.Engine.Disk == nil {
		return nil, fmt.Errorf("this engine does not report its disk usage: %w", engine.ErrNotSupported)
	}
	u, err := c.Engine.Disk.DiskUsage(ctx)
	if err != nil {
		return nil, err
	}
	images := DiskRow{Kind: "Images", Count: len(u.Images), Size: u.LayersSize}
	n := 0
	for _, i := range u.Images {
		if len(i.RepoTags) == 0 && i.Containers == 0 {
			images.Reclaimable += i.Size - i.SharedSize
			n++
		}
	}
	images.Removes = Plural(n, "unnamed image", "unnamed images") + " no container uses"
	containers := DiskRow{Kind: "Containers", Count: len(u.Containers)}
	n = 0
	for _, ct := range u.Containers {
		containers.Size += ct.SizeRw
		if ct.State.Status != engine.StatusRunning && ct.State.Status != engine.StatusPaused && ct.State.Status != engine.StatusRestarting {
			containers.Reclaimable += ct.SizeRw
			n++
		}
	}
	containers.Removes = Plural(n, "stopped container", "stopped containers")
	volumes := DiskRow{Kind: "Volumes", Count: len(u.Volumes)}
	n = 0
	for _, v := range u.Volumes {
		volumes.Size += max(v.Size, 0)
		if v.Anonymous && v.Containers == 0 {
			volumes.Reclaimable += max(v.Size, 0)
			n++
		}
	}
	volumes.Removes = Plural(n, "anonymous volume", "anonymous volumes") + " no container uses (named volumes stay)"
	cache := DiskRow{Kind: "Build cache", Count: len(u.BuildCache)}
	for _, b := range u.BuildCache {
		cache.Size += b.Size
		if !b.InUse {
			cache.Reclaimable += b.Size
		}
	}
	cache.Removes = "the build cache (the next build of each step runs again)"
	return []DiskRow{images, containers, volumes, cache}, nil
}

// CleanUp removes what DiskUsage says Clean up removes, and how many bytes
// that gave back. Every part is tried; what failed is said together.
func (c *Core) CleanUp(ctx context.Context) (int64, error) {
	var reclaimed int64
	var errs *multierror.Error
	if _, err := c.Engine.Containers.Prune(ctx); err != nil {
		errs = multierror.Append(errs, err)
	}
	if rep, err := c.Engine.Images.Prune(ctx, false); err != nil {
		errs = multierror.Append(errs, err)
	} else {
		reclaimed += rep.SpaceReclaimed
	}
	if rep, err := c.Engine.Builder.PruneCache(ctx, true); err != nil {
		errs = multierror.Append(errs, err)
	} else {
		reclaimed += rep.Reclaimed
	}
	if c.Engine.Disk != nil {
		if _, n, err := c.Engine.Disk.PruneVolumes(ctx, false, nil); err != nil && !errors.Is(err, engine.ErrNotSupported) {
			errs = multierror.Append(errs, err)
		} else {
			reclaimed += n
		}
	}
	return reclaimed, errs.ErrorOrNil()
}

// Plural is "1 image", "2 images": n with the word for it.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
