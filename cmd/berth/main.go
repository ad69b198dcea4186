// Command berth is Berth's desktop app; until its window exists, it offers
// the subcommands that need no display.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "layers" {
		os.Exit(layersCommand(os.Args[2:], os.Stdout, os.Stderr))
	}
	fmt.Fprintln(os.Stderr, "usage: berth layers [--json] [--tar FILE] [--ci --lowest-efficiency N] IMAGE")
	os.Exit(2)
}
