package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/berth-dev/berth/app"
)

// chosen is the engine the global flags choose (berth --context NAME …,
// berth --engine ADDRESS …), over the settings' own choice.
var chosen struct{ engine, context string }

// globalFlags takes the global flags off the front of args.
func globalFlags(args []string) ([]string, error) {
	for len(args) > 0 {
		flag, value, hasValue := strings.Cut(args[0], "=")
		if flag != "--engine" && flag != "--context" && flag != "-c" {
			return args, nil
		}
		args = args[1:]
		if !hasValue {
			if len(args) == 0 {
				return nil, fmt.Errorf("%s needs a value", flag)
			}
			value, args = args[0], args[1:]
		}
		if flag == "--engine" {
			chosen.engine, chosen.context = value, ""
		} else {
			chosen.context, chosen.engine = value, ""
		}
	}
	return args, nil
}

// loadSettings are the settings with the global flags' choice of engine:
// the one place every subcommand gets them.
func loadSettings() (app.Settings, []string, error) {
	s, warnings, err := app.LoadSettings(app.ConfigPath())
	switch {
	case chosen.engine != "":
		s.Engine, s.Context = chosen.engine, ""
	case chosen.context != "":
		s.Context, s.Engine = chosen.context, ""
	}
	return s, warnings, err
}

// contextCommand is `berth context ls | use NAME`: the engines Berth
// knows by name (the docker CLI's contexts and Berth's own), and which
// the app and berth's commands use.
func contextCommand(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && (args[0] == "ls" || args[0] == "list"):
		s, _, _ := loadSettings()
		list, err := app.Contexts()
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDESCRIPTION\tENGINE")
		for _, c := range list {
			name := c.Name
			if c.Name == s.Context || s.Context == "" && s.Engine == "" && c.Own() {
				name += " *"
			}
			desc := c.Description
			if c.DockerCurrent {
				desc = strings.TrimSpace(desc + " (the docker CLI's current)")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", name, desc, c.Host)
		}
		tw.Flush()
		if err != nil {
			fmt.Fprintln(stderr, "berth context ls:", err)
			return 1
		}
		return 0
	case len(args) == 2 && args[0] == "use":
		if _, err := app.FindContext(args[1]); err != nil {
			fmt.Fprintln(stderr, "berth context use:", err)
			return 1
		}
		s, _, err := app.LoadSettings(app.ConfigPath())
		if err != nil {
			fmt.Fprintln(stderr, "berth context use:", app.Explain(err))
			return 1
		}
		s.Context, s.Engine = args[1], ""
		if err := app.SaveSettings(app.ConfigPath(), s); err != nil {
			fmt.Fprintln(stderr, "berth context use:", err)
			return 1
		}
		fmt.Fprintf(stdout, "Berth now uses the engine context %q (the app, and berth's commands)\n", args[1])
		return 0
	}
	fmt.Fprintln(stderr, "usage: berth context ls | use NAME")
	return 2
}
