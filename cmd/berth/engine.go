package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/berth-dev/berth/app"
)

// engineCommand is `berth engine start|stop|status`: Berth's own engine
// for terminal users, the one the app starts for this user (rootless for
// an ordinary user), with no window.
func engineCommand(args []string, stdout, stderr io.Writer) int {
	dockerContext := len(args) == 2 && args[0] == "start" && args[1] == "--docker-context"
	if len(args) != 1 && !dockerContext {
		fmt.Fprintln(stderr, "usage: berth engine start [--docker-context] | stop | status")
		return 2
	}
	// --docker-context writes the engine into the docker CLI's contexts,
	// so `docker --context berth` (and an ssh:// engine's dial-stdio, after
	// `docker context use berth`) reach it.
	tellDocker := func(address string) {
		if !dockerContext {
			fmt.Fprintf(stdout, "export DOCKER_HOST=%s\n", address)
			return
		}
		if err := app.WriteDockerContext(app.BerthContext, "Berth's engine", address); err != nil {
			fmt.Fprintln(stderr, "berth engine start:", err)
			return
		}
		fmt.Fprintf(stdout, "The docker CLI's context %q reaches it: docker --context %[1]s ps, or for good: docker context use %[1]s\n", app.BerthContext)
	}
	settings, _, err := loadSettings()
	if err != nil {
		fmt.Fprintln(stderr, "berth engine:", app.Explain(err))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "status":
		info, err := app.ProbeBerthd(ctx)
		if err != nil {
			fmt.Fprintf(stdout, "stopped (nothing answers at %s)\n", info.Address)
			return 3 // as systemctl status: not running
		}
		fmt.Fprintf(stdout, "running: %s %s\nexport DOCKER_HOST=%s\n", info.Product, info.Version, info.Address)
		return 0
	case "stop":
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		stopped, err := app.StopBerthd(ctx)
		switch {
		case err != nil:
			fmt.Fprintln(stderr, "berth engine stop:", err)
			return 1
		case stopped:
			fmt.Fprintln(stdout, "Berth's engine stopped")
		default:
			fmt.Fprintln(stdout, "Berth's engine is not running")
		}
		return 0
	case "start":
		if info, err := app.ProbeBerthd(ctx); err == nil {
			fmt.Fprintln(stdout, "Berth's engine is already running (berth engine stop stops it).")
			tellDocker(info.Address)
			return 0
		}
		fmt.Fprintln(stderr, "Starting Berth's engine (Ctrl-C stops it)…")
		err := app.RunBerthd(ctx, settings, stderr, func(address string) {
			fmt.Fprintln(stdout, "Berth's engine is ready. Point the docker CLI at it with:")
			tellDocker(address)
		})
		if err != nil {
			fmt.Fprintln(stderr, "berth engine start:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "berth engine: unknown command %q: use start, stop or status\n", args[0])
	return 2
}
