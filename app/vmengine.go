package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine/vm"
)

// Progress hears how long work is going: fraction in [0, 1], or -1 when
// it cannot be told.
type Progress = vm.Progress

// vmStateDirFor is the settings' state_dir, else the default.
func vmStateDirFor(s Settings) (string, error) {
	if s.VM.StateDir != "" {
		return s.VM.StateDir, nil
	}
	return vm.DefaultStateDir()
}

// VMState is where Berth's VM is in its life.
type VMState string

const (
	VMStopped  VMState = VMState(vm.Stopped)
	VMStarting VMState = VMState(vm.Starting)
	VMRunning  VMState = VMState(vm.Running)
	VMFailed   VMState = VMState(vm.Failed)
)

// VMStatus is the VM's state for the status bar, with the reason and the
// console's last lines when it failed.
type VMStatus struct {
	State       VMState
	Reason      string
	ConsoleTail string
}

func vmStatus(st vm.Status) VMStatus {
	return VMStatus{State: VMState(st.State), Reason: st.Reason, ConsoleTail: st.ConsoleTail}
}

// Line is the status bar's text for the state.
func (s VMStatus) Line() string {
	switch s.State {
	case VMRunning:
		if s.Reason != "" {
			return "Berth's VM is running; " + s.Reason
		}
		return "Berth's VM is running"
	case VMStarting:
		if s.Reason != "" {
			return "Berth's VM is starting again (" + s.Reason + ")…"
		}
		return "Starting Berth's VM…"
	case VMFailed:
		return "Berth's VM failed: " + s.Reason
	}
	return "Berth's VM is stopped"
}

// VM is Berth's VM as the app holds it: the helper serving the engine's
// socket, and the VM's state.
type VM struct {
	helper *vm.Helper
	// elsewhere: another Berth (berth vm start in a terminal) serves the
	// VM; the app uses its engine and leaves the VM to it (helper is nil).
	elsewhere *Settings

	mu     sync.Mutex
	report func(VMStatus) // Supervise's, for news between changes of state
}

// portError tells the app that a published port could not be opened on
// this computer: the container runs, but cannot be reached here.
func (v *VM) portError(port string, err error) {
	v.mu.Lock()
	report := v.report
	v.mu.Unlock()
	if report != nil {
		report(VMStatus{State: VMRunning, Reason: "port " + port + " is in use by another program on this computer, so the container's port cannot be reached there: stop that program, or publish another port"})
	}
}

// Status is the VM's state now.
func (v *VM) Status() VMStatus {
	if v.helper == nil {
		return v.elsewhereStatus()
	}
	return vmStatus(v.helper.Driver.Status())
}

func (v *VM) elsewhereStatus() VMStatus {
	st, err := ProbeVM(context.Background(), *v.elsewhere)
	switch {
	case err == nil && st.Served:
		return VMStatus{State: VMRunning, Reason: "served by berth vm start"}
	case err == nil && st.Running:
		return VMStatus{State: VMFailed, Reason: "berth vm start no longer serves the VM: run it again, or restart the app to serve it here"}
	}
	return VMStatus{State: VMFailed, Reason: "the VM that berth vm start served has stopped: restart the app to start it"}
}

// Stop shuts the VM down cleanly; one that berth vm start serves is left
// to it.
func (v *VM) Stop(ctx context.Context) error {
	if v.helper == nil {
		return nil
	}
	return v.helper.Stop(ctx)
}

// Detach lets go of the VM and leaves it running with its containers
// (keep_running); the next ConnectVM adopts it instead of booting.
func (v *VM) Detach() {
	if v.helper != nil {
		v.helper.Detach()
	}
}

// Supervise restarts the VM after a crash (three quick failures in a row
// and it gives up) and reports each change until ctx ends or Stop. A VM
// that berth vm start serves is its to restart: the app reports what it
// sees every few seconds.
func (v *VM) Supervise(ctx context.Context, report func(VMStatus)) {
	v.mu.Lock()
	v.report = report
	v.mu.Unlock()
	if v.helper == nil {
		last := VMStatus{}
		for {
			if st := v.elsewhereStatus(); st != last {
				report(st)
				last = st
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Second):
			}
		}
	}
	v.helper.Supervise(ctx, 3, func(st vm.Status) { report(vmStatus(st)) })
}

// Crash kills the VM as a crash would (for tests of the recovery).
func (v *VM) Crash() {
	if v.helper == nil {
		return
	}
	if k, ok := v.helper.Driver.(interface{ Kill() }); ok {
		k.Kill()
	}
}

// vmDriver is the QEMU driver the settings describe, booting the image in
// img (which may be "" when only an existing VM is looked at).
func vmDriver(s Settings, img string) (*vm.QEMU, string, error) {
	dir, err := vmStateDirFor(s)
	if err != nil {
		return nil, "", err
	}
	var flags []string
	for _, r := range s.InsecureRegistries {
		flags = append(flags, "--insecure-registry="+r)
	}
	var shares []string
	if runtime.GOOS != "windows" { // QEMU for Windows has no 9p server
		if shares, err = s.VM.SharedFolders(); err != nil {
			return nil, "", err
		}
	}
	return vm.NewQEMU(vm.QEMUConfig{Dir: dir, Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"),
		CPUs: s.VM.CPUs, MemoryMB: s.VM.MemoryMB, DiskGB: s.VM.DiskGB, EngineFlags: flags, Shares: shares}), dir, nil
}

// VMProbe is what runs of Berth's VM: whether the VM runs, and whether a
// helper (the app, berth vm start) serves its engine on Socket.
type VMProbe struct {
	Running, Served bool
	Socket          string // the engine's address, DOCKER_HOST form
}

// ProbeVM looks at Berth's VM without starting or taking over anything.
func ProbeVM(ctx context.Context, s Settings) (VMProbe, error) {
	q, dir, err := vmDriver(s, "")
	if err != nil {
		return VMProbe{}, err
	}
	st := VMProbe{Socket: vm.SocketAddress(vm.DefaultSocket(dir)), Running: q.Running()}
	if st.Running {
		_, err := dial(ctx, st.Socket, 2*time.Second, nil)
		st.Served = err == nil
	}
	return st, nil
}

// connectRunningVM connects to the engine of Berth's VM as another Berth
// (the app, berth vm start) serves it; terminal commands use it.
func connectRunningVM(ctx context.Context, s Settings) (*connection, error) {
	st, err := ProbeVM(ctx, s)
	if err != nil {
		return nil, err
	}
	switch {
	case !st.Running:
		return nil, errors.New("Berth's VM is not running: start it with berth vm start, or open the app")
	case !st.Served:
		return nil, errors.New("Berth's VM is running, but nothing serves its engine (it was left running): berth vm start serves it again")
	}
	conn, err := dial(ctx, st.Socket, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("the engine in Berth's VM does not answer: %w", err)
	}
	conn.status = "Berth's engine is running in its VM (" + conn.info.Version + ")"
	return conn, nil
}

// StopIdleVM stops Berth's VM when it runs with nobody serving it (left
// running by keep_running); one the app or berth vm start serves is
// theirs to stop. It reports whether there was one to stop.
func StopIdleVM(ctx context.Context, s Settings) (bool, error) {
	st, err := ProbeVM(ctx, s)
	if err != nil || !st.Running {
		return false, err
	}
	if st.Served {
		return false, fmt.Errorf("Berth's VM is in use by the app or berth vm start (%s): quit that to stop it", st.Socket)
	}
	q, _, err := vmDriver(s, "")
	if err != nil {
		return false, err
	}
	if !q.Attach() {
		return false, nil // it stopped meanwhile
	}
	return true, q.Stop(ctx)
}

// connectVM starts Berth's VM (sized by the settings), making its image
// first if this is the first use, and connects to the engine in it
// through the helper's socket.
func connectVM(ctx context.Context, s Settings, progress Progress) (*connection, *VM, error) {
	// berth vm start in a terminal serves it already: use its engine rather
	// than take the VM over from under it.
	if st, err := ProbeVM(ctx, s); err == nil && st.Served {
		if conn, err := connectRunningVM(ctx, s); err == nil {
			return conn, &VM{elsewhere: &s}, nil
		}
	}
	img, err := vm.EnsureImage(ctx, progress)
	if err != nil {
		return nil, nil, err
	}
	q, dir, err := vmDriver(s, img)
	if err != nil {
		return nil, nil, err
	}
	v := &VM{}
	h := &vm.Helper{Driver: q, Socket: vm.DefaultSocket(dir), PortError: v.portError}
	v.helper = h
	if progress != nil {
		progress("Starting Berth's VM…", -1)
	}
	if err := h.Start(ctx); err != nil {
		st := q.Status()
		return nil, nil, fmt.Errorf("Berth's VM did not start: %w\n%s", err, st.ConsoleTail)
	}
	conn, err := dial(ctx, vm.SocketAddress(h.Socket), 0, nil)
	if err != nil {
		h.Stop(context.Background())
		return nil, nil, fmt.Errorf("the engine in Berth's VM does not answer: %w", err)
	}
	conn.status = "Berth's engine is running in its VM (" + conn.info.Version + ")"
	return conn, v, nil
}
