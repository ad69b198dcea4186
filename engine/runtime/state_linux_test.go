package runtime

import (
	"errors"
	"testing"

	"github.com/berth-dev/berth/engine"
)

// A container's state changes only as its life allows: a paused one
// cannot be paused again by mistake, an exited one cannot be paused, a
// dead one stays dead.
func TestTransitions(t *testing.T) {
	for _, tc := range []struct {
		from, to engine.ContainerStatus
		ok       bool
	}{
		{engine.StatusCreated, engine.StatusRunning, true},
		{engine.StatusRunning, engine.StatusPaused, true},
		{engine.StatusPaused, engine.StatusRunning, true},
		{engine.StatusRunning, engine.StatusExited, true},
		{engine.StatusExited, engine.StatusRestarting, true},
		{engine.StatusRestarting, engine.StatusRunning, true},
		{engine.StatusExited, engine.StatusRunning, true},
		{engine.StatusExited, engine.StatusPaused, false},
		{engine.StatusPaused, engine.StatusPaused, false},
		{engine.StatusCreated, engine.StatusPaused, false},
		{engine.StatusDead, engine.StatusRunning, false},
	} {
		c := &ctr{rec: &record{}}
		c.rec.State.Status = tc.from
		err := c.transition(engine.ContainerState{Status: tc.to})
		var te *stateTransitionError
		if tc.ok != (err == nil) || !tc.ok && (!errors.As(err, &te) || c.rec.State.Status != tc.from) {
			t.Errorf("%s -> %s: %v (now %s)", tc.from, tc.to, err, c.rec.State.Status)
		}
	}
}
