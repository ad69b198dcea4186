package runtime

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/berth-dev/berth/engine"
)

// Docker's health check defaults.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 30 * time.Second
	defaultHealthRetries  = 3
	healthLogKept         = 5
	healthOutputKept      = 4096
)

// mergeHealthcheck is the container's health check: the run's fields
// over the image's HEALTHCHECK, field by field, as dockerd merges them.
func mergeHealthcheck(image, run *engine.HealthCheck) *engine.HealthCheck {
	switch {
	case run == nil && image == nil:
		return nil
	case run == nil:
		hc := *image
		return &hc
	case image == nil:
		hc := *run
		return &hc
	}
	hc := *image
	if len(run.Test) > 0 {
		hc.Test = run.Test
	}
	if run.Interval > 0 {
		hc.Interval = run.Interval
	}
	if run.Timeout > 0 {
		hc.Timeout = run.Timeout
	}
	if run.StartPeriod > 0 {
		hc.StartPeriod = run.StartPeriod
	}
	if run.StartInterval > 0 {
		hc.StartInterval = run.StartInterval
	}
	if run.Retries > 0 {
		hc.Retries = run.Retries
	}
	return &hc
}

// checksHealth: the container has a health check to run.
func checksHealth(hc *engine.HealthCheck) bool {
	return hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE"
}

// healthCommand is the process a check runs.
func healthCommand(test []string) []string {
	if test[0] == "CMD-SHELL" {
		return []string{"/bin/sh", "-c", test[1]}
	}
	return test[1:]
}

// checkHealth runs the container's health check until the run ends
// (exited closes): after each interval (the start interval during the
// start period, when given), as an exec in the container, with its
// timeout. Failures in the start period do not count; retries failures
// in a row make it unhealthy, one success healthy.
func (c *ctr) checkHealth(hc engine.HealthCheck, started time.Time, exited <-chan struct{}) {
	interval := cmp.Or(hc.Interval, defaultHealthInterval)
	timeout := cmp.Or(hc.Timeout, defaultHealthTimeout)
	retries := hc.Retries
	if retries <= 0 {
		retries = defaultHealthRetries
	}
	cmd := healthCommand(hc.Test)
	for {
		wait := interval
		if hc.StartInterval > 0 && time.Since(started) < hc.StartPeriod {
			wait = hc.StartInterval
		}
		select {
		case <-exited:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		var out bytes.Buffer
		start := time.Now().UTC()
		code, err := c.rt.Exec(ctx, c.rec.ID, engine.ExecSpec{Cmd: cmd}, engine.AttachOptions{Stdout: &out, Stderr: &out})
		timedOut := ctx.Err() != nil
		cancel()
		select {
		case <-exited:
			return // the run ended under the check: its result means nothing
		default:
		}
		result := engine.HealthResult{Start: start, End: time.Now().UTC(), ExitCode: code}
		switch {
		case timedOut:
			result.ExitCode, result.Output = -1, "Health check exceeded timeout ("+timeout.String()+")"
		case err != nil:
			result.ExitCode, result.Output = 1, err.Error()
		default:
			result.Output = string(bytes.ToValidUTF8(out.Bytes()[:min(out.Len(), healthOutputKept)], nil))
		}
		c.recordHealth(result, retries, time.Since(started) < hc.StartPeriod)
	}
}

// recordHealth keeps a check's result and moves the status on.
func (c *ctr) recordHealth(r engine.HealthResult, retries int, inStartPeriod bool) {
	c.mu.Lock()
	if !c.running || c.rec.State.Health == nil {
		c.mu.Unlock()
		return
	}
	// A new value each time: views of the container hold the old one.
	h := *c.rec.State.Health
	before := h.Status
	h.Log = append(slices.Clone(h.Log), r)
	if len(h.Log) > healthLogKept {
		h.Log = h.Log[len(h.Log)-healthLogKept:]
	}
	switch {
	case r.ExitCode == 0:
		h.Status, h.FailingStreak = "healthy", 0
	case inStartPeriod && h.Status == "starting":
		// Failures while the program starts do not count.
	default:
		h.FailingStreak++
		if h.FailingStreak >= retries {
			h.Status = "unhealthy"
		}
	}
	c.rec.State.Health = &h
	rec := c.rec
	rec.save(c.dir)
	c.mu.Unlock()
	if h.Status != before {
		c.rt.event("health_status: "+h.Status, rec, nil)
	}
}
