// Command berth is Berth's desktop app; until its window exists, it offers
// the subcommands that need no display.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "layers":
			os.Exit(layersCommand(os.Args[2:], os.Stdout, os.Stderr))
		case "lint":
			os.Exit(lintCommand(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	fmt.Fprintln(os.Stderr, "usage:\n  berth layers [--json] [--tar FILE] [--ci --lowest-efficiency N] IMAGE\n  berth lint [--format text|json] FILE...")
	os.Exit(2)
}
