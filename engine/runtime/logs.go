package runtime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
)

// jsonLogLine is one line of docker's json-file log format.
type jsonLogLine struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// logFile appends a container's output to its json-file log and hands
// every entry to live followers. One entry per line, as docker writes.
type logFile struct {
	mu        sync.Mutex
	f         *os.File
	path      string
	followers map[chan engine.LogEntry]struct{}
}

func openLog(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &logFile{f: f, path: path, followers: map[chan engine.LogEntry]struct{}{}}, nil
}

func (l *logFile) write(stream string, data []byte) {
	now := time.Now().UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		enc, _ := json.Marshal(jsonLogLine{Log: string(line), Stream: stream, Time: now})
		l.f.Write(append(enc, '\n'))
		entry := engine.LogEntry{Stream: stream, Time: now, Data: append([]byte(nil), line...)}
		for ch := range l.followers {
			select {
			case ch <- entry:
			default: // a follower too slow to keep up loses lines, not the container
			}
		}
	}
}

// endFollowers closes every follower's channel: the run is over.
func (l *logFile) endFollowers() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.followers {
		close(ch)
		delete(l.followers, ch)
	}
}

func (l *logFile) close() error {
	l.endFollowers()
	return l.f.Close()
}

// readLog sends the entries of a json-file log that pass opts to fn. When
// follow is given (the container is running), it then registers a live
// follower under the same lock, so no line is lost or repeated in between,
// and returns its channel.
func readLog(path string, opts engine.LogOptions, live *logFile, fn func(engine.LogEntry) error) (chan engine.LogEntry, error) {
	if live != nil {
		live.mu.Lock()
		defer live.mu.Unlock()
	}
	var entries []engine.LogEntry
	f, err := os.Open(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if f != nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var l jsonLogLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue // a line cut by a crash
			}
			e := engine.LogEntry{Stream: l.Stream, Time: l.Time, Data: []byte(l.Log)}
			if wanted(opts, e) {
				entries = append(entries, e)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read log: %w", err)
		}
	}
	if opts.Tail >= 0 && len(entries) > opts.Tail {
		entries = entries[len(entries)-opts.Tail:]
	}
	for _, e := range entries {
		if err := fn(e); err != nil {
			return nil, err
		}
	}
	if live == nil || !opts.Follow {
		return nil, nil
	}
	ch := make(chan engine.LogEntry, 1024)
	live.followers[ch] = struct{}{}
	return ch, nil
}

func (l *logFile) unfollow(ch chan engine.LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.followers[ch]; ok {
		delete(l.followers, ch)
		close(ch)
	}
}

func wanted(opts engine.LogOptions, e engine.LogEntry) bool {
	if e.Stream == "stdout" && !opts.Stdout || e.Stream == "stderr" && !opts.Stderr {
		return false
	}
	if !opts.Since.IsZero() && e.Time.Before(opts.Since) {
		return false
	}
	if !opts.Until.IsZero() && e.Time.After(opts.Until) {
		return false
	}
	return true
}

// attachment is one client attached to a container's streams.
type attachment struct {
	stdout, stderr io.Writer
	done           chan struct{} // closed when the run it watches ends
	once           sync.Once
}

func (a *attachment) end() { a.once.Do(func() { close(a.done) }) }

// streams fans a run's output out to the log and to attached clients.
type streams struct {
	mu       sync.Mutex
	attached map[*attachment]struct{}
	log      *logFile
}

func (s *streams) add(a *attachment) {
	s.mu.Lock()
	s.attached[a] = struct{}{}
	s.mu.Unlock()
}

func (s *streams) remove(a *attachment) {
	s.mu.Lock()
	delete(s.attached, a)
	s.mu.Unlock()
}

// copyFrom pumps one of the process's streams until it closes.
func (s *streams) copyFrom(stream string, r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			data := buf[:n]
			s.mu.Lock()
			if s.log != nil {
				s.log.write(stream, data)
			}
			for a := range s.attached {
				w := a.stdout
				if stream == "stderr" {
					w = a.stderr
				}
				if w != nil {
					if _, err := w.Write(data); err != nil {
						delete(s.attached, a)
						a.end()
					}
				}
			}
			s.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (s *streams) setLog(l *logFile) {
	s.mu.Lock()
	s.log = l
	s.mu.Unlock()
}

// endRun releases every attached client: the process's output is over.
func (s *streams) endRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range s.attached {
		a.end()
		delete(s.attached, a)
	}
}
