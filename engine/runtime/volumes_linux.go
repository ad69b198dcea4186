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
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/iox"
	"golang.org/x/sys/unix"
)

// volumeMetaFile sits beside a volume's _data: when and how it was made.
const volumeMetaFile = "berth-volume.json"

type volumeMeta struct {
	Created   time.Time         `json:"created"`
	Labels    map[string]string `json:"labels,omitempty"`
	Anonymous bool              `json:"anonymous,omitempty"`
	// Options are the local driver's (docker volume create --opt):
	// type=tmpfs (o=size=…), or type=none with o=bind and device=/path.
	Options map[string]string `json:"options,omitempty"`
}

// ensureVolume makes the volume's folder (and its record) unless it
// exists, and returns the folder its files live in. The one place a
// volume is made: by name, for a container's mount, or anonymous.
func (rt *Runtime) ensureVolume(name string, anonymous bool, labels map[string]string) (string, error) {
	return rt.ensureVolumeWith(name, anonymous, labels, nil)
}

// CreateVolumeWithOptions makes a volume with the local driver's options,
// checked first: type=tmpfs (its files in memory, o= tmpfs options), or
// type=none with o=bind and device= a folder of the engine's host.
func (rt *Runtime) CreateVolumeWithOptions(ctx context.Context, name string, labels, opts map[string]string) (engine.Volume, error) {
	if err := checkVolumeOptions(opts); err != nil {
		return engine.Volume{}, err
	}
	rt.volMu.Lock()
	defer rt.volMu.Unlock()
	if name == "" {
		name = newID()
	}
	if _, err := rt.ensureVolumeWith(name, false, labels, opts); err != nil {
		return engine.Volume{}, err
	}
	v, err := rt.readVolume(name)
	v.UsedBy = rt.volumeUsers()[name]
	v.Containers = len(v.UsedBy)
	return v, err
}

func checkVolumeOptions(opts map[string]string) error {
	bad := func(why string) error {
		return fmt.Errorf("volume options %v: %s: %w", opts, why, engine.ErrInvalidArgument)
	}
	for k := range opts {
		if k != "type" && k != "o" && k != "device" {
			return bad("the local driver takes type, o and device")
		}
	}
	switch opts["type"] {
	case "tmpfs":
		for _, o := range strings.Split(opts["o"], ",") {
			k, _, _ := strings.Cut(o, "=")
			if o != "" && !slices.Contains([]string{"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"}, k) {
				return bad("tmpfs takes size, mode, uid, gid and nr_inodes in o")
			}
		}
	case "none", "":
		if !slices.Contains(strings.Split(opts["o"], ","), "bind") && !slices.Contains(strings.Split(opts["o"], ","), "rbind") {
			return bad("write type=tmpfs, or type=none with o=bind and device=/a/folder")
		}
		fi, err := os.Stat(opts["device"])
		if !filepath.IsAbs(opts["device"]) || err != nil || !fi.IsDir() {
			return bad("device must be an existing folder, written in full")
		}
	default:
		return bad("Berth's local driver mounts type=tmpfs or binds (type=none)")
	}
	return nil
}

// mountVolume puts a volume with options in place on its _data folder, on
// its first use: a tmpfs, or the bound folder. Containers then bind _data
// as for any volume, so they share it as with dockerd's local driver.
func mountVolume(data string, opts map[string]string) error {
	if len(opts) == 0 || isMountPoint(data) {
		return nil
	}
	if opts["type"] == "tmpfs" {
		return unix.Mount("tmpfs", data, "tmpfs", 0, opts["o"])
	}
	flags := uintptr(unix.MS_BIND)
	if slices.Contains(strings.Split(opts["o"], ","), "rbind") {
		flags |= unix.MS_REC
	}
	return unix.Mount(opts["device"], data, "", flags, "")
}

// isMountPoint says whether something is mounted at dir: by mount ID
// (statx), which a bind mount within one file system changes too, where
// the kernel gives it; else from the mount table.
func isMountPoint(dir string) bool {
	var here, parent unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &here) == nil &&
		unix.Statx(unix.AT_FDCWD, filepath.Dir(dir), unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &parent) == nil &&
		here.Mask&parent.Mask&unix.STATX_MNT_ID != 0 {
		return here.Mnt_id != parent.Mnt_id
	}
	found := false
	eachMount(func(point, _ string) { found = found || point == dir })
	return found
}

// unmountData takes every mount off a volume's _data folder (they may be
// stacked), asking the kernel directly rather than trusting a list, and
// fails if one stays: deleting the folder would then delete what is
// mounted there.
func unmountData(data string) error {
	for i := 0; i < 16 && isMountPoint(data); i++ {
		if err := unix.Unmount(data, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", data, err)
		}
	}
	if isMountPoint(data) {
		return fmt.Errorf("%s is still mounted", data)
	}
	return nil
}

// unmountVolume detaches what is mounted in a volume's folder (a tmpfs, a
// bound folder) before it is deleted, and says so if anything stays: a
// bound folder's files are never the volume's to delete.
func unmountVolume(dir string) error {
	if err := unmountData(filepath.Join(dir, "_data")); err != nil {
		return err
	}
	unmountUnder(dir)
	left := ""
	eachMount(func(point, _ string) {
		if strings.HasPrefix(point, filepath.Clean(dir)+"/") {
			left = point
		}
	})
	if left != "" {
		return fmt.Errorf("%s is still mounted", left)
	}
	return nil
}

func (rt *Runtime) ensureVolumeWith(name string, anonymous bool, labels, opts map[string]string) (string, error) {
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
		b, _ := json.Marshal(volumeMeta{Created: time.Now().UTC(), Labels: labels, Anonymous: anonymous, Options: opts})
		if err := iox.WriteFileAtomic(meta, b, dir); err != nil {
			return "", fmt.Errorf("volume %s: %w", name, err)
		}
	} else if b, err := os.ReadFile(meta); err == nil {
		var m volumeMeta
		if json.Unmarshal(b, &m) == nil {
			opts = m.Options // an existing volume's own
		}
	}
	if err := mountVolume(data, opts); err != nil {
		return "", fmt.Errorf("volume %s: mount %v: %w", name, opts, err)
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
			v.Created, v.Anonymous, v.Options = m.Created, m.Anonymous, m.Options
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
	// A tmpfs or a bound folder comes off first: its files are not the
	// volume's to delete.
	if err := unmountVolume(filepath.Join(rt.volumes, name)); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
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
