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
