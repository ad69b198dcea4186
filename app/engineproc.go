package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// EngineProcess is a berthd the app started. When it ends (before it
// answered, typically: no subordinate IDs, no pasta) Exited is closed and
// Err says why in the engine's own words, from the lines it wrote.
type EngineProcess struct {
	*os.Process
	exited chan struct{}
	err    error
}

// Exited is closed when the engine's process has ended.
func (p *EngineProcess) Exited() <-chan struct{} { return p.exited }

// Err is why the engine ended, once Exited is closed.
func (p *EngineProcess) Err() error { return p.err }

// watchEngine waits for cmd (started, writing to the log at logPath from
// offset on) in the background and reads its reason when it ends.
func watchEngine(cmd *exec.Cmd, logPath string, offset int64) *EngineProcess {
	p := &EngineProcess{Process: cmd.Process, exited: make(chan struct{})}
	go func() {
		waitErr := cmd.Wait()
		p.err = engineExitReason(logPath, offset, waitErr)
		close(p.exited)
	}()
	return p
}

// engineExitReason is the line berthd printed as it gave up ("berthd:
// …"), or its last line, or the wait's own error.
func engineExitReason(logPath string, offset int64, waitErr error) error {
	var last, fatal string
	if f, err := os.Open(logPath); err == nil {
		defer f.Close()
		if _, err := f.Seek(offset, io.SeekStart); err == nil {
			sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				if line == "" {
					continue
				}
				last = line
				if rest, ok := strings.CutPrefix(line, "berthd: "); ok {
					fatal = rest
				}
			}
		}
	}
	switch {
	case fatal != "":
		return fmt.Errorf("%s (%s; the engine's log: %s)", fatal, exitWords(waitErr), logPath)
	case last != "":
		return fmt.Errorf("%s; its last words: %s (the engine's log: %s)", exitWords(waitErr), last, logPath)
	}
	return errors.New(exitWords(waitErr))
}

// exitWords says how a process ended, for a person.
func exitWords(err error) string {
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return fmt.Sprintf("it exited with code %d", exit.ExitCode())
	case err != nil:
		return "it ended: " + err.Error()
	}
	return "it ended"
}
