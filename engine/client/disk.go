package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
)

// DiskUsage asks the engine what its images, containers, volumes and
// build cache take (docker system df).
func (c *Client) DiskUsage(ctx context.Context) (engine.DiskUsage, error) {
	var df struct {
		LayersSize int64
		Images     []struct {
			ID               string
			RepoTags         []string
			Size, SharedSize int64
			Containers       int64
		}
		Containers []struct {
			ID     string
			Names  []string
			State  string
			SizeRw int64
		}
		Volumes []struct {
			Name      string
			Labels    map[string]string
			UsageData *struct{ Size, RefCount int64 }
		}
		BuildCache []struct {
			ID          string
			Description string
			InUse       bool
			Size        int64
			LastUsedAt  *time.Time
		}
	}
	if err := c.getJSON(ctx, "/system/df", nil, &df); err != nil {
		return engine.DiskUsage{}, fmt.Errorf("disk usage: %w", err)
	}
	u := engine.DiskUsage{LayersSize: df.LayersSize}
	for _, i := range df.Images {
		u.Images = append(u.Images, engine.ImageUsage{ImageSummary: engine.ImageSummary{ID: i.ID, RepoTags: i.RepoTags, Size: i.Size, Containers: int(i.Containers)}, SharedSize: max(i.SharedSize, 0)})
	}
	for _, ct := range df.Containers {
		cu := engine.ContainerUsage{Container: engine.Container{ID: ct.ID, State: engine.ContainerState{Status: engine.ContainerStatus(ct.State)}}, SizeRw: ct.SizeRw}
		if len(ct.Names) > 0 {
			cu.Name = strings.TrimPrefix(ct.Names[0], "/")
		}
		u.Containers = append(u.Containers, cu)
	}
	for _, v := range df.Volumes {
		vol := engine.Volume{Name: v.Name, Labels: v.Labels, Size: -1}
		_, vol.Anonymous = v.Labels["com.docker.volume.anonymous"]
		if v.UsageData != nil {
			vol.Size, vol.Containers = v.UsageData.Size, int(v.UsageData.RefCount)
		}
		u.Volumes = append(u.Volumes, vol)
	}
	for _, b := range df.BuildCache {
		bc := engine.BuildCacheUsage{ID: b.ID, Size: b.Size, InUse: b.InUse, Description: b.Description}
		if b.LastUsedAt != nil {
			bc.LastUsed = *b.LastUsedAt
		}
		u.BuildCache = append(u.BuildCache, bc)
	}
	return u, nil
}

// PruneVolumes removes the volumes no container uses: anonymous ones, or
// all with all set.
func (c *Client) PruneVolumes(ctx context.Context, all bool, labels []string) ([]string, int64, error) {
	filters := map[string][]string{}
	if all {
		filters["all"] = []string{"true"}
	}
	if len(labels) > 0 {
		filters["label"] = labels
	}
	q := url.Values{}
	if len(filters) > 0 {
		b, _ := json.Marshal(filters)
		q.Set("filters", string(b))
	}
	var r struct {
		VolumesDeleted []string
		SpaceReclaimed int64
	}
	if err := c.post(ctx, "/volumes/prune", q, &r); err != nil {
		return nil, 0, fmt.Errorf("prune volumes: %w", err)
	}
	return r.VolumesDeleted, r.SpaceReclaimed, nil
}
