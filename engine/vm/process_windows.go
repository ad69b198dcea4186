package vm

import (
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// processAlive says whether a process with this pid is running.
func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	var code uint32
	if windows.GetExitCodeProcess(h, &code) != nil {
		return false
	}
	return code == 259 // STILL_ACTIVE
}

// waitProcess returns when p has exited; on Windows FindProcess holds a
// handle, which can be waited on whoever started the process.
func waitProcess(p *os.Process) { p.Wait() }

// ownProcessGroup starts a process in a process group of its own, out of
// reach of the console's Ctrl-C.
func ownProcessGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}
