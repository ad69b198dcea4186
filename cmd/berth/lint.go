package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerfile"
)

// lintCommand is `berth lint`: the editor's diagnostics for CI, with
// hadolint's flags, configuration file and output formats so it drops
// into pipelines that run hadolint. It returns the exit code: 1 when a
// diagnostic reaches the failure threshold (errors by default), 2 when a
// file or the configuration cannot be read or the flags are wrong.
func lintCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("berth lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var format, threshold, config string
	var ignore []string
	for _, name := range []string{"format", "f"} {
		fs.StringVar(&format, name, "", "output format: "+strings.Join(dockerfile.Formats, ", ")+" (default text, or the configuration's)")
	}
	for _, name := range []string{"failure-threshold", "t"} {
		fs.StringVar(&threshold, name, "", "exit 1 on diagnostics of this severity or worse: error, warning, info, style or none (default error)")
	}
	for _, name := range []string{"config", "c"} {
		fs.StringVar(&config, name, "", "a .hadolint.yaml-style configuration (default: .hadolint.yaml here, then $XDG_CONFIG_HOME/hadolint.yaml)")
	}
	fs.Func("ignore", "a rule (Berth's name or hadolint's code) not to report; repeatable", func(s string) error { ignore = append(ignore, s); return nil })
	noFail := fs.Bool("no-fail", false, "exit 0 whatever is found")
	errorsOnly := fs.Bool("errors-only", false, "print errors only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(why string) int {
		fmt.Fprintln(stderr, "berth lint:", why)
		fmt.Fprintln(stderr, "usage: berth lint [--format FORMAT] [--failure-threshold error|warning|info|style|none] [--config FILE] [--ignore RULE]... [--no-fail] [--errors-only] FILE...")
		return 2
	}
	if fs.NArg() == 0 {
		return usage("no Dockerfile given")
	}
	cfg, err := app.LintConfig(config)
	if err != nil {
		fmt.Fprintln(stderr, "berth lint:", app.Explain(err))
		return 2
	}
	cfg.Ignore(ignore...)
	format = cmp.Or(format, cfg.Format, "text")
	threshold = cmp.Or(threshold, cfg.FailureThreshold, "error")
	if !slices.Contains(dockerfile.Formats, format) {
		return usage(fmt.Sprintf("unknown format %q: use one of %s", format, strings.Join(dockerfile.Formats, ", ")))
	}
	rank := map[string]int{"error": 3, "warning": 2, "info": 1, "style": 1, "none": 4}
	limit, ok := rank[threshold]
	if !ok {
		return usage(fmt.Sprintf("unknown failure threshold %q", threshold))
	}
	code := 0
	var results []dockerfile.FileResult
	for _, path := range fs.Args() {
		res, err := app.LintFile(path, cfg)
		if err != nil {
			fmt.Fprintln(stderr, "berth lint:", app.Explain(err))
			code = 2
			continue
		}
		r := dockerfile.FileResult{File: path}
		for _, d := range res.Diagnostics {
			if *errorsOnly && d.Severity != engine.SeverityError {
				continue
			}
			if rank[string(d.Severity)] >= limit && code == 0 && !*noFail && !cfg.NoFail {
				code = 1
			}
			r.Diagnostics = append(r.Diagnostics, d)
		}
		results = append(results, r)
	}
	if err := dockerfile.WriteReport(stdout, format, results); err != nil {
		fmt.Fprintln(stderr, "berth lint:", err)
		return 2
	}
	return code
}
