package views

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// emptyState places what an empty list says in the middle of the list's
// place. The label spans the whole width and centres its text: in a
// Center container a wrapping label is only as wide as its shortest
// line, so its text began at the middle and ran off to the right.
func emptyState(l *widget.Label) fyne.CanvasObject {
	l.Alignment = fyne.TextAlignCenter
	l.Wrapping = fyne.TextWrapWord
	return container.NewVBox(layout.NewSpacer(), l, layout.NewSpacer())
}

// HumanSize writes bytes as docker does: 1.98MB, 512kB, 3B.
func HumanSize(n int64) string { return app.HumanSize(n) }

// HumanAge writes how long ago t was: "just now", "5 minutes ago", "3 days ago".
func HumanAge(t, now time.Time) string { return app.Age(t, now) }

// Uptime is `docker ps`'s STATUS column.
func Uptime(c engine.Container, now time.Time) string { return app.StatusText(c, now) }

// Ports is `docker ps`'s PORTS column: 127.0.0.1:8080->80/tcp.
func Ports(c engine.Container) string {
	var out []string
	for _, p := range c.Ports {
		host := p.HostIP
		if host == "" {
			host = "0.0.0.0"
		}
		proto := p.Proto
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", host, p.HostPort, p.ContainerPort, proto))
	}
	return strings.Join(out, ", ")
}

// Networks lists a container's user-defined networks, with its address
// on each while it runs: "network proj (10.89.0.2)".
func Networks(c engine.Container) string {
	var out []string
	for _, a := range c.Networks {
		if a.IPAddress != "" {
			out = append(out, fmt.Sprintf("%s (%s)", a.Network, a.IPAddress))
		} else {
			out = append(out, a.Network)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "network " + strings.Join(out, ", ")
}

// Percent writes a 0..1 fraction as a whole percentage.
func Percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// shortReason is why a step reran, as the build log's row has room for:
// "app.py changed" from "Reran because app.py changed (COPY . /app, line 6)".
func shortReason(reason, instruction string) string {
	r := strings.TrimPrefix(reason, "Reran because ")
	if i := strings.LastIndex(r, " ("+instruction+", line "); i > 0 {
		r = r[:i]
	}
	return r
}
