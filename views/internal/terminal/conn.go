package terminal

import (
	"errors"
	"io"
)

// Berth's copy has no local shell: it runs only over a connection
// (RunWithConnection), a process in a container. The upstream widget's
// term_unix.go and term_windows.go start the user's shell in a PTY.

func (t *Terminal) updatePTYSize() {}

func (t *Terminal) startPTY() (io.WriteCloser, io.Reader, io.Closer, error) {
	return nil, nil, nil, errors.New("this terminal runs only over a connection")
}
