package vm

import (
	"fmt"
	"net"
	"strings"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// DefaultSocket is where the helper serves the engine: a named pipe
// (docker's own is docker_engine).
func DefaultSocket(string) string { return `\\.\pipe\berth_engine` }

// SocketAddress is the engine address (DOCKER_HOST form) of a pipe:
// npipe:////./pipe/berth_engine.
func SocketAddress(pipe string) string { return "npipe://" + strings.ReplaceAll(pipe, `\`, "/") }

// listenEngine serves the pipe; its security descriptor grants access to
// the user who runs the helper and no one else, so only they can drive
// the engine.
func listenEngine(pipe string) (net.Listener, error) {
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("engine pipe: who am I: %w", err)
	}
	sddl := "D:P(A;;GA;;;" + user.User.Sid.String() + ")"
	return winio.ListenPipe(pipe, &winio.PipeConfig{SecurityDescriptor: sddl})
}

func removeSocket(string) {}
