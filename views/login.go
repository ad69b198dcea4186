package views

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// LoginDialog asks for a registry account; the Core checks it with the
// engine and keeps it where docker login does.
type LoginDialog struct {
	Registry, User, Password *escEntry
	Dialog                   *dialog.FormDialog
}

// ShowLogin opens the Log in dialog for server (a registry's host; empty
// for Docker Hub); then runs after a login that succeeded.
func ShowLogin(c *app.Core, w fyne.Window, server string, then func()) *LoginDialog {
	d := &LoginDialog{Registry: newEscEntry(w), User: newEscEntry(w), Password: newEscPasswordEntry(w)}
	d.Registry.SetText(server)
	d.Registry.SetPlaceHolder("empty for Docker Hub, or a host like ghcr.io or localhost:5000")
	d.User.SetPlaceHolder("user name")
	d.Password.SetPlaceHolder("password or access token")
	d.Dialog = newFormDialog("Log in to a registry", "Log in", []*widget.FormItem{
		widget.NewFormItem("Registry", d.Registry), widget.NewFormItem("User", d.User), widget.NewFormItem("Password", d.Password),
	}, func(ok bool) {
		if !ok {
			return
		}
		registry, user, password := strings.TrimSpace(d.Registry.Text), strings.TrimSpace(d.User.Text), d.Password.Text
		go func() {
			err := c.Login(c.Context(), registry, user, password)
			onMain(func() {
				if err != nil {
					showError(err, w)
					return
				}
				if then != nil {
					then()
				}
			})
		}()
	}, w)
	d.Dialog.Resize(fyne.NewSize(520, d.Dialog.MinSize().Height))
	d.Dialog.Show()
	if server == "" || d.User.Text == "" {
		w.Canvas().Focus(d.User)
	}
	return d
}

// showErrorOrLogin shows err, or, when the registry wants an account,
// offers to log in and then retries.
func showErrorOrLogin(c *app.Core, w fyne.Window, ref string, err error, retry func()) {
	if !errors.Is(err, engine.ErrUnauthorized) {
		showError(err, w)
		return
	}
	ShowLogin(c, w, app.RegistryOf(ref), retry)
}
