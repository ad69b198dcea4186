package enginetest

import (
	"bytes"
	"sync"
)

// Buffer collects output written from other goroutines (a container's
// copiers, a terminal's reader, a command's pipes) and reads it whole.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
