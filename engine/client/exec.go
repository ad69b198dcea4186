package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/berth-dev/berth/engine"
)

// Terminal is a process running in a container on a terminal, as docker
// exec -it makes one: read what it prints, write what is typed. Close
// hangs up its terminal.
type Terminal struct {
	io.ReadWriteCloser
	c  *Client
	id string
}

// ExecTerminal runs spec.Cmd in the container name on a terminal (of
// spec's console size, when given), its input and output on the returned
// stream; ctx bounds the whole session.
func (c *Client) ExecTerminal(ctx context.Context, name string, spec engine.ExecSpec) (*Terminal, error) {
	create := map[string]any{"AttachStdin": true, "AttachStdout": true, "AttachStderr": true, "Tty": true,
		"Cmd": spec.Cmd, "Env": spec.Env, "User": spec.User, "WorkingDir": spec.WorkingDir}
	if spec.ConsoleHeight > 0 && spec.ConsoleWidth > 0 {
		create["ConsoleSize"] = []uint{spec.ConsoleHeight, spec.ConsoleWidth}
	}
	body, err := json.Marshal(create)
	if err != nil {
		return nil, err
	}
	resp, err := c.doJSON(ctx, http.MethodPost, "/containers/"+url.PathEscape(name)+"/exec", nil, body)
	if err != nil {
		return nil, fmt.Errorf("open a terminal in %s: %w", name, err)
	}
	var created struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || created.ID == "" {
		return nil, fmt.Errorf("open a terminal in %s: the engine gave no exec ID: %v", name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/exec/"+created.ID+"/start", bytes.NewReader([]byte(`{"Detach":false,"Tty":true}`)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	resp, err = c.send(req)
	if err != nil {
		return nil, fmt.Errorf("open a terminal in %s: %w", name, err)
	}
	stream, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
		resp.Body.Close()
		return nil, fmt.Errorf("open a terminal in %s: the engine did not hand over the stream (HTTP %d): %w", name, resp.StatusCode, errors.ErrUnsupported)
	}
	return &Terminal{ReadWriteCloser: stream, c: c, id: created.ID}, nil
}

// Resize tells the process its terminal is now height rows by width
// columns.
func (t *Terminal) Resize(ctx context.Context, height, width uint) error {
	q := url.Values{"h": {strconv.FormatUint(uint64(height), 10)}, "w": {strconv.FormatUint(uint64(width), 10)}}
	resp, err := t.c.do(ctx, http.MethodPost, "/exec/"+t.id+"/resize", q, nil)
	if err != nil {
		return fmt.Errorf("resize the terminal: %w", err)
	}
	resp.Body.Close()
	return nil
}

// ExitCode is the process's exit code, once it has ended.
func (t *Terminal) ExitCode(ctx context.Context) (code int, ended bool, err error) {
	var st struct {
		Running  bool
		ExitCode *int
	}
	if err := t.c.getJSON(ctx, "/exec/"+t.id+"/json", nil, &st); err != nil {
		return 0, false, err
	}
	if st.Running || st.ExitCode == nil {
		return 0, false, nil
	}
	return *st.ExitCode, true, nil
}
