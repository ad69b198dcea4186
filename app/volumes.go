package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/berth-dev/berth/engine"
)

// Volumes holds the Volumes panel's state: the engine's volumes with
// their sizes and how many containers use each.
type Volumes struct {
	eng engine.Volumes

	mu     sync.Mutex
	list   []engine.Volume
	err    error
	loaded bool // read at least once
	observers
}

// NewVolumes follows eng's volumes (nil: an engine without volumes).
func NewVolumes(eng engine.Volumes) *Volumes { return &Volumes{eng: eng} }

// OnChange registers fn to run after every change.
func (v *Volumes) OnChange(fn func()) { v.add(fn) }

// List is the volumes as last read, by name.
func (v *Volumes) List() ([]engine.Volume, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.list, v.err
}

// Refresh reads the volumes again, with their sizes.
func (v *Volumes) Refresh(ctx context.Context) error {
	if v.eng == nil {
		return v.set(nil, fmt.Errorf("this engine keeps no volumes: %w", engine.ErrNotSupported))
	}
	list, err := v.eng.ListVolumes(ctx, true)
	return v.set(list, err)
}

// Loaded reports whether the volumes have been read at least once.
func (v *Volumes) Loaded() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.loaded
}

func (v *Volumes) set(list []engine.Volume, err error) error {
	v.mu.Lock()
	v.list, v.err, v.loaded = list, err, true
	v.mu.Unlock()
	v.notify()
	return err
}

// Create makes a named volume.
func (v *Volumes) Create(ctx context.Context, name string) error {
	if err := engine.ValidVolumeName(name); err != nil {
		return err
	}
	if _, err := v.eng.CreateVolume(ctx, name, nil); err != nil {
		return err
	}
	return v.Refresh(ctx)
}

// Remove removes a volume no container uses.
func (v *Volumes) Remove(ctx context.Context, name string) error {
	if err := v.eng.RemoveVolume(ctx, name, false); err != nil {
		return err
	}
	return v.Refresh(ctx)
}

// Prune removes the volumes no container uses: anonymous ones, or all.
func (v *Volumes) Prune(ctx context.Context, all bool) (int, int64, error) {
	removed, reclaimed, err := v.eng.PruneVolumes(ctx, all, nil)
	if err != nil {
		return 0, 0, err
	}
	return len(removed), reclaimed, v.Refresh(ctx)
}
