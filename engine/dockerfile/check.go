package dockerfile

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/agext/levenshtein"
	"github.com/berth-dev/berth/engine"
	bkcommand "github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/util/suggest"
)

// analysis is one run of the checks over a parsed file.
type analysis struct {
	lines  []string
	opts   Options
	escape rune
	shell  *shellParser
	// parsed instructions: this run's, and the previous run's to reuse.
	parsed, prevParsed map[string]*instr

	diags []diag
	steps []Step
	// seen: one diagnostic per rule and position is enough.
	seen map[string]bool

	// From the file's directives and comments.
	lintConfig   *linter.Config // # check=…
	experimental string         // what the linter is told, part of the parse cache key
	globalIgnore map[string]bool
	// suppressed: rules (nil: all but InlineComment) not reported on
	// some lines, from comments above an instruction.
	suppressed []suppression

	stages []*stage
	cur    *stage
	// metaArgs are the ARGs before the first FROM: true when they have a
	// value, which metaValues holds.
	metaArgs   map[string]bool
	metaValues map[string]string
	prevRun    *parser.Node
}

// diag is a diagnostic and the stage it was found in.
type diag struct {
	engine.Diagnostic
	stage *stage
}

type suppression struct {
	start, end int
	rules      map[string]bool // nil: every rule
	hadolint   bool            // from "# hadolint ignore="
}

func (a *analysis) line(n int) string {
	if n < 1 || n > len(a.lines) {
		return ""
	}
	return a.lines[n-1]
}

// add reports rule on a whole line (its text without leading blanks).
func (a *analysis) add(rule string, ln int, msg string, fix *engine.Fix) {
	text := a.line(ln)
	col := len(text) - len(strings.TrimLeft(text, " \t")) + 1
	a.addAt(rule, ln, col, ln, len(text)+1, msg, fix)
}

// addToken reports rule on the first occurrence of token in lines
// start..end, or on the start line when it is not found.
func (a *analysis) addToken(rule string, start, end int, token, msg string, fix *engine.Fix) {
	if ln, i := a.find(start, end, token); ln > 0 {
		a.addAt(rule, ln, i+1, ln, i+1+len(token), msg, fix)
		return
	}
	a.add(rule, start, msg, fix)
}

// varToken is how a variable is written in lines start..end: $NAME or ${NAME.
func (a *analysis) varToken(start, end int, name string) string {
	if ln, _ := a.find(start, end, "$"+name); ln > 0 {
		return "$" + name
	}
	return "${" + name
}

// find is the line and byte offset of token's first occurrence in lines
// start..end; 0 when it is not there.
func (a *analysis) find(start, end int, token string) (ln, i int) {
	if token == "" {
		return 0, 0
	}
	for ln := start; ln <= end; ln++ {
		if i := strings.Index(a.line(ln), token); i >= 0 {
			return ln, i
		}
	}
	return 0, 0
}

// replaceFix rewrites the line that holds token's first occurrence in
// lines start..end with token replaced; nil when it is not there.
func (a *analysis) replaceFix(title string, start, end int, token, with string) *engine.Fix {
	ln, i := a.find(start, end, token)
	if ln == 0 {
		return nil
	}
	text := a.line(ln)
	return &engine.Fix{Title: title, Line: ln, EndLine: ln, Text: text[:i] + with + text[i+len(token):]}
}

func (a *analysis) addAt(rule string, ln, col, endLn, endCol int, msg string, fix *engine.Fix) {
	key := rule + ":" + strconv.Itoa(ln) + ":" + strconv.Itoa(col)
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	if a.seen[key] {
		return
	}
	a.seen[key] = true
	sev := engine.SeverityWarning
	if r, ok := rulesByID[rule]; ok {
		sev = r.Severity
	}
	// Columns count characters, as an editor does, not bytes.
	col, endCol = runeColumn(a.line(ln), col), runeColumn(a.line(endLn), endCol)
	if endCol < col && endLn == ln {
		endCol = col
	}
	a.diags = append(a.diags, diag{engine.Diagnostic{Severity: sev, Rule: rule, Message: msg, Line: ln, Column: col, EndLine: endLn, EndColumn: endCol, Fix: fix}, a.cur})
}

func runeColumn(text string, byteCol int) int {
	if byteCol-1 > len(text) || byteCol < 1 {
		return byteCol
	}
	return utf8.RuneCountInString(text[:byteCol-1]) + 1
}

func (a *analysis) escapeRune() rune {
	if a.escape == 0 {
		return '\\'
	}
	return a.escape
}

// directives reads what the file says about the checks: BuildKit's
// "# check=" directive and hadolint's "# hadolint global ignore=".
func (a *analysis) directives(src []byte) {
	if v, _, _, ok := parser.ParseDirective("check", src); ok {
		if cfg, err := linter.ParseLintOptions(v); err == nil {
			a.lintConfig = cfg
			a.experimental = fmt.Sprint(cfg.ExperimentalAll, cfg.ExperimentalRules)
		}
	}
	for _, l := range a.lines {
		if rest, ok := hadolintPragma(l, "global ignore="); ok {
			if a.globalIgnore == nil {
				a.globalIgnore = map[string]bool{}
			}
			if a.opts.Config != nil && a.opts.Config.DisableIgnorePragma {
				continue
			}
			maps.Copy(a.globalIgnore, ruleIDs(strings.Split(rest, ",")))
		}
	}
}

// hadolintPragma returns what follows "# hadolint <key>" on a comment line.
func hadolintPragma(line, key string) (string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "#") {
		return "", false
	}
	t = strings.TrimSpace(strings.TrimPrefix(t, "#"))
	rest, ok := strings.CutPrefix(t, "hadolint ")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutPrefix(strings.TrimSpace(rest), key)
	if !ok {
		return "", false
	}
	rest, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
	return rest, true
}

// comments reads the comments right above an instruction: BuildKit's
// "# check=skip=…" and hadolint's "# hadolint ignore=…" for it alone.
func (a *analysis) comments(node *parser.Node) {
	for _, c := range node.PrevComment {
		line := "# " + c
		if rest, ok := hadolintPragma(line, "ignore="); ok {
			a.suppressed = append(a.suppressed, suppression{node.StartLine, node.EndLine, ruleIDs(strings.Split(rest, ",")), true})
		}
		d, _ := (&parser.DirectiveParser{}).ParseLine([]byte(line))
		if d != nil && d.Name == "check" {
			v, _, _ := strings.Cut(d.Value, " ")
			if cfg, err := linter.ParseLintOptions(v); err == nil && (cfg.SkipAll || len(cfg.SkipRules) > 0) {
				s := suppression{start: node.StartLine, end: node.EndLine, rules: ruleIDs(cfg.SkipRules)}
				if cfg.SkipAll {
					s.rules = map[string]bool{}
					for _, r := range Rules {
						if r.Severity != engine.SeverityError {
							s.rules[r.ID] = true
						}
					}
				}
				a.suppressed = append(a.suppressed, s)
			}
		}
	}
}

// finish applies what the file and the project say about the rules, keeps
// the rules about shipped layers to the stages that ship, and sorts.
func (a *analysis) finish() []engine.Diagnostic {
	shipped := a.shippedStages()
	skip := map[string]bool{}
	if c := a.lintConfig; c != nil {
		skip = ruleIDs(c.SkipRules)
		if c.SkipAll {
			for _, r := range Rules {
				skip[r.ID] = true
			}
		}
	}
	var cfg *Config = a.opts.Config
	out := make([]engine.Diagnostic, 0, len(a.diags))
	for _, d := range a.diags {
		isError := d.Severity == engine.SeverityError
		if r, ok := rulesByID[d.Rule]; ok && r.ShippedOnly && d.stage != nil && !shipped[d.stage] {
			continue
		}
		if !isError && (skip[d.Rule] || a.globalIgnore[d.Rule] || a.suppressedAt(d.Rule, d.Line)) {
			continue
		}
		if a.inlineCommentAt(d) {
			continue
		}
		if a.lintConfig != nil && a.lintConfig.ReturnAsError && !isError {
			if r, ok := rulesByID[d.Rule]; ok && r.BuildKit() {
				d.Severity = engine.SeverityError // check=error=true: docker build fails on it
			}
		}
		if cfg != nil {
			var keep bool
			if d.Diagnostic, keep = cfg.apply(d.Diagnostic); !keep {
				continue
			}
		}
		out = append(out, d.Diagnostic)
	}
	slices.SortStableFunc(out, func(x, y engine.Diagnostic) int {
		return cmp.Or(cmp.Compare(x.Line, y.Line), cmp.Compare(x.Column, y.Column))
	})
	return out
}

func (a *analysis) suppressedAt(rule string, ln int) bool {
	noPragmas := a.opts.Config != nil && a.opts.Config.DisableIgnorePragma
	return slices.ContainsFunc(a.suppressed, func(s suppression) bool {
		return ln >= s.start && ln <= s.end && (s.rules == nil || s.rules[rule]) && !(s.hadolint && noPragmas)
	})
}

// inlineCommentAt: an instruction with an inline comment reports that
// alone; what the comment's words break follows from it.
func (a *analysis) inlineCommentAt(d diag) bool {
	if d.Rule == "InlineComment" {
		return false
	}
	return slices.ContainsFunc(a.diags, func(o diag) bool {
		return o.Rule == "InlineComment" && o.Line == d.Line
	})
}

// shippedStages are the stages whose layers end up in the image built by
// default: the last stage and the stages it is built FROM.
func (a *analysis) shippedStages() map[*stage]bool {
	out := map[*stage]bool{}
	if len(a.stages) == 0 {
		return out
	}
	for s := a.stages[len(a.stages)-1]; s != nil && !out[s]; s = s.parent {
		out[s] = true
	}
	return out
}

// checkContinuation finds a line continuation at the very end.
func (a *analysis) checkContinuation() {
	esc := a.escapeRune()
	for i := len(a.lines) - 1; i >= 0; i-- {
		t := strings.TrimRight(a.lines[i], " \t")
		if t == "" {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(t), "#") {
			return
		}
		if strings.HasSuffix(t, string(esc)) && !strings.HasSuffix(t, string(esc)+string(esc)) {
			a.addAt("UnterminatedContinuation", i+1, len(t), i+1, len(t)+1, "The file ends in the middle of an instruction: the last line ends with "+string(esc)+", so a line added below would become part of it", nil)
		}
		return
	}
}

// instructionNames are BuildKit's instructions, upper case.
var instructionNames = func() []string {
	var out []string
	for c := range bkcommand.Commands {
		out = append(out, strings.ToUpper(c))
	}
	slices.Sort(out)
	return out
}()

// walk checks the instructions in order, following the stages.
func (a *analysis) walk(ast *parser.Node) {
	a.metaArgs, a.metaValues = map[string]bool{}, map[string]string{}
	upper, lower := 0, 0
	var prev *instructions.RunCommand
	var prevScript *script
	for _, node := range ast.Children {
		kw := strings.ToLower(node.Value)
		if _, known := explanations[kw]; known {
			if node.Value == strings.ToUpper(node.Value) {
				upper++
			} else if node.Value == kw {
				lower++
			}
		}
		a.comments(node)
		in := a.instruction(node)
		if _, known := explanations[kw]; known {
			a.checkRawArgs(node, kw)
		}
		if in.err == nil {
			for _, h := range in.lints {
				a.buildkitLint(node, h)
			}
		}
		if in.err != nil {
			a.instructionError(node, kw, in.err)
			prev = nil
			continue
		}
		if st, ok := in.cmd.(*instructions.Stage); ok {
			a.checkFrom(node, st)
			a.step(node, kw, 0)
			prev = nil
			continue
		}
		if a.cur == nil {
			if arg, ok := in.cmd.(*instructions.ArgCommand); ok && len(a.stages) == 0 {
				for _, kv := range arg.Args {
					a.metaArgs[kv.Key] = a.metaArgs[kv.Key] || kv.Value != nil
					if kv.Value != nil {
						a.metaValues[kv.Key] = *kv.Value
					}
				}
				a.checkKeyValues(node, "ARG", argPairs(arg))
				a.step(node, kw, 0)
				continue
			}
			// Checked all the same, as if under FROM scratch, so one
			// missing line does not hide the rest.
			a.add("MissingFrom", node.StartLine, fmt.Sprintf("%s before the first FROM: a Dockerfile starts with FROM <image> (only ARG may come before it)", strings.ToUpper(kw)), nil)
			a.newStage(&stage{index: 0, line: node.StartLine, env: map[string]bool{}, args: map[string]bool{}})
		}
		layer := a.check(node, in, false)
		if run, ok := in.cmd.(*instructions.RunCommand); ok {
			if prev != nil && singleCommand(prevScript) && singleCommand(in.script) && slices.Equal(prev.FlagsUsed, run.FlagsUsed) && flagsText(node) == flagsText(a.prevRun) {
				a.add("ConsecutiveRun", node.StartLine, "This RUN follows another RUN with one command each: join them with && to make one layer", nil)
			}
			prev, prevScript, a.prevRun = run, in.script, node
		} else {
			prev = nil
		}
		a.step(node, kw, layer)
	}
	for _, st := range a.stages {
		a.stageEnd(st)
	}
	a.checkRootUser()
	if upper > 0 && lower > 0 {
		a.checkCasing(ast, upper, lower)
	}
}

func singleCommand(s *script) bool { return s != nil && s.err == nil && len(s.cmds) == 1 }

func flagsText(node *parser.Node) string {
	if node == nil {
		return ""
	}
	return strings.Join(node.Flags, " ")
}

// check runs the checks of one instruction inside a stage and returns the
// layer it adds (0 for none). Inside ONBUILD the instruction runs later,
// in another build: it is checked for itself, and changes no stage.
func (a *analysis) check(node *parser.Node, in *instr, onbuild bool) (layer int) {
	st := a.cur
	if onbuild {
		copy := *st
		st = &copy
	}
	start, end := node.StartLine, node.EndLine
	switch c := in.cmd.(type) {
	case *instructions.RunCommand:
		a.checkRun(node, c, in.script, st)
		st.layers++
		return st.layers
	case *instructions.CmdCommand:
		st.cmds = append(st.cmds, start)
		a.checkShellForm(node, "CMD", c.ShellDependantCmdLine, st)
	case *instructions.EntrypointCommand:
		st.eps = append(st.eps, start)
		a.checkShellForm(node, "ENTRYPOINT", c.ShellDependantCmdLine, st)
	case *instructions.HealthCheckCommand:
		st.hcs = append(st.hcs, start)
		a.checkHealthcheck(node, c, in.script)
	case *instructions.CopyCommand:
		a.checkCopy(node, c.From, c.SourcePaths, c.DestPath, st)
		st.layers++
		return st.layers
	case *instructions.AddCommand:
		a.checkCopy(node, "", c.SourcePaths, c.DestPath, st)
		a.checkAdd(node, c)
		st.layers++
		return st.layers
	case *instructions.ExposeCommand:
		a.undefinedVars(node, st)
		a.checkExpose(node, c.Ports)
		st.exposes = true
	case *instructions.EnvCommand:
		a.undefinedVars(node, st)
		pairs := make([]pair, len(c.Env))
		for i, e := range c.Env {
			pairs[i] = pair{e.Key, e.Value, e.NoDelim}
		}
		a.checkKeyValues(node, "ENV", pairs)
		a.checkEnvSelfReference(node, pairs)
		for _, e := range c.Env {
			st.setEnv(e.Key)
		}
	case *instructions.ArgCommand:
		a.undefinedVars(node, st)
		a.checkKeyValues(node, "ARG", argPairs(c))
		for _, kv := range c.Args {
			st.args[kv.Key] = true
		}
	case *instructions.LabelCommand:
		a.undefinedVars(node, st)
		pairs := make([]pair, len(c.Labels))
		for i, l := range c.Labels {
			pairs[i] = pair{l.Key, l.Value, l.NoDelim}
		}
		a.checkKeyValues(node, "LABEL", pairs)
	case *instructions.WorkdirCommand:
		a.undefinedVars(node, st)
		path := a.unquote(c.Path)
		if !isAbs(path) && !strings.HasPrefix(path, "$") && !st.absWorkdir {
			abs := "/" + strings.TrimPrefix(path, "./")
			a.add("WorkdirRelativePath", start, fmt.Sprintf("WORKDIR %s is relative to the base image's working directory; write an absolute path such as %s", path, abs),
				&engine.Fix{Title: "Use " + abs, Line: start, EndLine: end, Text: "WORKDIR " + abs})
		}
		if path != "" {
			st.workdir = path
			st.absWorkdir = st.absWorkdir || isAbs(path)
		}
		st.layers++ // a new directory makes one; an existing one nothing
		return st.layers
	case *instructions.UserCommand:
		a.undefinedVars(node, st)
		st.user, st.userLine = a.unquote(c.User), start
	case *instructions.ShellCommand:
		st.shell = c.Shell
	case *instructions.VolumeCommand, *instructions.StopSignalCommand:
		a.undefinedVars(node, st)
	case *instructions.MaintainerCommand:
		// BuildKit's linter reports it (buildkitLint).
	case *instructions.OnbuildCommand:
		if in.inner != nil && node.Next != nil && len(node.Next.Children) == 1 {
			inner := *node.Next.Children[0]
			inner.StartLine, inner.EndLine = start, end
			if in.inner.err != nil {
				a.instructionError(&inner, strings.ToLower(inner.Value), in.inner.err)
			} else {
				a.check(&inner, in.inner, true)
			}
		}
	}
	return 0
}

// buildkitLint turns a check BuildKit's linter made while parsing into a
// diagnostic, with Berth's wording and fix where it has them.
func (a *analysis) buildkitLint(node *parser.Node, h lintHit) {
	start, end := node.StartLine, node.EndLine
	switch h.rule {
	case linter.RuleMaintainerDeprecated.Name:
		maintainer := strings.TrimSpace(a.argsText(node))
		a.add(h.rule, start, "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors",
			&engine.Fix{Title: "Use a label", Line: start, EndLine: end, Text: fmt.Sprintf("LABEL org.opencontainers.image.authors=%q", maintainer)})
	case linter.RuleFromAsCasing.Name:
		fields := strings.Fields(node.Original)
		as := ""
		for i, f := range fields {
			if i > 0 && strings.EqualFold(f, "as") {
				as = f
			}
		}
		want := "AS"
		if node.Value == strings.ToLower(node.Value) {
			want = "as"
		}
		a.addToken(h.rule, start, start, " "+as+" ", fmt.Sprintf("'%s' and 'FROM' keywords' casing do not match: write %s", as, want), a.replaceFix("Write "+want, start, start, " "+as+" ", " "+want+" "))
	case linter.RuleStageNameCasing.Name:
		fields := strings.Fields(node.Original)
		name := fields[len(fields)-1]
		a.addToken(h.rule, start, start, name, fmt.Sprintf("Stage name %q should be lowercase: %s", name, strings.ToLower(name)), nil)
	default:
		a.add(h.rule, start, h.msg, nil)
	}
}

func (a *analysis) checkCasing(ast *parser.Node, upper, lower int) {
	want := "upper"
	if lower > upper {
		want = "lower"
	}
	for _, node := range ast.Children {
		if _, known := explanations[strings.ToLower(node.Value)]; !known {
			continue // an unknown word is reported as such, not for its case
		}
		fixed := strings.ToUpper(node.Value)
		if want == "lower" {
			fixed = strings.ToLower(node.Value)
		}
		if node.Value != fixed {
			a.addToken("ConsistentInstructionCasing", node.StartLine, node.StartLine, node.Value, fmt.Sprintf("Instruction %q is not %scase like the others: write %s", node.Value, want, fixed),
				a.replaceFix("Write "+fixed, node.StartLine, node.StartLine, node.Value, fixed))
		}
	}
}

func (a *analysis) stageEnd(st *stage) {
	for _, list := range []struct {
		lines []int
		kw    string
	}{{st.cmds, "CMD"}, {st.eps, "ENTRYPOINT"}, {st.hcs, "HEALTHCHECK"}} {
		for i := 0; i+1 < len(list.lines); i++ {
			a.addIn(st, "MultipleInstructionsDisallowed", list.lines[i], fmt.Sprintf("Another %s follows in this stage (line %d); only the last one counts", list.kw, list.lines[len(list.lines)-1]))
		}
	}
	if st.usesWget > 0 && st.usesCurl > 0 {
		a.addIn(st, "WgetAndCurl", max(st.usesWget, st.usesCurl), "This stage uses both wget and curl: one of them is enough")
	}
}

// addIn reports on a whole line, as found in stage st.
func (a *analysis) addIn(st *stage, rule string, ln int, msg string) {
	cur := a.cur
	a.cur = st
	a.add(rule, ln, msg, nil)
	a.cur = cur
}

// checkRootUser: the final stage serves (EXPOSE) and never leaves root.
func (a *analysis) checkRootUser() {
	if len(a.stages) == 0 {
		return
	}
	last := a.stages[len(a.stages)-1]
	if !last.exposes || last.scratch {
		return
	}
	u := last.user
	if u == "" && last.external || u == "root" || u == "0" || strings.HasPrefix(u, "root:") || strings.HasPrefix(u, "0:") {
		ln := last.line
		if last.userLine > 0 {
			ln = last.userLine
		}
		a.addIn(last, "RootUser", ln, "The final stage publishes a port and runs as root: add a user and USER it for the server")
	}
}

func (a *analysis) instructionError(node *parser.Node, kw string, err error) {
	msg := err.Error()
	start := node.StartLine
	var unknown *instructions.UnknownInstructionError
	switch {
	case errors.As(err, &unknown):
		a.unknownInstruction(node, kw)
	case strings.HasPrefix(msg, "unknown flag"):
		flag := strings.TrimPrefix(msg, "unknown flag: ")
		if i := strings.Index(flag, " "); i > 0 {
			flag = flag[:i]
		}
		a.addToken("UnknownFlag", start, node.EndLine, flag, fmt.Sprintf("%s has no flag %s%s", strings.ToUpper(kw), flag, didYouMeanFlag(kw, flag, msg)), nil)
	case strings.Contains(msg, "requires") || strings.Contains(msg, "arguments") || strings.Contains(msg, "argument"):
		a.add("ArgumentCount", start, upperFirst(msg), nil)
	case strings.Contains(msg, "time: invalid duration"):
		a.add("SyntaxError", start, "HEALTHCHECK: "+msg+" (durations look like 30s, 1m30s)", nil)
	default:
		a.add("SyntaxError", start, upperFirst(msg), nil)
	}
}

// shellCommands are programs people paste into a Dockerfile as if it were
// a terminal.
var shellCommands = map[string]bool{
	"docker": true, "git": true, "cd": true, "ls": true, "apt": true, "apt-get": true, "apk": true, "yum": true, "dnf": true,
	"pip": true, "pip3": true, "npm": true, "yarn": true, "python": true, "python3": true, "node": true, "go": true, "make": true,
	"echo": true, "mkdir": true, "curl": true, "wget": true, "sudo": true, "chmod": true, "chown": true, "cp": true, "mv": true,
	"rm": true, "export": true, "source": true, "bash": true, "sh": true, "cat": true, "tar": true, "useradd": true, "adduser": true,
}

func (a *analysis) unknownInstruction(node *parser.Node, kw string) {
	start := node.StartLine
	text := a.line(start)
	if shellCommands[kw] {
		cmdline := strings.TrimSpace(node.Original)
		var fix *engine.Fix
		msg := fmt.Sprintf("%q is a command for a terminal, not a Dockerfile instruction: run it in a terminal", cmdline)
		if kw != "docker" && kw != "cd" && kw != "export" && kw != "source" {
			msg += ", or write RUN before it to run it while the image builds"
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			fix = &engine.Fix{Title: "Run it in the image (RUN)", Line: start, EndLine: start, Text: indent + "RUN " + strings.TrimLeft(text, " \t")}
		}
		a.addToken("UnknownInstruction", start, start, node.Value, msg, fix)
		return
	}
	if s := suggestInstruction(node.Value); s != "" {
		a.addToken("UnknownInstruction", start, start, node.Value, fmt.Sprintf("Unknown instruction %s: did you mean %s?", strings.ToUpper(node.Value), s),
			a.replaceFix("Change to "+s, start, start, node.Value, s))
		return
	}
	a.addToken("UnknownInstruction", start, start, node.Value, fmt.Sprintf("Unknown instruction %s: instructions are FROM, RUN, COPY, ADD, CMD, ENTRYPOINT, ENV, ARG, WORKDIR, EXPOSE, LABEL, USER, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD", strings.ToUpper(node.Value)), nil)
}

// instructionFlags are the flags BuildKit's parser knows, sorted, so that a
// typo as close to two flags as --chmow- (--chmod, --chown) gets the same
// suggestion every time: BuildKit's own comes from ranging over a map.
var instructionFlags = map[string][]string{
	"add":         {"checksum", "chmod", "chown", "exclude", "keep-git-dir", "link", "unpack"},
	"copy":        {"chmod", "chown", "exclude", "from", "link", "parents"},
	"from":        {"platform"},
	"healthcheck": {"interval", "retries", "start-interval", "start-period", "timeout"},
	"run":         {"device", "mount", "network", "security"},
}

func didYouMeanFlag(kw, flag, msg string) string {
	if flags, ok := instructionFlags[strings.ToLower(kw)]; ok {
		if s, ok := suggest.Search(strings.TrimLeft(strings.SplitN(flag, "=", 2)[0], "-"), flags, true); ok {
			return ": did you mean --" + s + "?"
		}
		return ""
	}
	if i := strings.Index(msg, "(did you mean "); i >= 0 {
		s := strings.TrimSuffix(msg[i+len("(did you mean "):], ")")
		s = strings.TrimSuffix(s, "?")
		return ": did you mean --" + strings.TrimPrefix(s, "--") + "?"
	}
	return ""
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// suggestInstruction finds the instruction a typo most likely meant
// (BuildKit's suggestion, when the typo keeps at least half the word).
func suggestInstruction(word string) string {
	s, ok := suggest.Search(word, instructionNames, false)
	if !ok || editDistance(strings.ToUpper(word), strings.ToUpper(s)) > len(word)/2 {
		return ""
	}
	return strings.ToUpper(s)
}

func editDistance(a, b string) int { return levenshtein.Distance(a, b, nil) }
