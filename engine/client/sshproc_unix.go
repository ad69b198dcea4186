//go:build unix && !linux

package client

import (
	"os/exec"
	"syscall"
)

// sshProcAttr puts ssh in a session of its own, so it has no terminal to
// ask on and a Ctrl+C meant for berth does not cut its connections.
func sshProcAttr(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
