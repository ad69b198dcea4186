// Command berth is Berth's desktop app. With a subcommand it works in a
// terminal instead, with no display: berth lint, berth layers.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/views"
)

func main() {
	args, err := globalFlags(os.Args[1:]) // berth --engine vm|unix:///…|ssh://…, berth --context NAME
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth: %v\n%s\n", err, usage)
		os.Exit(2)
	}
	if len(args) > 0 {
		os.Exit(subcommand(args[0], args[1:]))
	}
	a := fyneapp.NewWithID("dev.berth.app")
	w := views.Start(a, views.Options{SettingsPath: app.ConfigPath(), Engine: chosen.engine, Context: chosen.context})
	w.Win.Show()
	// A logout or kill ends the app as a quit does: Berth's VM stops cleanly.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		fyne.Do(a.Quit)
	}()
	a.Run()
	w.Shutdown() // (once: closing the window may have done it)
}
