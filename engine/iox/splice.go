package iox

import (
	"io"
	"net"
)

// Splice copies between a and b both ways until both directions end,
// passing each end's EOF on as a half-close, so a peer that stops
// sending still gets its answer. It does not close a or b.
func Splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(b, a); closeWrite(b); done <- struct{}{} }()
	go func() { io.Copy(a, b); closeWrite(a); done <- struct{}{} }()
	<-done
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}
