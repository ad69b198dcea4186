package api

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync"
)

// muxWriter frames one stream of docker's multiplexed format: an 8-byte
// header (stream, 0, 0, 0, big-endian length) before each chunk.
type muxWriter struct {
	mu     *sync.Mutex // shared by stdout and stderr: frames never interleave
	w      io.Writer
	stream byte
}

func (m *muxWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var hdr [8]byte
	hdr[0] = m.stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	if _, err := m.w.Write(hdr[:]); err != nil {
		return 0, err
	}
	return m.w.Write(p)
}

// streamWriters returns where a container's stdout and stderr go: raw for
// a TTY (there is only one stream), multiplexed otherwise.
func streamWriters(w io.Writer, tty bool) (stdout, stderr io.Writer) {
	if tty {
		return w, w
	}
	mu := &sync.Mutex{}
	return &muxWriter{mu: mu, w: w, stream: 1}, &muxWriter{mu: mu, w: w, stream: 2}
}

// gate holds writes back until opened: a client registered for output
// before the 101 response is written must not see output before it.
type gate struct {
	w    io.Writer
	open chan struct{}
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	return g.w.Write(p)
}

// hijack takes over the connection for a raw stream, as docker's attach,
// exec start and (for old clients) logs do.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}

// writeUpgrade answers the client's "Upgrade: tcp" with 101, or 200 for a
// client that did not ask for an upgrade.
func writeUpgrade(rw *bufio.ReadWriter, r *http.Request, tty bool) error {
	ct := "application/vnd.docker.multiplexed-stream"
	if tty {
		ct = "application/vnd.docker.raw-stream"
	}
	status := "HTTP/1.1 200 OK\r\n"
	if r.Header.Get("Upgrade") != "" {
		status = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
	}
	if _, err := rw.WriteString(status + "Content-Type: " + ct + "\r\n\r\n"); err != nil {
		return err
	}
	return rw.Flush()
}

// closeWriter half-closes a hijacked connection so the client sees EOF.
func closeWriter(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	c.Close()
}
