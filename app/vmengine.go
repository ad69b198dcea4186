package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/vm"
)

// VMImageDir finds the VM image (vmlinux, initramfs.cpio): beside the
// app's binary (vm/), else in the data directory.
func VMImageDir() (string, error) {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(exe), "vm"), filepath.Join(filepath.Dir(exe), "..", "dist", "vm"))
	}
	if data, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(data, "berth", "vm"))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "vmlinux")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("Berth's VM image is not installed (looked in %v): build it with go run ./packaging/vm/mkimage -out dist/vm: %w", dirs, engine.ErrNotFound)
}

// ConnectVM starts Berth's VM (sized by the settings) and connects to the
// engine in it through the helper's socket.
func ConnectVM(ctx context.Context, s Settings) (*Connection, *vm.Helper, error) {
	img, err := VMImageDir()
	if err != nil {
		return nil, nil, err
	}
	state, err := os.UserCacheDir()
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(state, "berth", "vm-state")
	var flags []string
	for _, r := range s.InsecureRegistries {
		flags = append(flags, "--insecure-registry="+r)
	}
	q := vm.NewQEMU(vm.QEMUConfig{Dir: dir, Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"),
		CPUs: s.VM.CPUs, MemoryMB: s.VM.MemoryMB, DiskGB: s.VM.DiskGB, EngineFlags: flags})
	h := &vm.Helper{Driver: q, Socket: filepath.Join(dir, "engine.sock")}
	if err := h.Start(ctx); err != nil {
		st := q.Status()
		return nil, nil, fmt.Errorf("Berth's VM did not start: %w\n%s", err, st.ConsoleTail)
	}
	c, err := client.New("unix://" + h.Socket)
	if err != nil {
		h.Stop(context.Background())
		return nil, nil, err
	}
	v, err := c.Version(ctx)
	if err != nil {
		h.Stop(context.Background())
		return nil, nil, err
	}
	return &Connection{Client: c, Address: "unix://" + h.Socket, Server: v, Status: "Berth's engine is running in its VM (" + v.Version + ")"}, h, nil
}
