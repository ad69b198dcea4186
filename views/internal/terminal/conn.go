package terminal

import (
	"errors"
	"io"

	"fyne.io/fyne/v2"

	widget2 "github.com/berth-dev/berth/views/internal/terminal/internal/widget"
)

// Berth's copy has no local shell: it runs only over a connection
// (RunWithConnection), a process in a container. The upstream widget's
// term_unix.go and term_windows.go start the user's shell in a PTY.

func (t *Terminal) updatePTYSize() {}

func (t *Terminal) startPTY() (io.WriteCloser, io.Reader, io.Closer, error) {
	return nil, nil, nil, errors.New("this terminal runs only over a connection")
}

// do and doAndWait run UI work on Fyne's thread. Berth: upstream calls
// fyne.Do and fyne.DoAndWait; Berth's view tests route them through the
// queue their test goroutine drains (SetScheduler), as Fyne's test driver
// runs them at once on whatever goroutine asked.
var do, doAndWait = fyne.Do, fyne.DoAndWait

// SetScheduler replaces how the widget hands work to the UI thread.
func SetScheduler(async, sync func(func())) {
	do, doAndWait, widget2.Do = async, sync, async
}
