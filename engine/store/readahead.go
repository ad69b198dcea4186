package store

import (
	"io"
	"sync"
)

// readahead reads r on its own goroutine, a few chunks ahead of the
// consumer, so decompressing and hashing a layer run on one core while
// creating its files runs on another.
type readahead struct {
	chunks chan []byte
	cur    []byte // unread part of whole
	whole  []byte // the chunk being read, returned to free when done
	err    error
	free   sync.Pool
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the reading goroutine ends
	once   sync.Once
}

const (
	readaheadChunk = 1 << 20
	readaheadDepth = 8
)

func newReadahead(r io.Reader) *readahead {
	ra := &readahead{chunks: make(chan []byte, readaheadDepth), done: make(chan struct{}), exited: make(chan struct{})}
	ra.free.New = func() any { return make([]byte, readaheadChunk) }
	go func() {
		defer close(ra.exited)
		defer close(ra.chunks)
		for {
			buf := ra.free.Get().([]byte)[:readaheadChunk]
			n, err := io.ReadFull(r, buf)
			if n > 0 {
				select {
				case ra.chunks <- buf[:n]:
				case <-ra.done:
					return
				}
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				ra.err = err // read by the consumer after chunks closes
				return
			}
		}
	}()
	return ra
}

func (ra *readahead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.whole != nil {
			ra.free.Put(ra.whole[:cap(ra.whole)])
			ra.whole = nil
		}
		chunk, ok := <-ra.chunks
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.whole = chunk, chunk
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits for it to end, so the
// caller may then close the underlying reader. A goroutine blocked in the
// underlying Read is not interrupted here: its source must be made to
// return first (see growth.abort). The underlying reader is not closed.
func (ra *readahead) Close() {
	ra.once.Do(func() { close(ra.done) })
	<-ra.exited
}
