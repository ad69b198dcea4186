// Package vm runs Berth's engine in a small Linux VM, for macOS and
// Windows (and, for testing that path, Linux). A Driver starts and stops
// the VM, reports its state, dials the engine inside it and forwards
// published ports to the host. The QEMU driver works on all three systems
// (KVM, HVF or WHPX acceleration where the host has it, emulation
// otherwise); it is pure Go around the qemu-system binary.
package vm

import (
	"context"
	"net"
)

// State is where the VM is in its life.
type State string

const (
	Stopped  State = "stopped"
	Starting State = "starting"
	Running  State = "running"
	Failed   State = "failed"
)

// Status is the VM's state, with the reason and the console's last lines
// when it failed.
type Status struct {
	State       State
	Reason      string
	ConsoleTail string
}

// Driver runs one VM.
type Driver interface {
	// Start boots the VM and returns once the engine inside answers.
	Start(ctx context.Context) error
	// Stop shuts the VM down cleanly (the engine stops its containers
	// first), killing it if it does not stop in time.
	Stop(ctx context.Context) error
	Status() Status
	// DialEngine connects to the engine's API inside the VM.
	DialEngine(ctx context.Context) (net.Conn, error)
	// ForwardPort makes hostIP:port ("tcp" or "udp") on the host reach
	// port in the guest.
	ForwardPort(ctx context.Context, proto, hostIP string, port int) error
	// UnforwardPort closes what ForwardPort opened.
	UnforwardPort(ctx context.Context, proto, hostIP string, port int) error
	// Done is closed when the VM the last Start booted stops, asked to
	// or not.
	Done() <-chan struct{}
}
