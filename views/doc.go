// Package views holds the Fyne panels of the desktop app, one file per
// panel, assembled in window.go. Views read app state and never import
// engine implementations, go-containerregistry, libcontainer or Docker types.
package views
