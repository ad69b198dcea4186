package client

import (
	"os/exec"
	"syscall"
)

// sshProcAttr keeps ssh.exe from opening a console window of its own.
func sshProcAttr(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true} }
