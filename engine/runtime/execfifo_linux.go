package runtime

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// runInit starts a container's first process. When the process dies
// before it execs (a command that is not there, a bad working directory),
// libcontainer returns while a goroutine of its own still waits on the
// container's exec.fifo; once it opens the fifo it blocks on a channel
// nobody reads, keeping the descriptor forever: one leaked file per failed
// `docker run`. runInit ends that wait and closes the descriptor, so a
// long-lived engine does not run out of files. (The goroutine itself stays
// parked; it holds nothing else.)
func runInit(lc *libcontainer.Container, proc *libcontainer.Process, stateDir string) error {
	err := lc.Run(proc)
	if err != nil {
		releaseExecFifo(filepath.Join(stateDir, "exec.fifo"))
	}
	return err
}

func releaseExecFifo(fifo string) {
	// A writer that opens and closes lets a reader blocked in open return.
	if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
	// The wait is short: when libcontainer's reader already finished there is
	// nothing to find, and a failed start is not worth a long pause.
	for range 20 {
		if closeFilesNamed(fifo) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closeFilesNamed closes this process's descriptors open for reading on
// path and says whether there were any. Only those: libcontainer keeps an
// O_PATH descriptor of the fifo that it (or a finalizer) closes itself, and
// closing it here would close whatever file reuses the number next.
func closeFilesNamed(path string) bool {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false
	}
	found := false
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || (target != path && target != path+" (deleted)") {
			continue
		}
		fd, err := strconv.Atoi(e.Name())
		if err != nil || !openForReading(fd) {
			continue
		}
		unix.Close(fd)
		found = true
	}
	return found
}

// openForReading says whether fd was opened read-only, not as an O_PATH.
func openForReading(fd int) bool {
	info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", strconv.Itoa(fd)))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&unix.O_ACCMODE == unix.O_RDONLY && flags&unix.O_PATH == 0
		}
	}
	return false
}
