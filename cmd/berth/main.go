// Command berth is Berth's desktop app. With a subcommand it works in a
// terminal instead, with no display: berth lint, berth layers.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/views"
)

func main() {
	engine := ""
	if len(os.Args) > 2 && os.Args[1] == "--engine" { // berth --engine vm|unix:///…|tcp://…
		engine, os.Args = os.Args[2], append(os.Args[:1], os.Args[3:]...)
	}
	if len(os.Args) > 1 {
		os.Exit(subcommand(os.Args[1], os.Args[2:]))
	}
	a := fyneapp.NewWithID("dev.berth.app")
	w := views.Start(a, views.Options{SettingsPath: app.ConfigPath(), Engine: engine})
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
