// Package app is the desktop app's logic without any widgets: state holders
// with change callbacks, long jobs with progress and cancel, TOML settings,
// watch-and-rebuild, and the one place where engine errors become wording
// a beginner can act on. It talks to the engine only through the engine
// package's interfaces, and never imports Fyne or views.
package app
