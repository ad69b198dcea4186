package views

import (
	"context"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/views/internal/terminal"
)

// TerminalWindow is a shell in a running container, in a window of its
// own: docker exec -it, drawn.
type TerminalWindow struct {
	Win    fyne.Window
	Term   *terminal.Terminal
	Status *widget.Label

	mu   sync.Mutex
	conn app.TerminalConn
}

// ShowTerminal opens a shell (bash, else sh) in the running container c;
// the terminal follows the window's size, and closing the window hangs
// the shell up.
func ShowTerminal(core *app.Core, c engine.Container) *TerminalWindow {
	t := &TerminalWindow{Win: fyne.CurrentApp().NewWindow("Terminal — " + c.Name), Term: terminal.New(), Status: widget.NewLabel("Opening a shell in " + c.Name + "…")}
	t.Status.Truncation = fyne.TextTruncateEllipsis
	ctx, cancel := context.WithCancel(core.Context())
	sizes := make(chan terminal.Config, 8)
	t.Term.AddListener(sizes)
	t.Win.SetContent(container.NewBorder(nil, t.Status, nil, nil, t.Term))
	t.Win.Resize(fyne.NewSize(820, 520))
	t.Win.SetOnClosed(func() {
		cancel()
		t.mu.Lock()
		if t.conn != nil {
			t.conn.Close()
		}
		t.mu.Unlock()
	})
	t.Win.Show()
	t.Win.Canvas().Focus(t.Term)
	go func() {
		conn, err := core.Shell(ctx, c.ID, 0, 0)
		if err != nil {
			onMain(func() { t.Status.SetText(app.Explain(err)) })
			return
		}
		t.mu.Lock()
		t.conn = conn
		t.mu.Unlock()
		go func() { // the process's terminal keeps the window's size
			for {
				select {
				case cfg := <-sizes:
					if cfg.Rows > 0 && cfg.Columns > 0 {
						conn.Resize(ctx, cfg.Rows, cfg.Columns)
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		t.Term.Connected = func() { // on the UI thread, once typing reaches the shell
			t.Status.SetText("A shell in " + c.Name + ": what you type runs there. Close the window to end it.")
		}
		t.Term.RunWithConnection(conn, conn) // until the shell ends
		msg := "The shell ended."
		if code, ended, err := conn.ExitCode(context.WithoutCancel(ctx)); err == nil && ended && code != 0 {
			msg = fmt.Sprintf("The shell ended with exit code %d.", code)
		}
		onMain(func() {
			// The keys no longer reach a shell: Escape closes the window.
			t.Win.Canvas().Unfocus()
			closeOnEscape(t.Win)
			t.Status.SetText(msg + " Escape closes this window.")
		})
	}()
	return t
}
