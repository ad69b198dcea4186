package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine/memtrim"
)

// LongJob is how long a pull, build or push must take before its end is
// worth a desktop notification.
const LongJob = 10 * time.Second

// Attention tells a person, with a desktop notification, when long work
// ends while Berth's window is in the background: they went to do
// something else while a pull or build ran. The window says where the
// focus is and how to notify; nothing here draws.
type Attention struct {
	// Notify shows a desktop notification; nil sends none.
	Notify func(title, body string)
	// After is how long a job must take to be told of (0: LongJob).
	After time.Duration

	trim *memtrim.Trimmer // told of each job's end; nil: none

	mu         sync.Mutex
	background bool
}

// SetBackground records whether the window has lost the focus.
func (a *Attention) SetBackground(b bool) {
	a.mu.Lock()
	a.background = b
	a.mu.Unlock()
}

// Done reports the end of a job (what: "Pull busybox:1.36") that started
// at started, and says whether a notification went out: only for a job
// that took LongJob or more, ended while the window was in the
// background, and was not cancelled.
func (a *Attention) Done(what string, started time.Time, err error) bool {
	if a.trim != nil {
		a.trim.Touch() // a pull or build leaves garbage behind
	}
	a.mu.Lock()
	background, notify := a.background, a.Notify
	a.mu.Unlock()
	took := time.Since(started)
	if notify == nil || !background || took < cmp.Or(a.After, LongJob) || errors.Is(err, context.Canceled) {
		return false
	}
	if err != nil {
		notify(what+" failed", fmt.Sprintf("After %s: %s", took.Round(time.Second), Explain(err)))
	} else {
		notify(what+" finished", fmt.Sprintf("It took %s.", took.Round(time.Second)))
	}
	return true
}
