package client

import (
	"os/exec"
	"syscall"
)

// sshProcAttr puts ssh in a session of its own, so it has no terminal to
// ask on and a Ctrl+C meant for berth does not cut its connections, and
// ends it with the process that started it.
func sshProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
}
