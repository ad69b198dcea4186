package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// watchCommand is `berth watch`: rebuild DIR's image on every save and,
// with --run, keep a container of it running. It runs until interrupted.
func watchCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("berth watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "the Dockerfile, inside DIR (default DIR/Dockerfile)")
	tag := fs.String("t", "", "the image's name, e.g. myapp:dev (required)")
	run := fs.Bool("run", false, "keep a container of the image running, replaced after each rebuild")
	name := fs.String("name", "", "the container's name (default: the image's name)")
	debounce := fs.Duration("debounce", 0, "wait this long after the last save (default: the settings', 150ms; 10ms with --sync)")
	syncSaves := fs.Bool("sync", false, "with --run, copy saved files the last COPY takes into the container instead of rebuilding first (the image is rebuilt after, in the background)")
	noRestart := fs.Bool("no-restart", false, "with --sync, leave the container's process running after a copy (for servers that reload by themselves)")
	var ports, env, volumes listFlag
	fs.Var(&ports, "p", "publish HOST:CONTAINER (repeatable)")
	fs.Var(&volumes, "v", "mount /host/path:/in/container or name:/in/container (repeatable)")
	fs.Var(&env, "e", "set NAME=value in the container (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *tag == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: berth watch [-f Dockerfile] -t NAME [--run [-p HOST:CONTAINER ...] [-e NAME=value ...] [-v SRC:DST ...] [--name NAME] [--sync [--no-restart]]] DIR")
		return 2
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "berth watch:", err)
		return 2
	}
	settings, _, _ := loadSettings()
	if *syncSaves && !*run {
		fmt.Fprintln(stderr, "berth watch: --sync copies into the container --run keeps running: add --run")
		return 2
	}
	if *debounce == 0 {
		*debounce = settings.WatchDebounce.Duration
		if *syncSaves {
			*debounce = app.SyncDebounce
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	core, err := openForCommand(ctx, settings)
	if err != nil {
		fmt.Fprintln(stderr, "berth watch:", app.Explain(err))
		return 2
	}
	defer core.Close()
	fmt.Fprintln(stdout, core.Status().Line)

	r := &app.Rebuilder{Builder: core.Engine.Builder, Containers: core.Engine.Containers,
		Build: engine.BuildOptions{ContextDir: dir, Dockerfile: *file, Tags: []string{*tag}}}
	if *run {
		cname := *name
		if cname == "" {
			cname = strings.NewReplacer(":", "-", "/", "-").Replace(*tag)
		}
		spec, err := app.ParseRunOptions(app.RunOptions{Image: *tag, Name: cname, Ports: strings.Join(ports, ","), Env: strings.Join(env, "\n"), Volumes: strings.Join(volumes, "\n")})
		if err != nil {
			fmt.Fprintln(stderr, "berth watch:", app.Explain(err))
			return 2
		}
		r.Run = &spec
		if *syncSaves {
			if core.Engine.Files == nil {
				fmt.Fprintln(stderr, "berth watch: this engine cannot copy files into containers; --sync is off")
			} else {
				r.Sync = &app.SyncOptions{Files: core.Engine.Files, Restart: !*noRestart, Images: core.Engine.Images}
			}
		}
	}
	r.OnEvent = func(ev engine.BuildEvent) {
		switch ev.Kind {
		case engine.BuildStepCached:
			fmt.Fprintf(stdout, "  %2d/%d CACHED %s\n", ev.Step, ev.Steps, ev.Instruction)
		case engine.BuildStepDone:
			fmt.Fprintf(stdout, "  %2d/%d %.2fs  %s\n", ev.Step, ev.Steps, ev.Duration.Seconds(), ev.Instruction)
		case engine.BuildStepOutput:
			for _, line := range strings.Split(strings.TrimRight(ev.Output, "\n"), "\n") {
				fmt.Fprintln(stdout, "        "+line)
			}
		case engine.BuildWarning:
			fmt.Fprintln(stdout, "  warning: "+ev.Output)
		}
	}
	r.OnResult = func(res app.RebuildResult) {
		when := res.Started.Format("15:04:05")
		changed := ""
		if len(res.Paths) > 0 {
			changed = " (" + strings.Join(res.Paths, ", ") + ")"
		}
		if res.Synced != nil {
			msg := fmt.Sprintf("%s synced%s to %s in %s", when, changed, strings.Join(res.Synced, ", "), res.Duration.Round(time.Millisecond))
			switch {
			case res.Err != nil:
				msg += ": " + app.Explain(res.Err)
			case res.Restarted:
				msg += ", restarted " + app.ShortID(res.Container)
			}
			fmt.Fprintln(stdout, msg)
			return
		}
		if res.NotSynced != "" {
			fmt.Fprintf(stdout, "%s %s\n", when, res.NotSynced)
		}
		if res.Err != nil {
			fmt.Fprintf(stdout, "%s rebuild failed after %.2fs%s: %s\n", when, res.Duration.Seconds(), changed, app.Explain(res.Err))
			if res.Container != "" {
				fmt.Fprintln(stdout, "         the previous container keeps running")
			}
			return
		}
		msg := fmt.Sprintf("%s built %s in %.2fs%s", when, app.ShortID(res.ImageID), res.Duration.Seconds(), changed)
		if res.Background {
			msg = fmt.Sprintf("%s image %s brought up to date in %.2fs (the container keeps running)", when, app.ShortID(res.ImageID), res.Duration.Seconds())
		} else if res.Container != "" {
			msg += ", running as " + app.ShortID(res.Container)
		}
		fmt.Fprintln(stdout, msg)
	}

	w, err := app.NewWatcher(dir, *file, *debounce)
	if err != nil {
		fmt.Fprintln(stderr, "berth watch:", app.Explain(err))
		return 2
	}
	defer w.Close()
	fmt.Fprintf(stdout, "watching %d files in %s (Ctrl-C to stop)\n", w.Files(), dir)
	r.Trigger(ctx, nil)
	go w.Run(ctx, func(paths []string) { r.Trigger(ctx, paths) }, func(err error) {
		fmt.Fprintln(stderr, "berth watch:", app.Explain(err))
	})
	<-ctx.Done()
	r.Wait()
	time.Sleep(10 * time.Millisecond)
	return 0
}

// openForCommand is the engine a terminal command uses: the one the app
// would, except that Berth's VM must already be running (the app or berth
// vm start serves it), since a command should not boot a VM it would stop
// again when it ends.
func openForCommand(ctx context.Context, settings app.Settings) (*app.Core, error) {
	return app.Open(ctx, settings, nil, app.WithoutVMBoot())
}
