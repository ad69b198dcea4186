// Package human writes sizes and container states the way the docker CLI
// shows them ("1.98MB", "Up 3 hours", "Exited (2) 2 minutes ago"): one
// wording for berthd's API answers and for every panel of the app.
package human

import (
	"fmt"
	"time"

	"github.com/berth-dev/berth/engine"
	units "github.com/docker/go-units"
)

// Size is bytes as docker writes them: 3B, 512kB, 1.98MB (decimal units,
// three significant digits).
func Size(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

// Status is `docker ps`'s STATUS column for a container in state st, at
// the time now.
func Status(st engine.ContainerState, now time.Time) string {
	switch st.Status {
	case engine.StatusRunning:
		up := "Up " + units.HumanDuration(now.Sub(st.StartedAt))
		if st.Health != nil { // as docker ps: "Up 2 minutes (healthy)"
			if st.Health.Status == "starting" {
				return up + " (health: starting)"
			}
			return up + " (" + st.Health.Status + ")"
		}
		return up
	case engine.StatusPaused:
		return "Up " + units.HumanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case engine.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	case engine.StatusExited:
		if st.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", st.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	case engine.StatusDead:
		return "Dead"
	}
	return "Created"
}

// Age writes how long ago t was: "just now", "5 minutes ago", "3 days ago".
func Age(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds ago", int(d.Seconds()))
	case d < 2*time.Minute:
		return "a minute ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 2*time.Hour:
		return "an hour ago"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	case d < 60*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%d months ago", int(d.Hours()/24/30))
	}
	return fmt.Sprintf("%d years ago", int(d.Hours()/24/365))
}
