//go:build !windows

package vm

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// processAlive says whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// waitProcess returns when p, which need not be a child of this process
// (an adopted VM), has exited.
func waitProcess(p *os.Process) {
	for processAlive(p.Pid) {
		time.Sleep(500 * time.Millisecond)
	}
}

// ownProcessGroup starts a process in a process group of its own.
func ownProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
