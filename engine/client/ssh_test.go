package client

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
)

func TestParseSSH(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want SSHTarget
		bad  string // in the error, when the address is refused
	}{
		{addr: "ssh://me@big.example", want: SSHTarget{User: "me", Host: "big.example"}},
		{addr: "ssh://big.example:2222", want: SSHTarget{Host: "big.example", Port: "2222"}},
		{addr: "ssh://me@[::1]:22/run/user/1000/berth/berth.sock", want: SSHTarget{User: "me", Host: "::1", Port: "22", Socket: "/run/user/1000/berth/berth.sock"}},
		{addr: "ssh://me@host/", want: SSHTarget{User: "me", Host: "host"}},
		{addr: "ssh://me:secret@host", bad: "password"},
		{addr: "ssh://-oProxyCommand=touch%20x", bad: "host"},
		{addr: "ssh://-oProxyCommand=x@host", bad: "user name"},
		{addr: "ssh://me@host/tmp/$(reboot)", bad: "socket path"},
		{addr: "ssh://me@host/a b", bad: "socket path"},
		{addr: "ssh://me@host?x=1", bad: "query"},
		{addr: "ssh://", bad: "host"},
		{addr: "tcp://host:2375", bad: "not an ssh"},
	} {
		got, err := ParseSSH(tc.addr)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) || !errors.Is(err, engine.ErrInvalidArgument) {
				t.Errorf("ParseSSH(%q) = %+v, %v; want an error about the %s", tc.addr, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSSH(%q) = %+v, %v; want %+v", tc.addr, got, err, tc.want)
		}
	}
}

// ssh runs in batch mode (no prompt the app could not show), the host
// after "--", and the socket, when named, given to the remote docker CLI.
func TestSSHArguments(t *testing.T) {
	tg := SSHTarget{User: "me", Host: "big", Port: "2222", Socket: "/run/berth.sock"}
	want := []string{"-o", "ConnectTimeout=30", "-o", "BatchMode=yes", "-T", "-l", "me", "-p", "2222", "--", "big", "docker", "--host=unix:///run/berth.sock", "system", "dial-stdio"}
	if got := tg.args(tg.dialStdio()...); !reflect.DeepEqual(got, want) {
		t.Errorf("args:\n got %q\nwant %q", got, want)
	}
	if got := (SSHTarget{Host: "big"}).dialStdio(); !reflect.DeepEqual(got, []string{"docker", "system", "dial-stdio"}) {
		t.Errorf("dialStdio without a socket: %q", got)
	}
}

// What ssh says on stderr becomes what the person should do.
func TestSSHErrorsSayWhatToDo(t *testing.T) {
	tg := SSHTarget{User: "me", Host: "big", Port: "2222"}
	for _, tc := range []struct {
		code    int
		stderr  string
		carried bool
		want    string
	}{
		{255, "No ED25519 host key is known for [big]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n", false, "accept it by logging in once in a terminal: ssh -p 2222 me@big"},
		{255, "me@big: Permission denied (publickey).\r\n", false, "refused the SSH login"},
		{255, "ssh: Could not resolve hostname big: Name or service not known\r\n", false, "could not be looked up"},
		{255, "ssh: connect to host big port 2222: Connection refused\r\n", false, "is sshd running there"},
		{127, "bash: line 1: docker: command not found\n", false, "has no docker command"},
		{1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n", false, "cannot reach an engine there"},
		{255, "Connection to big closed by remote host.\r\n", true, "the SSH connection to me@big:2222 dropped"},
		{255, "", true, "dropped"},
		{3, "something else\n", false, "ended with code 3"},
	} {
		err := explainSSH(tg, tc.code, tc.stderr, tc.carried)
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, engine.ErrEngineUnreachable) {
			t.Errorf("ssh exit %d %q: %v\nwant it to say %q", tc.code, tc.stderr, err, tc.want)
		}
	}
}

func TestSSHNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := SSHTarget{Host: "big"}.Dial(context.Background())
	if err == nil || !strings.Contains(err.Error(), "install OpenSSH's client") {
		t.Errorf("Dial without ssh: %v", err)
	}
}
