package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
)

// lintCommand is `berth lint`: the editor's diagnostics for CI, like
// hadolint. It returns the exit code: 1 when a diagnostic reaches the
// failure threshold (errors by default), 2 when a file cannot be read or
// the flags are wrong.
func lintCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("berth lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text or json")
	threshold := fs.String("failure-threshold", "error", "exit 1 on diagnostics of this severity or worse: error, warning or info")
	quiet := fs.Bool("errors-only", false, "print errors only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rank := map[engine.Severity]int{engine.SeverityError: 3, engine.SeverityWarning: 2, engine.SeverityInfo: 1}
	limit, ok := rank[engine.Severity(*threshold)]
	if fs.NArg() == 0 || !ok || *format != "text" && *format != "json" {
		fmt.Fprintln(stderr, "usage: berth lint [--format text|json] [--failure-threshold error|warning|info] [--errors-only] FILE...")
		return 2
	}
	type jsonDiag struct {
		File string `json:"file"`
		engine.Diagnostic
	}
	all := []jsonDiag{}
	code := 0
	for _, path := range fs.Args() {
		res, err := app.LintFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "berth lint:", app.Explain(err))
			code = 2
			continue
		}
		for _, d := range res.Diagnostics {
			if *quiet && d.Severity != engine.SeverityError {
				continue
			}
			if rank[d.Severity] >= limit && code == 0 {
				code = 1
			}
			if *format == "json" {
				all = append(all, jsonDiag{path, d})
				continue
			}
			fmt.Fprintf(stdout, "%s:%d:%d %s %s %s\n", path, d.Line, d.Column, d.Severity, d.Rule, d.Message)
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(all)
	}
	return code
}
