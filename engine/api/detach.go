package api

import (
	"fmt"
	"io"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// DefaultDetachKeys are dockerd's: Ctrl-P then Ctrl-Q.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// detachKeys reads a detach sequence as dockerd writes it: keys separated
// by commas, each a character or ctrl-<key> (ctrl-a…ctrl-z, ctrl-@,
// ctrl-[, ctrl-\, ctrl-], ctrl-^, ctrl-_).
func detachKeys(spec string) ([]byte, error) {
	var out []byte
	for _, k := range strings.Split(spec, ",") {
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case len(k) == 6 && strings.HasPrefix(strings.ToLower(k), "ctrl-"):
			c := strings.ToLower(k)[5]
			switch {
			case c >= 'a' && c <= 'z':
				out = append(out, c-'a'+1)
			case strings.IndexByte("@[\\]^_", c) >= 0:
				out = append(out, c-'@')
			default:
				return nil, fmt.Errorf("invalid detach keys %q: unknown key %q: %w", spec, k, engine.ErrInvalidArgument)
			}
		default:
			return nil, fmt.Errorf("invalid detach keys %q: write keys like ctrl-p,ctrl-q: %w", spec, engine.ErrInvalidArgument)
		}
	}
	return out, nil
}

// detachReader passes a client's input on until it types the detach keys;
// then it calls detach and its input ends with engine.ErrDetached. Keys
// that only began the sequence are passed on when it breaks.
type detachReader struct {
	r       io.Reader
	keys    []byte
	detach  func()
	matched int    // how many of keys were read last
	queue   []byte // input ready to pass on
	done    bool
}

func (d *detachReader) Read(p []byte) (int, error) {
	for len(d.queue) == 0 {
		if d.done {
			return 0, engine.ErrDetached
		}
		buf := make([]byte, len(p))
		n, err := d.r.Read(buf)
		for _, b := range buf[:n] {
			if b == d.keys[d.matched] {
				if d.matched++; d.matched == len(d.keys) {
					d.done = true
					d.detach()
					break
				}
				continue
			}
			d.queue = append(d.queue, d.keys[:d.matched]...) // a false start
			d.matched = 0
			if b == d.keys[0] {
				d.matched = 1
				continue
			}
			d.queue = append(d.queue, b)
		}
		if err != nil && len(d.queue) == 0 && !d.done {
			return 0, err
		}
	}
	n := copy(p, d.queue)
	d.queue = d.queue[n:]
	return n, nil
}
