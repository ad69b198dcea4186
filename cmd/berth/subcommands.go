package main

import (
	"fmt"
	"os"
)

// version is set by the package build (-ldflags -X main.version=…).
var version = "0.1.0-dev"

const usage = `usage:
  berth [--context NAME | --engine ADDRESS] [COMMAND]
  berth                      open the app
  berth --version            print the version
  berth lint [--format text|json] [--failure-threshold error|warning|info] FILE...
  berth layers [--json] [--tar FILE] [--ci --lowest-efficiency N] IMAGE
  berth watch [-f Dockerfile] -t NAME [--run -p HOST:CONTAINER ...] DIR
  berth engine start [--docker-context] | stop | status   Berth's engine without the app (Linux: rootless for an ordinary user)
  berth context ls | use NAME                            the engines by name: the docker CLI's contexts and Berth's own
  berth vm start [--keep-running] | stop | status      Berth's VM without the app (macOS, Windows)`

// subcommand runs a terminal command and returns its exit code.
func subcommand(name string, args []string) int {
	switch name {
	case "layers":
		return layersCommand(args, os.Stdout, os.Stderr)
	case "lint":
		return lintCommand(args, os.Stdout, os.Stderr)
	case "watch":
		return watchCommand(args, os.Stdout, os.Stderr)
	case "engine":
		return engineCommand(args, os.Stdout, os.Stderr)
	case "context":
		return contextCommand(args, os.Stdout, os.Stderr)
	case "vm":
		return vmCommand(args, os.Stdout, os.Stderr)
	case "--version", "version":
		fmt.Println("Berth", version)
		return 0
	case "-h", "--help", "help":
		fmt.Println(usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "berth: unknown command %q\n%s\n", name, usage)
	return 2
}
