package dockerfile

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/buildkit/util/suggest"
)

// stage is what the checks know about a build stage so far, including what
// it inherits when it is built FROM an earlier stage.
type stage struct {
	name  string
	index int
	line  int
	// parent is the earlier stage this one is built FROM, if any.
	parent *stage
	// scratch: the stage starts empty. external: it starts from an image
	// whose settings (ENV, WORKDIR, USER) the checks do not know.
	scratch, external bool

	env     map[string]bool // ENV names set (inherited too)
	args    map[string]bool // ARG names declared in this stage
	shell   []string        // SHELL, when one was set
	workdir string          // the WORKDIR set in the file, if any
	// absWorkdir: an absolute WORKDIR was set, which relative ones follow.
	absWorkdir bool
	user       string
	// userLine is where USER was set (0: never).
	userLine int
	exposes  bool

	cmds, eps, hcs     []int  // lines of CMD, ENTRYPOINT, HEALTHCHECK
	copyAll            int    // line of a COPY . . not yet followed by an install
	copyAllDest        string // its destination
	usesWget, usesCurl int
	layers             int
}

func (st *stage) setEnv(name string) { st.env[name] = true }

// shellName is the stage's shell program: "sh" by default.
func (st *stage) shellName() string {
	if len(st.shell) == 0 {
		return "sh"
	}
	name := st.shell[0]
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return strings.TrimSuffix(strings.ToLower(name), ".exe")
}

// posixShell says whether the stage's shell reads POSIX shell syntax.
func (st *stage) posixShell() bool {
	switch st.shellName() {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox":
		return true
	}
	return false
}

func (st *stage) pipefail() bool {
	return slices.Contains(st.shell, "pipefail") || slices.ContainsFunc(st.shell, func(s string) bool { return strings.Contains(s, "pipefail") })
}

func (a *analysis) newStage(st *stage) {
	a.stages = append(a.stages, st)
	a.cur = st
}

// predefinedArgs are the ARGs every build defines.
var predefinedArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true, "FTP_PROXY": true, "ftp_proxy": true,
	"NO_PROXY": true, "no_proxy": true, "ALL_PROXY": true, "all_proxy": true,
	"TARGETPLATFORM": true, "TARGETOS": true, "TARGETARCH": true, "TARGETVARIANT": true,
	"BUILDPLATFORM": true, "BUILDOS": true, "BUILDARCH": true, "BUILDVARIANT": true,
}

func (a *analysis) checkFrom(node *parser.Node, c *instructions.Stage) {
	start := node.StartLine
	st := &stage{name: c.Name, index: len(a.stages), line: start, env: map[string]bool{}, args: map[string]bool{}}
	if c.Name != "" {
		for _, prev := range a.stages {
			if strings.EqualFold(prev.name, c.Name) {
				a.addToken("DuplicateStageName", start, start, c.Name, fmt.Sprintf("Stage name %q is already used on line %d: COPY --from and --target take the first", c.Name, prev.line), nil)
			}
		}
		if lc := strings.ToLower(c.Name); lc == "scratch" || lc == "context" {
			a.addToken("ReservedStageName", start, start, c.Name, fmt.Sprintf("Stage name %q is reserved", c.Name), nil)
		}
	}
	if p := c.Platform; p != "" {
		switch {
		case p == "$TARGETPLATFORM" || p == "${TARGETPLATFORM}":
			a.addToken("RedundantTargetPlatform", start, start, p, fmt.Sprintf("FROM --platform=%s is the default: leave the flag out", p), nil)
		case !strings.Contains(p, "$") && !platformInName(p, c.Name):
			a.addToken("FromPlatformFlagConstDisallowed", start, start, p, fmt.Sprintf("FROM --platform=%s builds this stage for %s only, whatever the build asks for: use $BUILDPLATFORM or leave it out", p, p), nil)
		}
	}
	base := c.BaseName
	if strings.Contains(base, "$") {
		a.checkFromArgs(node, base)
		if expanded, ok := a.expandMeta(base); ok {
			base = expanded
		}
	}
	switch {
	case strings.Contains(base, "$"):
		st.external = true
	case strings.EqualFold(base, "scratch"):
		st.scratch = true
	default:
		if parent := a.stageNamed(base); parent != nil {
			st.parent = parent
			st.scratch, st.external = parent.scratch, parent.external
			st.env = maps.Clone(parent.env)
			st.shell, st.workdir, st.absWorkdir, st.user, st.exposes = parent.shell, parent.workdir, parent.absWorkdir, parent.user, parent.exposes
			if st.user != "" {
				st.userLine = -1
			}
			break
		}
		st.external = true
		a.checkImageName(node, c.BaseName, base)
	}
	a.newStage(st)
}

// platformInName: FROM --platform=linux/amd64 AS build-amd64 is a stage
// meant for that platform, which BuildKit lets be.
func platformInName(platform, name string) bool {
	_, arch, _ := strings.Cut(platform, "/")
	arch, _, _ = strings.Cut(arch, "/")
	return name != "" && arch != "" && strings.Contains(strings.ToLower(name), strings.ToLower(arch))
}

func (a *analysis) stageNamed(name string) *stage {
	for _, s := range a.stages {
		if s.name != "" && strings.EqualFold(s.name, name) {
			return s
		}
	}
	return nil
}

// defaulted finds ${NAME:-word} and its kin: a variable with a fallback.
var defaulted = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):?[-=?]`)

// checkFromArgs: every variable FROM uses comes from an ARG before the
// first FROM with a value (or a fallback written in place).
func (a *analysis) checkFromArgs(node *parser.Node, base string) {
	start := node.StartLine
	res, ok := a.expand(base, emptyEnv{})
	if !ok {
		return
	}
	fallback := map[string]bool{}
	for _, m := range defaulted.FindAllStringSubmatch(base, -1) {
		fallback[m[1]] = true
	}
	for _, name := range slices.Sorted(maps.Keys(res.Unmatched)) {
		if fallback[name] || a.metaArgs[name] || predefinedArgs[name] {
			continue
		}
		msg := fmt.Sprintf("FROM uses $%s, which no ARG before the first FROM gives a default", name)
		if _, declared := a.metaArgs[name]; !declared {
			msg = fmt.Sprintf("FROM uses $%s, which no ARG before the first FROM declares", name)
			if s := a.suggestVar(name, slices.Sorted(maps.Keys(a.metaArgs))); s != "" {
				msg += fmt.Sprintf(" (did you mean $%s?)", s)
			}
		}
		a.addToken("UndefinedArgInFrom", start, start, a.varToken(start, start, name), msg, nil)
	}
}

// expandMeta expands FROM's variables with the defaults of the ARGs
// before the first FROM, when it can.
func (a *analysis) expandMeta(word string) (string, bool) {
	res, ok := a.expand(word, metaEnv(a.metaValues))
	if !ok || len(res.Unmatched) > 0 {
		return "", false
	}
	return res.Result, true
}

type metaEnv map[string]string

func (e metaEnv) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e metaEnv) Keys() []string              { return slices.Sorted(maps.Keys(e)) }

// A reference's repository path, as the distribution spec has it.
var (
	pathComponent = `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
	validRepo     = regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?` + pathComponent + `(?:/` + pathComponent + `)*$`)
	validTag      = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

// checkImageName: Docker refuses names that are not references, upper
// case letters above all (FROM Python:3.9).
func (a *analysis) checkImageName(node *parser.Node, written, name string) {
	start := node.StartLine
	repo, digest, _ := strings.Cut(name, "@")
	tag := ""
	if i := strings.LastIndex(repo, ":"); i >= 0 && !strings.Contains(repo[i:], "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	host, path := "", repo
	if i := strings.Index(repo, "/"); i >= 0 && strings.ContainsAny(repo[:i], ".:") || strings.HasPrefix(repo, "localhost/") {
		host, path = repo[:strings.Index(repo, "/")+1], repo[strings.Index(repo, "/")+1:]
	}
	switch {
	case path != strings.ToLower(path) && validRepo.MatchString(host+strings.ToLower(path)):
		fixed := host + strings.ToLower(path)
		if tag != "" {
			fixed += ":" + tag
		}
		if digest != "" {
			fixed += "@" + digest
		}
		a.addToken("InvalidImageName", start, start, written, fmt.Sprintf("%q: image names are lowercase (Docker refuses this one): write %s", written, fixed),
			a.replaceFix("Write "+fixed, start, start, written, fixed))
		return
	case !validRepo.MatchString(repo) || tag != "" && !validTag.MatchString(tag) || strings.Contains(name, "@") && !strings.Contains(digest, ":"):
		a.addToken("InvalidImageName", start, start, written, fmt.Sprintf("%q is not an image name: names look like python:3.12-slim or ghcr.io/me/app:1.0", written), nil)
		return
	}
	switch {
	case digest != "":
	case tag == "":
		a.addToken("UntaggedBaseImage", start, start, written, fmt.Sprintf("FROM %s has no tag, so it means %s:latest: pin a version, e.g. %s:<version>", written, repo, repo), nil)
	case tag == "latest":
		a.addToken("LatestBaseImage", start, start, written, fmt.Sprintf("FROM %s: the latest tag moves; pin a version", written), nil)
	}
}

// unquote is a word as the builder reads it: quotes and escapes removed,
// variables left as written.
func (a *analysis) unquote(word string) string {
	if !strings.ContainsAny(word, "\"'\\`") {
		return word
	}
	res, ok := a.expand(word, keepVars{})
	if !ok {
		return word
	}
	return res.Result
}

// expand runs BuildKit's word expansion over word; false when the word
// cannot be expanded (text/scanner, under the lexer, prints its own
// complaints about NUL and broken UTF-8 to stderr: such words are left
// alone).
func (a *analysis) expand(word string, env shell.EnvGetter) (shell.ProcessWordResult, bool) {
	if !utf8.ValidString(word) || strings.ContainsRune(word, 0) {
		return shell.ProcessWordResult{}, false
	}
	res, err := shell.NewLex(a.escapeRune()).ProcessWordWithMatches(word, env)
	return res, err == nil
}

// keepVars expands $NAME to itself.
type keepVars struct{}

func (keepVars) Get(k string) (string, bool) { return "$" + k, true }
func (keepVars) Keys() []string              { return nil }

type emptyEnv struct{}

func (emptyEnv) Get(string) (string, bool) { return "", false }
func (emptyEnv) Keys() []string            { return nil }

// alwaysSet are variables every Linux image has, or the runtime sets.
var alwaysSet = map[string]bool{"PATH": true, "HOME": true, "HOSTNAME": true}

// commonEnv are variables base images often set; near misses of them are
// likely typos.
var commonEnv = []string{"PATH", "HOME", "HOSTNAME", "LANG", "LC_ALL", "TERM", "USER", "PWD", "SHELL"}

// known says whether name has a value in the stage for the builder's
// expansion (ADD, COPY, ENV, WORKDIR …).
func (st *stage) known(name string) bool {
	return st.env[name] || st.args[name] || alwaysSet[name]
}

func (a *analysis) suggestVar(name string, options []string) string {
	if len(name) < 3 {
		return ""
	}
	s, _ := suggest.Search(name, options, true)
	return s
}

func (st *stage) names() []string {
	names := slices.Collect(maps.Keys(st.env))
	names = append(names, slices.Collect(maps.Keys(st.args))...)
	names = append(names, commonEnv...)
	slices.Sort(names)
	return names
}

// undefinedVars reports variables the builder expands in this instruction
// that have no value (BuildKit's UndefinedVar). A stage built from an
// image the checks do not know may get variables from that image's ENV,
// so there only likely typos of known names are reported.
func (a *analysis) undefinedVars(node *parser.Node, st *stage) {
	raw := a.argsText(node)
	if !strings.Contains(raw, "$") {
		return
	}
	res, ok := a.expand(raw, stageEnv{st})
	if !ok {
		return
	}
	fallback := map[string]bool{}
	for _, m := range defaulted.FindAllStringSubmatch(raw, -1) {
		fallback[m[1]] = true
	}
	for _, name := range slices.Sorted(maps.Keys(res.Unmatched)) {
		if fallback[name] {
			continue
		}
		s := a.suggestVar(name, st.names())
		if st.external && s == "" {
			continue
		}
		msg := fmt.Sprintf("Usage of undefined variable '$%s'", name)
		if predefinedArgs[name] {
			msg += fmt.Sprintf(": declare it in this stage with ARG %s to use it", name)
		} else if s != "" {
			msg += fmt.Sprintf(" (did you mean $%s?)", s)
		}
		a.addToken("UndefinedVar", node.StartLine, node.EndLine, a.varToken(node.StartLine, node.EndLine, name), msg, nil)
	}
}

// stageEnv answers the lexer with the stage's known variables.
type stageEnv struct{ st *stage }

func (e stageEnv) Get(k string) (string, bool) { return "", e.st.known(k) }
func (e stageEnv) Keys() []string              { return nil }
