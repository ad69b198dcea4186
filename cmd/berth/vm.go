package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-dev/berth/app"
)

// vmCommand is `berth vm start|stop|status`: Berth's VM for terminal
// users, with no window (the docker CLI and berth's own commands reach
// the engine through the socket `start` serves).
func vmCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("berth vm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Bool("keep-running", false, "start: leave the VM running when interrupted (the next start takes it over)")
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: berth vm start [--keep-running] | stop | status")
		return 2
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	settings, _, err := loadSettings()
	if err != nil {
		fmt.Fprintln(stderr, "berth vm:", app.Explain(err))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch verb {
	case "status":
		st, err := app.ProbeVM(ctx, settings)
		switch {
		case err != nil:
			fmt.Fprintln(stderr, "berth vm:", app.Explain(err))
			return 2
		case st.Served:
			fmt.Fprintf(stdout, "running\nexport DOCKER_HOST=%s\n", st.Socket)
		case st.Running:
			fmt.Fprintln(stdout, "running, not served (left running): berth vm start serves it, berth vm stop stops it")
		default:
			fmt.Fprintln(stdout, "stopped")
		}
		return 0
	case "stop":
		stopped, err := app.StopIdleVM(ctx, settings)
		if err != nil {
			fmt.Fprintln(stderr, "berth vm stop:", app.Explain(err))
			return 1
		}
		if stopped {
			fmt.Fprintln(stdout, "Berth's VM stopped")
		} else {
			fmt.Fprintln(stdout, "Berth's VM is not running")
		}
		return 0
	case "start":
		return vmStart(ctx, settings, *keep || settings.VM.KeepRunning, stdout, stderr)
	}
	fmt.Fprintf(stderr, "berth vm: unknown command %q: use start, stop or status\n", verb)
	return 2
}

// vmStart boots (or takes over) Berth's VM, serves its engine until
// interrupted, then stops it cleanly unless keep is set.
func vmStart(ctx context.Context, settings app.Settings, keep bool, stdout, stderr io.Writer) int {
	if st, err := app.ProbeVM(ctx, settings); err == nil && st.Served {
		fmt.Fprintf(stdout, "Berth's VM is already running, served by the app or another berth vm start.\nexport DOCKER_HOST=%s\n", st.Socket)
		return 0
	}
	last := ""
	settings.Engine, settings.VM.KeepRunning = "vm", keep
	core, err := app.Open(ctx, settings, func(step string, fraction float64) {
		if step != last {
			fmt.Fprintln(stderr, step)
			last = step
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "berth vm start:", app.Explain(err))
		return 1
	}
	fmt.Fprintf(stdout, "%s.\nexport DOCKER_HOST=%s\n", core.Status().Line, core.Info().Address)
	core.OnStatus(func(st app.Status) { fmt.Fprintln(stderr, st.Line) }) // the Core restarts a crashed VM
	<-ctx.Done()
	if keep {
		core.Close()
		fmt.Fprintln(stderr, "Berth's VM is left running; berth vm start serves it again, berth vm stop stops it.")
		return 0
	}
	fmt.Fprintln(stderr, "Stopping Berth's VM…")
	if err := core.Close(); err != nil {
		fmt.Fprintln(stderr, "berth vm:", app.Explain(err))
		return 1
	}
	return 0
}
