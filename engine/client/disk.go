package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
		Volumes    []volumeJSON
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
		u.Volumes = append(u.Volumes, v.volume())
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

// volumeJSON is a volume as the Docker API writes it.
type volumeJSON struct {
	Name, Mountpoint, CreatedAt string
	Labels                      map[string]string
	UsageData                   *struct{ Size, RefCount int64 }
}

func (v volumeJSON) volume() engine.Volume {
	out := engine.Volume{Name: v.Name, Mountpoint: v.Mountpoint, Labels: v.Labels, Size: -1}
	out.Created, _ = time.Parse(time.RFC3339, v.CreatedAt)
	_, out.Anonymous = v.Labels["com.docker.volume.anonymous"]
	if v.UsageData != nil {
		out.Size, out.Containers = v.UsageData.Size, int(v.UsageData.RefCount)
	}
	return out
}

// ListVolumes lists the engine's volumes; withSize asks docker system df
// for their sizes and users too.
func (c *Client) ListVolumes(ctx context.Context, withSize bool) ([]engine.Volume, error) {
	if withSize {
		u, err := c.DiskUsage(ctx)
		if err != nil {
			return nil, err
		}
		return u.Volumes, nil
	}
	var r struct{ Volumes []volumeJSON }
	if err := c.getJSON(ctx, "/volumes", nil, &r); err != nil {
		return nil, fmt.Errorf("volumes: %w", err)
	}
	out := make([]engine.Volume, 0, len(r.Volumes))
	for _, v := range r.Volumes {
		out = append(out, v.volume())
	}
	return out, nil
}

// CreateVolume makes a volume (the engine names it when name is empty).
func (c *Client) CreateVolume(ctx context.Context, name string, labels map[string]string) (engine.Volume, error) {
	body, _ := json.Marshal(map[string]any{"Name": name, "Labels": labels})
	resp, err := c.doJSON(ctx, http.MethodPost, "/volumes/create", nil, body)
	if err != nil {
		return engine.Volume{}, fmt.Errorf("create volume %s: %w", name, err)
	}
	defer resp.Body.Close()
	var v volumeJSON
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return engine.Volume{}, fmt.Errorf("create volume %s: %w", name, err)
	}
	return v.volume(), nil
}

// InspectVolume describes one volume.
func (c *Client) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	var v volumeJSON
	if err := c.getJSON(ctx, "/volumes/"+url.PathEscape(name), nil, &v); err != nil {
		return engine.Volume{}, fmt.Errorf("volume %s: %w", name, err)
	}
	return v.volume(), nil
}

// RemoveVolume removes a volume no container uses.
func (c *Client) RemoveVolume(ctx context.Context, name string, force bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	resp, err := c.do(ctx, http.MethodDelete, "/volumes/"+url.PathEscape(name), q, nil)
	if err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	resp.Body.Close()
	return nil
}

var _ engine.Volumes = (*Client)(nil)
