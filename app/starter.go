package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/berth-dev/berth/assets"
	"github.com/berth-dev/berth/engine/starter"
	"github.com/berth-dev/berth/engine/vm"
)

// StarterTag is the name the welcome tour builds its first image under.
const StarterTag = "hello:starter"

// WriteStarterSample writes the offline starter project into dir/starter:
// a Dockerfile FROM scratch, a web page, and busybox.tar, a root file
// system made from a static busybox for the engine's Linux. It builds with
// no registry at hand. inVM says the engine runs in Berth's VM (always so
// on macOS and Windows). It returns the project's folder.
func WriteStarterSample(ctx context.Context, dir string, inVM bool) (string, error) {
	project, err := assets.WriteSample("starter", dir)
	if err != nil {
		return "", fmt.Errorf("write the starter project: %w", err)
	}
	tarball := filepath.Join(project, "busybox.tar")
	if _, err := os.Stat(tarball); err == nil {
		return project, nil
	}
	rootfs, err := starterRootfs(ctx, inVM)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(tarball, rootfs, 0o644); err != nil {
		return "", fmt.Errorf("write the starter project: %w", err)
	}
	return project, nil
}

// starterRootfs is made from this computer's static busybox when the
// engine runs here, and otherwise from the one in Berth's VM image, which
// is the VM's own Linux (a Mac or Windows has no Linux busybox).
func starterRootfs(ctx context.Context, inVM bool) ([]byte, error) {
	if !inVM {
		bb, err := starter.FindBusybox()
		if err == nil {
			return starter.Rootfs(bb)
		}
		if runtime.GOOS == "linux" {
			return nil, err // it says to install busybox-static
		}
	}
	dir, err := vm.EnsureImage(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("the starter image is made from the busybox in Berth's VM image, which is not here: %w", err)
	}
	bb, err := vm.ImageBusybox(dir)
	if err != nil {
		return nil, err
	}
	return starter.RootfsOf(bb)
}
