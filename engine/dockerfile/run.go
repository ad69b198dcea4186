package dockerfile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// The checks of RUN: its shell line (parsed by shell.go) command by
// command, package managers above all.

// has says whether args hold one of flags (--flag=value and combined
// short flags such as -qy count).
func has(args []string, flags ...string) bool {
	for _, a := range args {
		for _, f := range flags {
			if a == f || strings.HasPrefix(f, "--") && strings.HasPrefix(a, f+"=") {
				return true
			}
			if len(f) == 2 && f[0] == '-' && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], f[1]) >= 0 {
				return true
			}
		}
	}
	return false
}

// count is how many times a short flag is given (-q -q, -qq).
func count(args []string, short byte) int {
	n := 0
	for _, a := range args {
		if len(a) >= 2 && a[0] == '-' && a[1] != '-' {
			n += strings.Count(a[1:], string(short))
		}
	}
	return n
}

// packageManager describes one package manager's command line: which
// options take a value, what answers its prompt, how its cache is
// cleaned, and how a version is pinned.
type packageManager struct {
	install []string // subcommands that install
	// valueFlags take the next word as their value (-t bookworm-backports).
	valueFlags []string
	yes        func(args []string) bool
	yesRule    string
	// cleanup recognises the command that empties the cache in the same RUN.
	cleanup     func(name string, args []string) bool
	cleanupRule string
	cleanCmd    string   // what empties the cache
	cacheDirs   []string // a cache mount at one of these keeps the cache out of the layer
	pinned      func(pkg string) bool
	pinRule     string
	pinExample  string
}

var managers = map[string]*packageManager{
	"apt-get": {install: []string{"install"}, valueFlags: []string{"-t", "--target-release", "-o", "--option", "-c", "--config-file"},
		yes: func(args []string) bool {
			return has(args, "-y", "--yes", "--assume-yes", "-q=2", "--quiet=2") || count(args, 'q') >= 2
		}, yesRule: "AptGetYes",
		pinned: func(p string) bool { return strings.Contains(p, "=") || strings.HasSuffix(p, ".deb") }, pinRule: "PinAptVersions", pinExample: "pkg=1.2-3"},
	"apk": {install: []string{"add"}, valueFlags: []string{"-X", "--repository", "-t", "--virtual", "-p", "--root", "--arch"},
		pinned: func(p string) bool { return strings.ContainsAny(p, "=<>~") }, pinRule: "PinApkVersions", pinExample: "pkg=1.2.3-r0",
		cacheDirs: []string{"/var/cache/apk", "/etc/apk/cache"}},
	"yum": {install: []string{"install", "groupinstall", "localinstall"}, valueFlags: []string{"-c", "--config", "--enablerepo", "--disablerepo", "--installroot", "--releasever"},
		yes: func(args []string) bool { return has(args, "-y", "--assumeyes") }, yesRule: "YumYes",
		cleanup: func(name string, args []string) bool {
			return name == "yum" && subcommand(args, nil) == "clean" || name == "rm" && slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "/var/cache/yum") })
		}, cleanupRule: "YumCleanup", cacheDirs: []string{"/var/cache/yum"},
		pinned: rpmPinned, pinRule: "PinYumVersions", pinExample: "pkg-1.2.3"},
	"dnf": {install: []string{"install", "groupinstall"}, valueFlags: []string{"-c", "--config", "--enablerepo", "--disablerepo", "--installroot", "--releasever", "--setopt"},
		yes: func(args []string) bool { return has(args, "-y", "--assumeyes") }, yesRule: "DnfYes",
		cleanup: func(name string, args []string) bool {
			return (name == "dnf" || name == "microdnf") && subcommand(args, nil) == "clean" || name == "rm" && slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "/var/cache/dnf") })
		}, cleanupRule: "DnfCleanup", cacheDirs: []string{"/var/cache/dnf"},
		pinned: rpmPinned, pinRule: "PinDnfVersions", pinExample: "pkg-1.2.3"},
	"zypper": {install: []string{"install", "in"}, valueFlags: []string{"-r", "--repo", "--from", "-t", "--type"},
		yes: func(args []string) bool {
			return has(args, "-n", "--non-interactive", "-y", "--no-confirm")
		}, yesRule: "ZypperYes",
		cleanup: func(name string, args []string) bool {
			sub := subcommand(args, nil)
			return name == "zypper" && (sub == "clean" || sub == "cc") || name == "rm" && slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "/var/cache/zypp") })
		}, cleanupRule: "ZypperCleanup", cacheDirs: []string{"/var/cache/zypp"},
		pinned: func(p string) bool { return strings.ContainsAny(p, "=<>") }, pinRule: "PinZypperVersions", pinExample: "pkg=1.2.3"},
	"pip": {install: []string{"install"}, valueFlags: []string{"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--platform", "--python-version", "--trusted-host", "--cache-dir", "--src", "-e", "--editable"},
		pinned: func(p string) bool {
			return strings.ContainsAny(p, "=<>~@/") || strings.HasSuffix(p, ".whl") || strings.HasSuffix(p, ".tar.gz") || p == "."
		},
		pinRule: "PinPipVersions", pinExample: "flask==3.0.3",
		cacheDirs: []string{"/root/.cache/pip", "/root/.cache"}},
	"npm": {install: []string{"install", "i", "add"}, valueFlags: []string{"--prefix", "--registry", "--cache", "-w", "--workspace"},
		pinned: func(p string) bool {
			return strings.Contains(strings.TrimPrefix(p, "@"), "@") || strings.ContainsAny(p, "/:") || p == "."
		},
		pinRule: "PinNpmVersions", pinExample: "express@4.19.2"},
	"gem": {install: []string{"install"}, valueFlags: []string{"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "-s", "--source"},
		pinned:  func(p string) bool { return strings.Contains(p, ":") },
		pinRule: "PinGemVersions", pinExample: "rails:7.1.3"},
}

func init() {
	managers["apt"] = managers["apt-get"]
	managers["aptitude"] = managers["apt-get"]
	managers["microdnf"] = managers["dnf"]
	managers["pip3"], managers["pip2"] = managers["pip"], managers["pip"]
}

// cleanCommand is what empties a package manager's cache.
func cleanCommand(manager string) string {
	if manager == "zypper" {
		return "zypper clean"
	}
	return manager + " clean all"
}

// rpmPinned: name-version (httpd-2.4.57) or a local .rpm.
func rpmPinned(p string) bool {
	if strings.HasSuffix(p, ".rpm") || strings.ContainsAny(p, "<>=") {
		return true
	}
	i := strings.LastIndex(p, "-")
	return i > 0 && i+1 < len(p) && p[i+1] >= '0' && p[i+1] <= '9'
}

// subcommand is the first word that is not an option or an option's value.
func subcommand(args, valueFlags []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a
		}
		if slices.Contains(valueFlags, a) {
			i++
		}
	}
	return ""
}

// operands are the words after the subcommand that are not options or
// their values: the packages.
func operands(args, valueFlags []string) []string {
	var out []string
	seenSub := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-"):
			if slices.Contains(valueFlags, a) {
				i++
			}
		case !seenSub:
			seenSub = true
		default:
			out = append(out, a)
		}
	}
	return out
}

// installsDeps says whether a command installs an app's dependencies from
// a manifest copied beside it.
func installsDeps(name string, args []string) bool {
	sub := subcommand(args, nil)
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

// dependencyFiles are the files an install reads its dependencies from,
// as the usual COPY before it names them; nil when they cannot be known
// (pip install ., a Gradle build).
func dependencyFiles(name string, args []string) []string {
	switch name {
	case "pip", "pip3":
		var files []string
		for i, a := range args {
			switch {
			case (a == "-r" || a == "--requirement") && i+1 < len(args):
				files = append(files, args[i+1])
			case strings.HasPrefix(a, "--requirement="):
				files = append(files, strings.TrimPrefix(a, "--requirement="))
			}
		}
		return files
	case "npm":
		return []string{"package*.json"}
	case "yarn":
		return []string{"package.json", "yarn.lock*"}
	case "pnpm":
		return []string{"package.json", "pnpm-lock.yaml*"}
	case "go":
		return []string{"go.mod", "go.sum*"}
	case "bundle":
		return []string{"Gemfile", "Gemfile.lock*"}
	case "composer":
		return []string{"composer.json", "composer.lock*"}
	case "poetry":
		return []string{"pyproject.toml", "poetry.lock*"}
	case "pipenv":
		return []string{"Pipfile", "Pipfile.lock*"}
	case "uv":
		return []string{"pyproject.toml", "uv.lock*"}
	case "mvn":
		return []string{"pom.xml"}
	case "cargo":
		return []string{"Cargo.toml", "Cargo.lock*"}
	}
	return nil
}

// reorderFix rewrites a COPY . before a dependency install the cached
// way: the dependency files first, the install, then everything else, so
// a code change no longer reruns the install.
func (a *analysis) reorderFix(st *stage, installEnd int, files []string) *engine.Fix {
	copyLine := st.copyAll
	if len(files) == 0 || st.copyAllDest == "" || strings.HasPrefix(st.copyAllDest, "$") {
		return nil
	}
	original := a.line(copyLine)
	indent := original[:len(original)-len(strings.TrimLeft(original, " \t"))]
	dir := st.copyAllDest
	if !strings.HasSuffix(dir, "/") {
		dir += "/" // several files go into a folder
	}
	out := []string{indent + "COPY " + strings.Join(files, " ") + " " + dir}
	for n := copyLine + 1; n <= installEnd; n++ {
		out = append(out, a.line(n))
	}
	out = append(out, original)
	return &engine.Fix{Title: "Copy the dependency files first", Line: copyLine, EndLine: installEnd, Text: strings.Join(out, "\n")}
}

// runState is what one RUN's commands add up to.
type runState struct {
	aptUpdate, aptInstall, aptCleaned bool
	installName                       string
	cleaned                           map[string]bool // cleanup rules satisfied
	installed                         map[string]string
}

func (a *analysis) checkRun(node *parser.Node, c *instructions.RunCommand, s *script, st *stage) {
	start, end := node.StartLine, node.EndLine
	if s == nil || !st.posixShell() || a.escapeRune() == '`' {
		return // the exec form, or a shell these checks do not read
	}
	if s.err != nil {
		a.add("ShellSyntax", start, fmt.Sprintf("The shell cannot parse this RUN: %s", s.err.Text), nil)
		return
	}
	cacheMounts := map[string]bool{}
	for _, m := range instructions.GetMounts(c) {
		if m.Type == instructions.MountTypeCache || m.Type == instructions.MountTypeTmpfs {
			cacheMounts[strings.TrimSuffix(m.Target, "/")] = true
		}
	}
	mounted := func(dirs ...string) bool {
		return slices.ContainsFunc(dirs, func(d string) bool { return cacheMounts[d] })
	}
	a.checkDashes(node, s.cmds)
	rs := runState{cleaned: map[string]bool{}, installed: map[string]string{}}
	for i, cmd := range s.cmds {
		name, args, sudo := cmd.program()
		if (name == "python" || name == "python3") && len(args) >= 2 && args[0] == "-m" && args[1] == "pip" {
			name, args = "pip", args[2:] // python -m pip install is pip install
		}
		if sudo {
			a.addToken("Sudo", start, end, "sudo", "Do not use sudo in RUN: the build runs as the current USER (root unless changed); use USER root around the commands that need it", nil)
		}
		if pm := managers[name]; pm != nil {
			a.checkPackageManager(node, name, args, pm, st, s, cmd, &rs, mounted)
		}
		for _, pm := range managers {
			if pm.cleanup != nil && pm.cleanup(name, args) {
				rs.cleaned[pm.cleanupRule] = true
			}
		}
		switch name {
		case "rm":
			if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "/var/lib/apt/lists") }) {
				rs.aptCleaned = true
			}
		case "cd":
			if i+1 < len(s.cmds) || len(s.cmds) == 1 {
				a.addToken("CdInRun", start, end, "cd ", "cd only lasts until the end of this RUN: use WORKDIR to change directory", nil)
			}
		case "source":
			if st.shellName() == "sh" {
				a.addToken("SourceInSh", start, end, "source", "source is not a /bin/sh command (dash, Debian's and Ubuntu's sh, fails with \"source: not found\"): write . instead",
					a.replaceFix("Use .", start, end, "source ", ". "))
			}
		case "curl", "wget":
			if name == "curl" {
				st.usesCurl = start
			} else {
				st.usesWget = start
			}
			if cmd.pipedTo && i+1 < len(s.cmds) {
				if next, _, _ := s.cmds[i+1].program(); next == "sh" || next == "bash" || next == "zsh" || next == "ash" {
					a.addToken("CurlPipeShell", start, end, name, fmt.Sprintf("%s ... | %s runs whatever the server sends: download, check a checksum, then run", name, next), nil)
				}
			}
		}
		if st.copyAll > 0 && installsDeps(name, args) {
			a.add("CopyAllBeforeInstall", st.copyAll, fmt.Sprintf("COPY of the whole context before the dependency install on line %d: any code change reinstalls everything; copy the dependency files first, install, then COPY . .", start),
				a.reorderFix(st, end, dependencyFiles(name, args)))
			st.copyAll = 0
		}
	}
	if rs.aptUpdate && !rs.aptInstall {
		a.add("AptGetUpdateAlone", start, "apt-get update alone in a RUN goes stale in the build cache: run it in the same RUN as apt-get install", nil)
	}
	if rs.aptInstall && !rs.aptCleaned && !mounted("/var/lib/apt/lists", "/var/lib/apt") {
		a.addToken("AptListsCleanup", start, end, rs.installName+" install", "The apt package lists stay in this layer: end the RUN with && rm -rf /var/lib/apt/lists/*", nil)
	}
	for _, rule := range slices.Sorted(maps.Keys(rs.installed)) {
		if !rs.cleaned[rule] {
			pm := managers[rs.installed[rule]]
			if !mounted(pm.cacheDirs...) {
				a.addToken(rule, start, end, rs.installed[rule]+" ", fmt.Sprintf("%s install leaves its cache in this layer: end the RUN with && %s", rs.installed[rule], cleanCommand(rs.installed[rule])), nil)
			}
		}
	}
	if s.pipeBeforePipefail && !st.pipefail() {
		a.addToken("ShellPipefail", start, end, "|", "A pipe's status is its last command's, so a failure before the | goes unnoticed: start with set -o pipefail && (bash, ash) or set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]", nil)
	}
	a.undefinedShellVars(node, s, st)
}

func (a *analysis) checkPackageManager(node *parser.Node, name string, args []string, pm *packageManager, st *stage, s *script, cmd command, rs *runState, mounted func(...string) bool) {
	start, end := node.StartLine, node.EndLine
	args = plainDashes(args) // —no-cache-dir is reported as such, not as a missing option
	sub := subcommand(args, pm.valueFlags)
	if name == "apt" {
		a.addToken("UseAptGet", start, end, "apt ", "apt is meant for a person at a terminal and warns that its interface may change: use apt-get in a Dockerfile",
			a.replaceFix("Use apt-get", start, end, "apt ", "apt-get "))
	}
	if name == "apt-get" || name == "apt" || name == "aptitude" {
		switch sub {
		case "update":
			rs.aptUpdate = true
		case "upgrade", "dist-upgrade", "full-upgrade", "safe-upgrade":
			a.addToken("AptGetUpgrade", start, end, name+" "+sub, fmt.Sprintf("%s %s in a build installs whatever is newest today: use a newer base image instead", name, sub), nil)
		}
	}
	if !slices.Contains(pm.install, sub) {
		return
	}
	token := name + " " + sub
	if ln, _ := a.find(start, end, token); ln == 0 {
		token = name
	}
	if pm.yes != nil && !pm.yes(args) {
		yes := "-y"
		if name == "zypper" {
			yes = "-n"
		}
		a.addToken(pm.yesRule, start, end, token, fmt.Sprintf("%s %s without %s: the build cannot answer its prompt; write %s %s %s", name, sub, yes, name, sub, yes),
			a.replaceFix("Add "+yes, start, end, name+" "+sub+" ", name+" "+sub+" "+yes+" "))
	}
	switch name {
	case "apt-get", "apt", "aptitude":
		rs.aptInstall, rs.installName = true, name
		if !has(args, "--no-install-recommends") && !strings.Contains(strings.Join(args, " "), "Install-Recommends") {
			a.addToken("AptNoInstallRecommends", start, end, token, "Add --no-install-recommends to install only what you asked for", nil)
		}
	case "apk":
		if !has(args, "--no-cache") && !mounted(pm.cacheDirs...) {
			a.addToken("ApkNoCache", start, end, token, "apk add without --no-cache leaves the package index in the layer: write apk add --no-cache",
				a.replaceFix("Add --no-cache", start, end, "apk add ", "apk add --no-cache "))
		}
	case "pip", "pip3", "pip2":
		if !has(args, "--no-cache-dir") && !cmd.setsEnv("PIP_NO_CACHE_DIR") && !s.sets["PIP_NO_CACHE_DIR"] && !st.env["PIP_NO_CACHE_DIR"] && !mounted(pm.cacheDirs...) {
			a.addToken("PipNoCacheDir", start, end, token, fmt.Sprintf("%s install without --no-cache-dir keeps pip's download cache in the layer", name),
				a.replaceFix("Add --no-cache-dir", start, end, token+" ", token+" --no-cache-dir "))
		}
	case "npm":
		if len(operands(args, pm.valueFlags)) == 0 && sub != "add" {
			a.addToken("NpmCi", start, end, "npm ", "Use npm ci to install exactly what package-lock.json says", nil)
		}
	case "yum", "dnf", "microdnf", "zypper":
		rs.installed[pm.cleanupRule] = name
	}
	if pm.pinned != nil {
		for _, p := range operands(args, pm.valueFlags) {
			if strings.ContainsAny(p, "$\\") || pm.pinned(p) || name == "gem" && has(args, "-v", "--version") {
				continue
			}
			a.addToken(pm.pinRule, start, end, token, fmt.Sprintf("Pin package versions (%s %s %s) for repeatable builds", name, sub, pm.pinExample), nil)
			break
		}
	}
}

// plainDashes reads options typed with a long dash as the options meant.
func plainDashes(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		for _, dash := range []string{"—", "–"} {
			if p, ok := strings.CutPrefix(a, dash); ok {
				out[i] = "--" + p
			}
		}
	}
	return out
}

// checkDashes finds options typed with a long dash (—no-cache-dir).
func (a *analysis) checkDashes(node *parser.Node, cmds []command) {
	for _, cmd := range cmds {
		for _, w := range cmd.words {
			for _, dash := range []string{"—", "–"} {
				if strings.HasPrefix(w, dash) && len(w) > len(dash) {
					opt := "--" + strings.TrimPrefix(w, dash)
					if dash == "–" && len(strings.TrimPrefix(w, dash)) == 1 {
						opt = "-" + strings.TrimPrefix(w, dash)
					}
					a.addToken("TypographicDash", node.StartLine, node.EndLine, w, fmt.Sprintf("%q starts with a typographic dash (%s), so the program takes it for a word, not an option: write %s", w, dash, opt),
						a.replaceFix("Write "+opt, node.StartLine, node.EndLine, w, opt))
				}
			}
		}
	}
}

// undefinedShellVars reports the likely typos among the variables a RUN
// reads: the shell gets the stage's ENV and ARGs, the base image's ENV
// and what the script sets itself, so only near misses of known names are
// reported.
func (a *analysis) undefinedShellVars(node *parser.Node, s *script, st *stage) {
	for _, name := range s.uses {
		if s.sets[name] || st.known(name) || predefinedArgs[name] || len(name) < 4 {
			continue
		}
		if sug := a.suggestVar(name, st.names()); sug != "" && sug != name {
			a.addToken("UndefinedVar", node.StartLine, node.EndLine, a.varToken(node.StartLine, node.EndLine, name), fmt.Sprintf("Usage of undefined variable '$%s' (did you mean $%s?)", name, sug), nil)
		}
	}
}
