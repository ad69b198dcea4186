package runtime

import (
	"fmt"
	"slices"

	"github.com/berth-dev/berth/engine"
)

// A container's life, kept apart as libcontainer keeps its own: every
// change of a container's state goes through transition, which refuses
// the changes that cannot happen. One that does is a bug in the runtime,
// reported instead of recorded.
var transitions = map[engine.ContainerStatus][]engine.ContainerStatus{
	engine.StatusCreated:    {engine.StatusRunning, engine.StatusExited},
	engine.StatusRunning:    {engine.StatusPaused, engine.StatusExited},
	engine.StatusPaused:     {engine.StatusRunning, engine.StatusExited},
	engine.StatusExited:     {engine.StatusRunning, engine.StatusRestarting, engine.StatusExited},
	engine.StatusRestarting: {engine.StatusRunning, engine.StatusExited},
	engine.StatusDead:       {},
}

// stateTransitionError is a change of state the life above does not allow.
type stateTransitionError struct {
	from, to engine.ContainerStatus
}

func (e *stateTransitionError) Error() string {
	return fmt.Sprintf("a container cannot go from %s to %s", e.from, e.to)
}

// allowed says whether the container may go to state to now. Call it
// with c.mu held, before work that cannot be undone (starting a process).
func (c *ctr) allowed(to engine.ContainerStatus) error {
	from := c.rec.State.Status
	if from == "" {
		from = engine.StatusCreated
	}
	if !slices.Contains(transitions[from], to) {
		return &stateTransitionError{from, to}
	}
	return nil
}

// transition moves the container's record to state st, when its life
// allows. Call it with c.mu held.
func (c *ctr) transition(st engine.ContainerState) error {
	if err := c.allowed(st.Status); err != nil {
		return err
	}
	c.rec.State = st
	return nil
}
