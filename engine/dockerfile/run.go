package dockerfile

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// command is one simple command of a RUN's shell line, and whether its
// output is piped into the next one.
type command struct {
	words   []string
	pipedTo bool
}

// splitCommands splits a shell line at &&, ||, ;, | and newlines into
// simple commands, well enough to recognise package managers; quoting is
// respected, but not shell syntax in general.
func splitCommands(line string) []command {
	var out []command
	var cur strings.Builder
	var quote byte
	flush := func(piped bool) {
		if w := strings.Fields(cur.String()); len(w) > 0 {
			out = append(out, command{words: w, pipedTo: piped})
		}
		cur.Reset()
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
			continue
		case c == '\'' || c == '"':
			quote = c
			continue
		case c == '&' && i+1 < len(line) && line[i+1] == '&', c == '|' && i+1 < len(line) && line[i+1] == '|':
			flush(false)
			i++
			continue
		case c == '|':
			flush(true)
			continue
		case c == ';' || c == '\n' || c == '(' || c == ')':
			flush(false)
			continue
		}
		cur.WriteByte(c)
	}
	flush(false)
	return out
}

// program is the command's program name, past env assignments and sudo.
func (c command) program() (name string, args []string, sudo bool) {
	w := c.words
	for len(w) > 0 && (strings.Contains(w[0], "=") && !strings.HasPrefix(w[0], "-") || w[0] == "sudo" || w[0] == "env" || w[0] == "exec" || w[0] == "time" || w[0] == "nohup") {
		if w[0] == "sudo" {
			sudo = true
		}
		w = w[1:]
	}
	if len(w) == 0 {
		return "", nil, sudo
	}
	name = w[0]
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name, w[1:], sudo
}

func has(args []string, flags ...string) bool {
	for _, a := range args {
		for _, f := range flags {
			if a == f || strings.HasPrefix(f, "--") && strings.HasPrefix(a, f+"=") {
				return true
			}
			// combined short flags: -qy
			if len(f) == 2 && f[0] == '-' && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], f[1]) >= 0 {
				return true
			}
		}
	}
	return false
}

func subcommand(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// installsDeps says whether a command installs an app's dependencies from
// a manifest copied beside it.
func installsDeps(name string, args []string) bool {
	sub := subcommand(args)
	switch name {
	case "pip", "pip3":
		return sub == "install" && has(args, "-r", "--requirement") || sub == "install" && has(args, ".", "-e")
	case "npm":
		return sub == "install" || sub == "ci" || sub == "i"
	case "yarn", "pnpm":
		return sub == "" || sub == "install"
	case "go":
		return sub == "mod" || sub == "get"
	case "bundle", "composer", "poetry", "pipenv", "uv":
		return sub == "install" || sub == "sync"
	case "mvn", "gradle", "./gradlew", "gradlew":
		return true
	case "cargo":
		return sub == "fetch" || sub == "build"
	}
	return false
}

func (a *analysis) checkRun(node *parser.Node, c *instructions.RunCommand, st *stageInfo) {
	start, end := node.StartLine, node.EndLine
	line := strings.Join(c.CmdLine, " ")
	for _, f := range c.Files {
		line += "\n" + f.Data
	}
	if !c.PrependShell && len(c.CmdLine) > 0 {
		line = strings.Join(c.CmdLine, " ")
	}
	cmds := splitCommands(line)
	var aptUpdate, aptInstall, aptListsCleaned bool
	var installLine string
	for i, cmd := range cmds {
		name, args, sudo := cmd.program()
		if sudo {
			a.addToken("Sudo", start, end, "sudo", "Do not use sudo in RUN: the build runs as the current USER (root unless changed); use USER root around the commands that need it", nil)
		}
		switch name {
		case "apt-get", "apt":
			switch subcommand(args) {
			case "update":
				aptUpdate = true
			case "install":
				aptInstall = true
				installLine = name
				if !has(args, "-y", "--yes", "--assume-yes", "-qq", "-q=2") {
					a.addToken("AptGetYes", start, end, name+" install", fmt.Sprintf("%s install without -y: the build cannot answer its prompt; write %s install -y", name, name), nil)
				}
				if !has(args, "--no-install-recommends") {
					a.addToken("AptNoInstallRecommends", start, end, name+" install", "Add --no-install-recommends to install only what you asked for", nil)
				}
				if unpinned(args) {
					a.addToken("PinAptVersions", start, end, name+" install", "Pin package versions (apt-get install pkg=1.2-3) for repeatable builds", nil)
				}
			case "upgrade", "dist-upgrade", "full-upgrade":
				a.addToken("AptGetUpgrade", start, end, name+" "+subcommand(args), fmt.Sprintf("%s %s in a build installs whatever is newest today: use a newer base image instead", name, subcommand(args)), nil)
			}
		case "rm":
			for _, arg := range args {
				if strings.HasPrefix(arg, "/var/lib/apt/lists") {
					aptListsCleaned = true
				}
			}
		case "apk":
			if subcommand(args) == "add" && !has(args, "--no-cache") {
				a.addToken("ApkNoCache", start, end, "apk add", "apk add without --no-cache leaves the package index in the layer: write apk add --no-cache", nil)
			}
		case "pip", "pip3":
			if subcommand(args) == "install" && !has(args, "--no-cache-dir") && !st.pipEnv {
				a.addToken("PipNoCacheDir", start, end, name+" install", fmt.Sprintf("%s install without --no-cache-dir keeps pip's download cache in the layer", name), nil)
			}
		case "python", "python3":
			if len(args) >= 3 && args[0] == "-m" && (args[1] == "pip") && args[2] == "install" && !has(args, "--no-cache-dir") && !st.pipEnv {
				a.addToken("PipNoCacheDir", start, end, "pip install", "pip install without --no-cache-dir keeps pip's download cache in the layer", nil)
			}
		case "cd":
			if i+1 < len(cmds) || len(cmds) == 1 {
				a.addToken("CdInRun", start, end, "cd ", "cd only lasts until the end of this RUN: use WORKDIR to change directory", nil)
			}
		case "npm":
			if sub := subcommand(args); (sub == "install" || sub == "i") && len(args) == 1 {
				a.addToken("NpmCi", start, end, "npm ", "Use npm ci to install exactly what package-lock.json says", nil)
			}
		case "curl", "wget":
			if name == "curl" {
				st.usesCurl = start
			} else {
				st.usesWget = start
			}
			if cmd.pipedTo && i+1 < len(cmds) {
				if next, _, _ := cmds[i+1].program(); next == "sh" || next == "bash" || next == "zsh" || next == "ash" {
					a.addToken("CurlPipeShell", start, end, name, fmt.Sprintf("%s ... | %s runs whatever the server sends: download, check a checksum, then run", name, next), nil)
				}
			}
		}
		if st.copyAll > 0 && installsDeps(name, args) {
			a.add("CopyAllBeforeInstall", st.copyAll, fmt.Sprintf("COPY of the whole context before the dependency install on line %d: any code change reinstalls everything; copy the dependency files first, install, then COPY . .", start), nil)
			st.copyAll = 0
		}
	}
	if aptUpdate && !aptInstall {
		a.add("AptGetUpdateAlone", start, "apt-get update alone in a RUN goes stale in the build cache: run it in the same RUN as apt-get install", nil)
	}
	if (aptUpdate || aptInstall) && aptInstall && !aptListsCleaned {
		a.addToken("AptListsCleanup", start, end, installLine+" install", "The apt package lists stay in this layer: end the RUN with && rm -rf /var/lib/apt/lists/*", nil)
	}
}

// unpinned says whether an apt-get install names a package without =version.
func unpinned(args []string) bool {
	seenInstall := false
	for _, a := range args {
		if !seenInstall {
			seenInstall = a == "install"
			continue
		}
		if strings.HasPrefix(a, "-") || strings.ContainsAny(a, "$\\") {
			continue
		}
		if !strings.Contains(a, "=") && !strings.HasSuffix(a, ".deb") {
			return true
		}
	}
	return false
}
