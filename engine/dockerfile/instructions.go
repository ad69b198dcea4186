package dockerfile

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// The checks of single instructions other than RUN (run.go).

func (a *analysis) checkCopy(node *parser.Node, from string, srcs []string, dest string, st *stage) {
	start, end := node.StartLine, node.EndLine
	if from != "" && !strings.Contains(from, "$") {
		a.checkCopyFrom(node, from, st)
		return
	}
	if from != "" {
		return
	}
	copiesAll := false
	for i, s := range srcs {
		s = a.unquote(s)
		srcs[i] = s
		if s == "." || s == "./" || s == "./." {
			st.copyAll, copiesAll = start, true
		}
	}
	dest = a.unquote(dest)
	if copiesAll {
		st.copyAllDest = dest
		if start != end || len(srcs) != 1 {
			st.copyAllDest = "" // not the plain one-line COPY . the quick fix rewrites
		}
	}
	if !isAbs(dest) && !strings.HasPrefix(dest, "$") && st.workdir == "" && !st.scratch && st.parent == nil {
		a.addToken("CopyWithoutWorkdir", start, end, dest, fmt.Sprintf("COPY to %s with no WORKDIR set copies into the image's root folder (/): set WORKDIR /app first, or write an absolute destination", dest), nil)
	}
	if pm := a.opts.Ignore; pm != nil {
		for _, s := range srcs {
			if strings.ContainsAny(s, "*?[$") || strings.Contains(s, "://") {
				continue
			}
			rel := strings.TrimPrefix(path.Clean("/"+s), "/")
			if rel == "" {
				continue
			}
			if m, err := pm.MatchesOrParentMatches(rel); err == nil && m {
				a.addToken("CopyIgnoredFile", start, end, s, fmt.Sprintf("Attempting to %s file %q that is excluded by .dockerignore: the builder never receives it", strings.ToUpper(node.Value), s), nil)
			}
		}
	}
}

func (a *analysis) checkCopyFrom(node *parser.Node, from string, st *stage) {
	start, end := node.StartLine, node.EndLine
	stages := a.stages
	if n, err := strconv.Atoi(from); err == nil {
		switch {
		case n == st.index && n < len(stages) && stages[n] == st:
			a.addToken("CopyFromOwnStage", start, end, "--from="+from, fmt.Sprintf("COPY --from=%s is this very stage, which is not built yet: copy from an earlier stage", from), nil)
		case n < 0 || n >= len(stages) || stages[n] == st:
			a.addToken("UnknownStage", start, end, "--from="+from, fmt.Sprintf("COPY --from=%s: there is no earlier stage number %d (stages count from 0; this file has %d before this one)", from, n, max(0, len(stages)-1)), nil)
		}
		return
	}
	if st.name != "" && strings.EqualFold(st.name, from) {
		a.addToken("CopyFromOwnStage", start, end, "--from="+from, fmt.Sprintf("COPY --from=%s names the stage it is in, which is not built yet: copy from an earlier stage", from), nil)
		return
	}
	if a.stageNamed(from) != nil || strings.ContainsAny(from, "/:.@") {
		return
	}
	var names []string
	for _, s := range stages {
		if s.name != "" && s != st {
			names = append(names, s.name)
		}
	}
	known := "this file names no earlier stages"
	if len(names) > 0 {
		known = "stages: " + strings.Join(names, ", ")
	}
	if s := a.suggestVar(from, names); s != "" {
		known = "did you mean " + s + "?"
	}
	a.addToken("UnknownStage", start, end, "--from="+from, fmt.Sprintf("COPY --from=%s: no earlier stage has that name (%s); to copy from an image, write its name with a tag, e.g. --from=%s:latest", from, known, from), nil)
}

var archiveExt = []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz", ".bz2", ".xz"}

func (a *analysis) checkAdd(node *parser.Node, c *instructions.AddCommand) {
	if c.Checksum != "" || c.KeepGitDir != nil && *c.KeepGitDir || len(c.SourcePaths) == 0 {
		return
	}
	for _, s := range c.SourcePaths {
		s = strings.ToLower(a.unquote(s))
		if strings.Contains(s, "://") || strings.HasPrefix(s, "git@") || strings.Contains(s, "$") {
			return
		}
		for _, ext := range archiveExt {
			if strings.HasSuffix(s, ext) {
				return
			}
		}
	}
	a.add("AddInsteadOfCopy", node.StartLine, "ADD of local files: use COPY, which only copies (ADD also unpacks archives and downloads URLs)",
		a.replaceFix("Replace with COPY", node.StartLine, node.StartLine, node.Value, "COPY"))
}

var validProto = []string{"tcp", "udp", "sctp"}

func (a *analysis) checkExpose(node *parser.Node, ports []string) {
	start, end := node.StartLine, node.EndLine
	for _, p := range ports {
		if strings.Contains(p, "$") {
			continue
		}
		port, proto, hasProto := strings.Cut(p, "/")
		if hasProto {
			lp := strings.ToLower(proto)
			if !slices.Contains(validProto, lp) {
				msg := fmt.Sprintf("EXPOSE %s: unknown protocol %q: use tcp, udp or sctp", p, proto)
				if best := a.suggestVar(lp, validProto); best != "" {
					msg = fmt.Sprintf("EXPOSE %s: unknown protocol %q: did you mean %s?", p, proto, best)
				}
				a.addToken("InvalidPort", start, end, p, msg, nil)
				continue
			}
			if proto != lp {
				a.addToken("ExposeProtoCasing", start, end, p, fmt.Sprintf("EXPOSE %s: write the protocol in lowercase, %s/%s", p, port, lp),
					a.replaceFix("Write "+port+"/"+lp, start, end, p, port+"/"+lp))
			}
		}
		if i := strings.LastIndex(port, ":"); i >= 0 {
			container := port[i+1:]
			a.addToken("ExposeInvalidFormat", start, end, p, fmt.Sprintf("EXPOSE %s: EXPOSE takes the container's port only (%s); the host side is chosen at run time with docker run -p %s", p, container, port),
				a.replaceFix("Expose "+container, start, end, port, container))
			port = container
		}
		lo, hi, isRange := strings.Cut(port, "-")
		l, err1 := strconv.Atoi(lo)
		h, err2 := l, error(nil)
		if isRange {
			h, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || l < 1 || h > 65535 || h < l {
			a.addToken("InvalidPort", start, end, p, fmt.Sprintf("EXPOSE %s: not a port: ports are numbers from 1 to 65535, e.g. EXPOSE 8000 or EXPOSE 53/udp", p), nil)
		}
	}
}

type pair struct {
	key, value string
	noDelim    bool
}

func argPairs(c *instructions.ArgCommand) []pair {
	out := make([]pair, len(c.Args))
	for i, kv := range c.Args {
		v := ""
		if kv.Value != nil {
			v = *kv.Value
		}
		out[i] = pair{kv.Key, v, false}
	}
	return out
}

// secretName: names that say they hold a secret; nonSecret: names that
// only sound like one (a key's ID or file, a public key).
var (
	secretName = regexp.MustCompile(`(?i)(?:^|_)(?:apikey|api_key|auth|credentials?|key|pass|passwd|password|pwd|secret|token)(?:_|$)`)
	nonSecret  = regexp.MustCompile(`(?i)(?:^|_)(?:public|pub|file|path|dir|id|url|name|user|username|type|length|size)(?:_|$)`)
	// knownSecrets are the well-known names whose ID is itself a secret
	// half (AWS_ACCESS_KEY_ID with its secret key).
	knownSecrets = regexp.MustCompile(`(?i)^(?:AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|GITHUB_TOKEN|GH_TOKEN|GITLAB_TOKEN|NPM_TOKEN|PYPI_TOKEN|DOCKER_PASSWORD|AZURE_CLIENT_SECRET|GOOGLE_APPLICATION_CREDENTIALS_JSON|SLACK_TOKEN|STRIPE_SECRET_KEY|OPENAI_API_KEY)$`)
	// secretValue: values that are credentials whatever their name.
	secretValue = regexp.MustCompile(`^(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[baprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{20,}|-----BEGIN [A-Z ]*PRIVATE KEY-----)`)
)

func isSecret(key, value string) bool {
	return knownSecrets.MatchString(key) || secretName.MatchString(key) && !nonSecret.MatchString(key) || secretValue.MatchString(value)
}

func (a *analysis) checkKeyValues(node *parser.Node, kw string, pairs []pair) {
	start := node.StartLine
	var lex *shell.Lex
	for _, p := range pairs {
		if p.key == "" || strings.ContainsAny(p.key, " \t\"'") {
			a.add("InvalidKeyValue", start, fmt.Sprintf("%s: %q is not a valid name", kw, p.key), nil)
			continue
		}
		if strings.ContainsAny(p.value, "\"'`\\$") && utf8.ValidString(p.value) && !strings.ContainsRune(p.value, 0) {
			if lex == nil {
				lex = shell.NewLex(a.escapeRune())
			}
			if _, _, err := lex.ProcessWord(p.value, emptyEnv{}); err != nil {
				a.addToken("InvalidKeyValue", start, node.EndLine, p.key, fmt.Sprintf("%s %s: %v", kw, p.key, err), nil)
			}
		}
		if kw != "LABEL" && isSecret(p.key, p.value) {
			where := "history"
			if kw == "ENV" {
				where = "config"
			}
			a.addToken("SecretsUsedInArgOrEnv", start, node.EndLine, p.key, fmt.Sprintf("%s %q looks like a secret: it stays readable in the image (%s); use a build secret (RUN --mount=type=secret) instead", kw, p.key, where), nil)
		}
		if !p.noDelim || kw == "ARG" {
			continue
		}
		if node.StartLine == node.EndLine {
			text := a.line(start)
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			val := p.value
			if strings.ContainsAny(val, " \t") && !strings.HasPrefix(val, `"`) {
				val = strconv.Quote(val)
			}
			a.add("LegacyKeyValueFormat", start, fmt.Sprintf("%s %s %s is the legacy form: write %s %s=%s", kw, p.key, p.value, kw, p.key, val),
				&engine.Fix{Title: "Use KEY=value", Line: start, EndLine: start, Text: indent + node.Value + " " + p.key + "=" + val})
		} else {
			a.add("LegacyKeyValueFormat", start, fmt.Sprintf("%s %s <value> is the legacy form: write %s %s=<value>", kw, p.key, kw, p.key), nil)
		}
	}
}

// checkEnvSelfReference: ENV A=1 B=$A gives B the A from before the line.
func (a *analysis) checkEnvSelfReference(node *parser.Node, pairs []pair) {
	set := map[string]bool{}
	for _, p := range pairs {
		for _, m := range varRef.FindAllStringSubmatch(p.value, -1) {
			if set[m[1]] {
				a.addToken("EnvSelfReference", node.StartLine, node.EndLine, m[0], fmt.Sprintf("ENV %s uses $%s, which this same ENV sets: it gets the value from before this line; set %s in an ENV of its own first", p.key, m[1], m[1]), nil)
			}
		}
		set[p.key] = true
	}
}

var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// isAbs accepts Linux paths and Windows ones (C:\app, \app).
func isAbs(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "\\") {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}

// checkRawArgs looks at the arguments as written: inline comments, exec
// forms with curly quotes or broken JSON, and instructions left without
// arguments.
func (a *analysis) checkRawArgs(node *parser.Node, kw string) {
	raw := a.argsText(node)
	a.checkInlineComment(node, kw, raw)
	switch kw {
	case "run", "cmd", "entrypoint", "shell", "volume", "copy", "add", "healthcheck":
	default:
		return
	}
	if raw == "" {
		if kw == "run" || kw == "cmd" || kw == "entrypoint" {
			a.add("ArgumentCount", node.StartLine, fmt.Sprintf("%s needs a command, e.g. %s [\"python\", \"app.py\"]", strings.ToUpper(kw), strings.ToUpper(kw)), nil)
		}
		return
	}
	if kw == "healthcheck" {
		_, raw, _ = strings.Cut(raw, "CMD")
		raw = strings.TrimSpace(raw)
	}
	if !strings.HasPrefix(raw, "[") {
		return
	}
	if strings.ContainsAny(raw, "“”‘’„«»") {
		fixed := strings.NewReplacer("“", `"`, "”", `"`, "„", `"`, "‘", `"`, "’", `"`, "«", `"`, "»", `"`).Replace(a.line(node.StartLine))
		var fix *engine.Fix
		if node.StartLine == node.EndLine {
			fix = &engine.Fix{Title: "Use straight quotes", Line: node.StartLine, EndLine: node.EndLine, Text: fixed}
		}
		quote := "“"
		for _, q := range []string{"“", "”", "‘", "’", "„", "«", "»"} {
			if strings.Contains(raw, q) {
				quote = q
				break
			}
		}
		a.addToken("TypographicQuotes", node.StartLine, node.EndLine, quote, fmt.Sprintf("%s uses typographic quotes (%s): the exec form needs straight double quotes \", as in [\"python\", \"app.py\"]", strings.ToUpper(kw), quote), fix)
		return
	}
	if node.Attributes["json"] {
		return
	}
	if strings.HasSuffix(strings.TrimSpace(raw), "]") || kw != "run" {
		var probe []string
		err := json.Unmarshal([]byte(raw), &probe)
		why := "it is not valid JSON"
		if err != nil {
			why = jsonProblem(raw, err)
		}
		a.add("InvalidJSON", node.StartLine, fmt.Sprintf("%s looks like the exec form but %s, so Docker would run it as a shell command, brackets and all: write [\"program\", \"arg\"] with double quotes", strings.ToUpper(kw), why), nil)
	}
}

// checkInlineComment finds "#" starting a word after an instruction whose
// arguments are not a shell line (there, the shell reads it as a comment).
func (a *analysis) checkInlineComment(node *parser.Node, kw, raw string) {
	switch kw {
	case "run", "cmd", "entrypoint", "healthcheck", "shell", "onbuild":
		return
	}
	if node.StartLine != node.EndLine || !strings.Contains(raw, "#") {
		return
	}
	var quote rune
	prevSpace := false
	for i, r := range raw {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#' && prevSpace:
			comment := strings.TrimSpace(raw[i:])
			text := a.line(node.StartLine)
			j := strings.LastIndex(text, comment)
			if j < 0 {
				return
			}
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			fix := &engine.Fix{Title: "Move the comment above", Line: node.StartLine, EndLine: node.StartLine,
				Text: indent + comment + "\n" + strings.TrimRight(text[:j], " \t")}
			a.addAt("InlineComment", node.StartLine, j+1, node.StartLine, len(text)+1, fmt.Sprintf("%q is not a comment: after %s, # and the words that follow are arguments; put the comment on its own line above", comment, strings.ToUpper(kw)), fix)
			return
		}
		prevSpace = r == ' ' || r == '\t'
	}
}

func jsonProblem(raw string, err error) string {
	switch {
	case !strings.HasSuffix(strings.TrimSpace(raw), "]"):
		return "the closing ] is missing"
	case strings.Contains(raw, "'") && !strings.Contains(raw, `"`):
		return "uses single quotes (JSON needs double quotes)"
	}
	return "it is not valid JSON (" + err.Error() + ")"
}

// argsText is the instruction's arguments as written, flags removed.
func (a *analysis) argsText(node *parser.Node) string {
	var b strings.Builder
	for ln := node.StartLine; ln <= node.EndLine; ln++ {
		t := a.line(ln)
		if ln == node.StartLine {
			t = strings.TrimLeft(t, " \t")
			if len(t) >= len(node.Value) {
				t = t[len(node.Value):]
			}
		}
		b.WriteString(strings.TrimSuffix(strings.TrimRight(t, " \t"), string(a.escapeRune())))
		b.WriteByte(' ')
	}
	s := strings.TrimSpace(b.String())
	for strings.HasPrefix(s, "--") {
		if i := strings.IndexAny(s, " \t"); i > 0 {
			s = strings.TrimSpace(s[i:])
		} else {
			return ""
		}
	}
	return s
}

func (a *analysis) checkShellForm(node *parser.Node, kw string, c instructions.ShellDependantCmdLine, st *stage) {
	if !c.PrependShell || len(c.CmdLine) == 0 || len(st.shell) > 0 {
		return // a SHELL the author chose is theirs to run commands under
	}
	raw := strings.Join(c.CmdLine, " ")
	if strings.HasPrefix(strings.TrimSpace(raw), "[") {
		return // reported as broken JSON already
	}
	var fix *engine.Fix
	if words, ok := simpleWords(raw); ok && node.StartLine == node.EndLine {
		quoted := make([]string, len(words))
		for i, w := range words {
			b, _ := json.Marshal(w)
			quoted[i] = string(b)
		}
		text := a.line(node.StartLine)
		indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
		fix = &engine.Fix{Title: "Use the exec form", Line: node.StartLine, EndLine: node.EndLine, Text: indent + node.Value + " [" + strings.Join(quoted, ", ") + "]"}
	}
	a.add("JSONArgsRecommended", node.StartLine, fmt.Sprintf("%s in shell form runs under /bin/sh, which does not pass docker stop's signal on: use the exec form, %s [\"program\", \"arg\"]", kw, kw), fix)
}

// simpleWords splits a command line with no shell features into words.
func simpleWords(s string) ([]string, bool) {
	if strings.ContainsAny(s, "|&;<>$`*?(){}[]\\\"'~#=") {
		return nil, false
	}
	w := strings.Fields(s)
	return w, len(w) > 0
}

// checkHealthcheck: a HEALTHCHECK that curls without -f stays healthy
// through HTTP errors.
func (a *analysis) checkHealthcheck(node *parser.Node, c *instructions.HealthCheckCommand, s *script) {
	if c.Health == nil || len(c.Health.Test) < 2 {
		return
	}
	var cmds []command
	switch c.Health.Test[0] {
	case "CMD-SHELL":
		if s == nil || s.err != nil {
			return
		}
		cmds = s.cmds
		a.checkDashes(node, cmds)
	case "CMD":
		cmds = []command{{words: c.Health.Test[1:]}}
	}
	for _, cmd := range cmds {
		if name, args, _ := cmd.program(); name == "curl" && !has(args, "-f", "--fail", "--fail-with-body") {
			a.addToken("HealthcheckWithoutFail", node.StartLine, node.EndLine, "curl", "curl without -f exits 0 on HTTP errors, so this check passes while the app answers 500: write curl -f", a.replaceFix("Add -f", node.StartLine, node.EndLine, "curl ", "curl -f "))
		}
	}
}
