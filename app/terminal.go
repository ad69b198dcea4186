package app

import (
	"context"
	"fmt"
	"io"

	"github.com/berth-dev/berth/engine"
)

// TerminalConn is a process on a terminal in a container: read what it
// prints, write what is typed, follow the window's size.
type TerminalConn interface {
	io.ReadWriteCloser
	Resize(ctx context.Context, height, width uint) error
	// ExitCode is the process's exit code once it has ended.
	ExitCode(ctx context.Context) (code int, ended bool, err error)
}

// Terminals open processes on a terminal in running containers (docker
// exec -it).
type Terminals interface {
	OpenTerminal(ctx context.Context, container string, spec engine.ExecSpec) (TerminalConn, error)
}

// shellCommand starts bash where the image has it, else sh.
var shellCommand = []string{"/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; fi; exec sh"}

// Shell opens an interactive shell in the running container, on a
// terminal of rows by cols (0: the engine's default until the first
// Resize), with TERM set for a colour terminal.
func (c *Core) Shell(ctx context.Context, container string, rows, cols uint) (TerminalConn, error) {
	if c.Engine.Terminals == nil {
		return nil, fmt.Errorf("this engine cannot open a terminal in a container: %w", engine.ErrNotSupported)
	}
	return c.Engine.Terminals.OpenTerminal(ctx, container, engine.ExecSpec{Cmd: shellCommand, Env: []string{"TERM=xterm-256color"}, Tty: true, ConsoleHeight: rows, ConsoleWidth: cols})
}
