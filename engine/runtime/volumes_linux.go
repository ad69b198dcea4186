package runtime

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
)

// volumeMetaFile sits beside a volume's _data: when and how it was made.
const volumeMetaFile = "berth-volume.json"

type volumeMeta struct {
	Created   time.Time         `json:"created"`
	Labels    map[string]string `json:"labels,omitempty"`
	Anonymous bool              `json:"anonymous,omitempty"`
}

// ensureVolume makes the volume's folder (and its record) unless it
// exists, and returns the folder its files live in. The one place a
// volume is made: by name, for a container's mount, or anonymous.
func (rt *Runtime) ensureVolume(name string, anonymous bool, labels map[string]string) (string, error) {
	if err := engine.ValidVolumeName(name); err != nil {
		return "", err // a name is a folder under the data root: no / or ..
	}
	dir := filepath.Join(rt.volumes, name)
	data := filepath.Join(dir, "_data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return "", fmt.Errorf("volume %s: %w", name, err)
	}
	meta := filepath.Join(dir, volumeMetaFile)
	if _, err := os.Stat(meta); errors.Is(err, os.ErrNotExist) {
		b, _ := json.Marshal(volumeMeta{Created: time.Now().UTC(), Labels: labels, Anonymous: anonymous})
		if err := iox.WriteFileAtomic(meta, b, dir); err != nil {
			return "", fmt.Errorf("volume %s: %w", name, err)
		}
	}
	return data, nil
}

func (rt *Runtime) readVolume(name string) (engine.Volume, error) {
	dir := filepath.Join(rt.volumes, name)
	fi, err := os.Stat(filepath.Join(dir, "_data"))
	if err != nil {
		return engine.Volume{}, fmt.Errorf("get %s: no such volume: %w", name, engine.ErrNotFound)
	}
	v := engine.Volume{Name: name, Mountpoint: filepath.Join(dir, "_data"), Created: fi.ModTime().UTC(), Labels: map[string]string{}, Size: -1}
	if b, err := os.ReadFile(filepath.Join(dir, volumeMetaFile)); err == nil {
		var m volumeMeta
		if json.Unmarshal(b, &m) == nil {
			v.Created, v.Anonymous = m.Created, m.Anonymous
			if m.Labels != nil {
				v.Labels = m.Labels
			}
		}
	}
	return v, nil
}

// volumeUsers maps each volume name to the containers mounting it.
func (rt *Runtime) volumeUsers() map[string][]string {
	rt.mu.Lock()
	cs := make([]*ctr, 0, len(rt.byID))
	for _, c := range rt.byID {
		cs = append(cs, c)
	}
	rt.mu.Unlock()
	users := map[string][]string{}
	for _, c := range cs {
		c.mu.Lock()
		id := c.rec.ID
		for _, m := range c.rec.Spec.Mounts {
			if m.Type != "bind" && m.Source != "" {
				users[m.Source] = append(users[m.Source], id)
			}
		}
		for _, name := range c.rec.AnonVolumes {
			users[name] = append(users[name], id)
		}
		c.mu.Unlock()
	}
	return users
}

// ListVolumes implements engine.Volumes.
func (rt *Runtime) ListVolumes(ctx context.Context, withSize bool) ([]engine.Volume, error) {
	entries, err := os.ReadDir(rt.volumes)
	if err != nil {
		return nil, fmt.Errorf("volumes: %w", err)
	}
	users := rt.volumeUsers()
	var out []engine.Volume
	for _, e := range entries {
		if engine.ValidVolumeName(e.Name()) != nil {
			continue // a removal a crash cut short (.removing-…)
		}
		v, err := rt.readVolume(e.Name())
		if err != nil {
			continue // not a volume (a folder a crash left half made)
		}
		v.UsedBy = slices.Sorted(slices.Values(users[v.Name]))
		v.Containers = len(v.UsedBy)
		if withSize {
			v.Size = folderSize(v.Mountpoint)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b engine.Volume) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateVolume implements engine.Volumes.
func (rt *Runtime) CreateVolume(ctx context.Context, name string, labels map[string]string) (engine.Volume, error) {
	rt.volMu.Lock()
	defer rt.volMu.Unlock()
	if name == "" {
		name = newID()
	}
	if _, err := rt.ensureVolume(name, false, labels); err != nil {
		return engine.Volume{}, err
	}
	v, err := rt.readVolume(name)
	v.UsedBy = rt.volumeUsers()[name]
	v.Containers = len(v.UsedBy)
	return v, err
}

// InspectVolume implements engine.Volumes.
func (rt *Runtime) InspectVolume(ctx context.Context, name string) (engine.Volume, error) {
	if err := engine.ValidVolumeName(name); err != nil {
		return engine.Volume{}, fmt.Errorf("get %s: no such volume: %w", name, engine.ErrNotFound)
	}
	v, err := rt.readVolume(name)
	v.UsedBy = rt.volumeUsers()[name]
	v.Containers = len(v.UsedBy)
	return v, err
}

// RemoveVolume implements engine.Volumes. A volume in use stays, forced
// or not, as with dockerd: its files are the containers' data.
func (rt *Runtime) RemoveVolume(ctx context.Context, name string, force bool) error {
	rt.volMu.Lock()
	defer rt.volMu.Unlock()
	if err := engine.ValidVolumeName(name); err != nil {
		return fmt.Errorf("get %s: no such volume: %w", name, engine.ErrNotFound)
	}
	if _, err := rt.readVolume(name); err != nil {
		if force {
			return nil
		}
		return err
	}
	if users := rt.volumeUsers()[name]; len(users) > 0 {
		return fmt.Errorf("remove %s: volume is in use - %v: %w", name, users, engine.ErrConflict)
	}
	return rt.deleteVolume(name)
}

// deleteVolume removes a volume's folder: first renamed aside, so that a
// crash mid-removal leaves no half volume under its name.
func (rt *Runtime) deleteVolume(name string) error {
	trash := filepath.Join(rt.volumes, ".removing-"+name)
	if err := os.Rename(filepath.Join(rt.volumes, name), trash); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// PruneVolumes implements engine.Volumes.
func (rt *Runtime) PruneVolumes(ctx context.Context, all bool, labels []string) ([]string, int64, error) {
	rt.volMu.Lock()
	defer rt.volMu.Unlock()
	vols, err := rt.ListVolumes(ctx, false)
	if err != nil {
		return nil, 0, err
	}
	var removed []string
	var reclaimed int64
	for _, v := range vols {
		if len(v.UsedBy) > 0 || !all && !v.Anonymous || !engine.MatchLabels(labels, v.Labels) {
			continue
		}
		size := folderSize(v.Mountpoint)
		if err := rt.deleteVolume(v.Name); err != nil {
			return removed, reclaimed, err
		}
		removed, reclaimed = append(removed, v.Name), reclaimed+size
	}
	return removed, reclaimed, nil
}

// ContainerUsage is every container with the bytes its writable layer
// holds.
func (rt *Runtime) ContainerUsage(ctx context.Context) ([]engine.ContainerUsage, error) {
	list, err := rt.List(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]engine.ContainerUsage, 0, len(list))
	for _, c := range list {
		out = append(out, engine.ContainerUsage{Container: c, SizeRw: folderSize(filepath.Join(rt.root, c.ID, "upper"))})
	}
	return out, nil
}

// folderSize is what the regular files under dir take, in bytes.
func folderSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
