package app

import (
	"sync"

	"github.com/berth-dev/berth/engine"
)

// LayerProgress is one layer of a pull or push.
type LayerProgress struct {
	ID             string
	Status         string // "Waiting", "Downloading", "Extracting", "Done", "Already exists"
	Current, Total int64
}

// Fraction is how far along the layer is, 0 to 1.
func (l LayerProgress) Fraction() float64 {
	switch l.Status {
	case "Done", "Already exists":
		return 1
	}
	if l.Total <= 0 {
		return 0
	}
	f := float64(l.Current) / float64(l.Total)
	if l.Status == "Extracting" {
		return 0.5 + f/2 // download is the first half, unpacking the second
	}
	return f / 2
}

// Transfer collects a pull's or push's progress for a dialog with one bar
// per layer and a total. Report is safe from the engine's goroutines.
type Transfer struct {
	mu       sync.Mutex
	layers   map[string]*LayerProgress
	order    []string
	message  string
	done     bool
	err      error
	onChange func()
}

// NewTransfer makes a progress collector; onChange (may be nil) runs after
// every update, on the reporting goroutine.
func NewTransfer(onChange func()) *Transfer {
	return &Transfer{layers: map[string]*LayerProgress{}, onChange: onChange}
}

// Report takes one engine progress event.
func (t *Transfer) Report(p engine.Progress) {
	t.mu.Lock()
	if p.ID == "" || p.Status == engine.ProgressResolving || p.Status == engine.ProgressDone {
		// Not a layer: "Pulling from library/busybox", "Digest: …".
		if p.Message != "" {
			t.message = p.Message
		}
	} else {
		l, ok := t.layers[p.ID]
		if !ok {
			l = &LayerProgress{ID: p.ID}
			t.layers[p.ID] = l
			t.order = append(t.order, p.ID)
		}
		switch p.Status {
		case engine.ProgressWaiting:
			l.Status = "Waiting"
		case engine.ProgressDownloading, engine.ProgressPushing:
			l.Status = "Downloading"
			if p.Status == engine.ProgressPushing {
				l.Status = "Pushing"
			}
		case engine.ProgressExtracting:
			l.Status = "Extracting"
		case engine.ProgressPullComplete:
			l.Status = "Done"
		case engine.ProgressAlreadyExists:
			l.Status = "Already exists"
		}
		if p.Total > 0 {
			l.Total = p.Total
		}
		if p.Current > 0 {
			l.Current = p.Current
		}
	}
	cb := t.onChange
	t.mu.Unlock()
	if cb != nil {
		cb()
	}
}

func (t *Transfer) finish(err error) {
	t.mu.Lock()
	t.done, t.err = true, err
	if err == nil {
		for _, l := range t.layers {
			l.Status = "Done"
		}
	}
	cb := t.onChange
	t.mu.Unlock()
	if cb != nil {
		cb()
	}
}

// Snapshot is the state to draw: layers in the order they appeared, the
// total fraction (0 to 1), the last message, and whether it ended.
func (t *Transfer) Snapshot() (layers []LayerProgress, total float64, message string, done bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := append([]string(nil), t.order...)
	for _, id := range ids {
		l := *t.layers[id]
		layers = append(layers, l)
		total += l.Fraction()
	}
	if len(layers) > 0 {
		total /= float64(len(layers))
	}
	if t.done && t.err == nil {
		total = 1
	}
	return layers, total, t.message, t.done, t.err
}
