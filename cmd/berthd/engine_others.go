//go:build !linux

package main

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/registry"
	"github.com/berth-dev/berth/engine/store"
)

// claim has nothing to end where containers do not run.
func claim(dataRoot, runDir string) (func(), error) { return func() {}, nil }

// Containers need Linux; on macOS and Windows berthd runs inside Berth's VM.
func containers(b *api.Backend, st *store.Store, reg *registry.Registry, n netFlags, evlog *events.Log, setUsage func(func(string) int), setRoots func(func() []string)) (func(context.Context), error) {
	return nil, errors.New("berthd runs containers on Linux only: on macOS and Windows the Berth app starts it inside its Linux VM")
}

func securityInfo(netFlags) (options, warnings []string) { return nil, nil }

func storageDriverInUse() string { return "overlayfs" }
