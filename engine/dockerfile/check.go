package dockerfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Result is what Analyze finds in a Dockerfile.
type Result struct {
	Diagnostics []engine.Diagnostic
	// Steps are the instructions in order, with what each does to the image.
	Steps []Step
}

// HasErrors reports whether any diagnostic is an error.
func (r *Result) HasErrors() bool {
	for _, d := range r.Diagnostics {
		if d.Severity == engine.SeverityError {
			return true
		}
	}
	return false
}

// Check returns every diagnostic for src, in file order.
func Check(src []byte) []engine.Diagnostic { return Analyze(src).Diagnostics }

// maxReparses bounds how many broken instructions are taken out to parse
// the rest of the file.
const maxReparses = 64

// Analyze parses src with BuildKit's parser and checks it. It never stops
// at the first problem: an instruction the parser rejects is reported and
// blanked out, and the rest of the file parsed again, so a half-typed line
// does not hide the diagnostics of the others.
func Analyze(src []byte) *Result {
	a := &analysis{src: src, lines: splitLines(src)}
	text := src
	var res *parser.Result
	for i := 0; ; i++ {
		r, err := parser.Parse(bytes.NewReader(text))
		if err == nil {
			res = r
			break
		}
		start, end := a.parseError(err)
		if start <= 0 || i >= maxReparses {
			break
		}
		text = blankLines(text, start, end)
	}
	if res != nil {
		a.escape = res.EscapeToken
		for _, w := range res.Warnings {
			ln := 1
			if w.Location != nil {
				ln = w.Location.Start.Line
			}
			a.add("EmptyContinuationLine", ln, "Empty continuation line: an empty line inside an instruction continued with "+string(res.EscapeToken), nil)
		}
		a.walk(res.AST)
	}
	a.checkContinuation()
	a.applySkips()
	sort.SliceStable(a.diags, func(i, j int) bool {
		if a.diags[i].Line != a.diags[j].Line {
			return a.diags[i].Line < a.diags[j].Line
		}
		return a.diags[i].Column < a.diags[j].Column
	})
	return &Result{Diagnostics: a.diags, Steps: a.steps}
}

type analysis struct {
	src    []byte
	lines  []string
	escape rune
	diags  []engine.Diagnostic
	steps  []Step
	// seen: one diagnostic per rule and line is enough.
	seen map[string]bool
}

func splitLines(src []byte) []string {
	s := string(src)
	s = strings.TrimPrefix(s, "\ufeff")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// blankLines empties lines start..end (1-based) keeping line numbers.
func blankLines(src []byte, start, end int) []byte {
	lines := bytes.Split(src, []byte("\n"))
	if end <= 0 || end > len(lines) {
		end = len(lines)
	}
	for i := start - 1; i < end && i < len(lines); i++ {
		if i >= 0 {
			lines[i] = nil
		}
	}
	return bytes.Join(lines, []byte("\n"))
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
	for ln := start; ln <= end; ln++ {
		if i := strings.Index(a.line(ln), token); i >= 0 && token != "" {
			a.addAt(rule, ln, i+1, ln, i+1+len(token), msg, fix)
			return
		}
	}
	a.add(rule, start, msg, fix)
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
	a.diags = append(a.diags, engine.Diagnostic{Severity: sev, Rule: rule, Message: msg, Line: ln, Column: col, EndLine: endLn, EndColumn: endCol, Fix: fix})
}

func runeColumn(text string, byteCol int) int {
	if byteCol-1 > len(text) || byteCol < 1 {
		return byteCol
	}
	return utf8.RuneCountInString(text[:byteCol-1]) + 1
}

// parseError reports an error of the whole-file parser and returns the
// lines of the instruction to take out before parsing again.
func (a *analysis) parseError(err error) (start, end int) {
	msg := err.Error()
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		loc := le.Locations[0]
		start, end = loc[0].Start.Line, loc[len(loc)-1].End.Line
	}
	msg = strings.TrimPrefix(msg, "dockerfile parse error: ")
	switch {
	case strings.Contains(msg, "file with no instructions"):
		a.add("MissingFrom", 1, "The Dockerfile is empty: start it with FROM <image>, e.g. FROM python:3.12-slim", nil)
		return 0, 0
	case strings.Contains(msg, "unterminated heredoc"):
		if start < 1 {
			start = 1
		}
		a.add("UnterminatedHeredoc", start, "Unterminated heredoc: no line holds only its closing word, so everything to the end of the file belongs to it", nil)
		return start, len(a.lines)
	case strings.Contains(msg, "escape token"):
		a.add("SyntaxError", 1, msg, nil)
		return 1, 1
	case strings.Contains(msg, "must have two arguments") || strings.Contains(msg, "requires"):
		if start < 1 {
			start = 1
		}
		if kw, rest, _ := strings.Cut(strings.TrimSpace(a.line(start)), " "); strings.EqualFold(kw, "ENV") && !strings.ContainsAny(strings.TrimSpace(rest), " =") {
			msg = fmt.Sprintf("ENV %s has no value: write ENV %s=value", strings.TrimSpace(rest), strings.TrimSpace(rest))
		}
		a.add("ArgumentCount", start, upperFirst(msg), nil)
		return start, end
	}
	if start < 1 {
		a.add("SyntaxError", 1, msg, nil)
		return 0, 0
	}
	a.add("SyntaxError", start, msg, nil)
	return start, end
}

// applySkips honours BuildKit's "# check=skip=Rule1,Rule2" (or "all")
// directive: those warnings are not reported. Errors always are.
func (a *analysis) applySkips() {
	v, _, _, ok := parser.ParseDirective("check", a.src)
	if !ok {
		return
	}
	skip := map[string]bool{}
	for _, part := range strings.Split(v, ";") {
		if list, ok := strings.CutPrefix(strings.TrimSpace(part), "skip="); ok {
			for _, r := range strings.Split(list, ",") {
				skip[strings.TrimSpace(r)] = true
			}
		}
	}
	kept := a.diags[:0]
	for _, d := range a.diags {
		if d.Severity == engine.SeverityError || !skip[d.Rule] && !skip["all"] {
			kept = append(kept, d)
		}
	}
	a.diags = kept
}

// checkContinuation finds a line continuation at the very end.
func (a *analysis) checkContinuation() {
	esc := a.escape
	if esc == 0 {
		esc = '\\'
	}
	for i := len(a.lines) - 1; i >= 0; i-- {
		t := strings.TrimRight(a.lines[i], " \t")
		if t == "" {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(t), "#") {
			return
		}
		if strings.HasSuffix(t, string(esc)) && !strings.HasSuffix(t, string(esc)+string(esc)) {
			a.addAt("UnterminatedContinuation", i+1, len(t), i+1, len(t)+1, "The file ends in the middle of an instruction: the last line ends with "+string(esc)+", which continues it on a line that does not exist", nil)
		}
		return
	}
}

// stageInfo is what the checks remember about a stage.
type stageInfo struct {
	name     string
	line     int
	cmds     []int // lines of CMD
	eps      []int
	hcs      []int
	user     string
	userLine int
	copyAll  int // line of a COPY . . not yet followed by an install
	usesWget int
	usesCurl int
	pipEnv   bool
	workdir  bool // an absolute WORKDIR was set
	layers   int
}

func (a *analysis) walk(ast *parser.Node) {
	var stages []*stageInfo
	var cur *stageInfo
	metaArgs := map[string]bool{}
	for k := range predefinedArgs {
		metaArgs[k] = true
	}
	upper, lower := 0, 0
	var prevKind string
	fromSeen, anyFrom := false, false
	for _, node := range ast.Children {
		kw := strings.ToLower(node.Value)
		anyFrom = anyFrom || kw == "from"
		start, end := node.StartLine, node.EndLine
		if strings.ToUpper(node.Value) == node.Value {
			upper++
		} else if kw == node.Value {
			lower++
		}
		if _, known := explanations[kw]; known {
			a.checkRawArgs(node, kw)
		}
		cmd, err := instructions.ParseInstruction(node)
		if err != nil {
			a.instructionError(node, kw, err)
			prevKind = ""
			continue
		}
		if !fromSeen {
			if st, ok := cmd.(*instructions.Stage); ok {
				_ = st
				fromSeen = true
			} else if arg, ok := cmd.(*instructions.ArgCommand); ok {
				for _, kv := range arg.Args {
					if kv.Value != nil {
						metaArgs[kv.Key] = true
					} else {
						metaArgs[kv.Key] = metaArgs[kv.Key] || false
						if _, ok := metaArgs[kv.Key]; !ok {
							metaArgs[kv.Key] = false
						}
					}
				}
				a.checkKeyValues(node, "ARG", argPairs(arg))
				a.step(node, kw, -1, "", 0)
				continue
			} else {
				a.add("MissingFrom", start, fmt.Sprintf("%s before the first FROM: a Dockerfile starts with FROM <image> (only ARG may come before it)", strings.ToUpper(kw)), nil)
				fromSeen = true // once is enough
				continue
			}
		}
		switch c := cmd.(type) {
		case *instructions.Stage:
			cur = a.checkFrom(node, c, stages, metaArgs)
			stages = append(stages, cur)
			a.step(node, kw, len(stages)-1, cur.name, 0)
			prevKind = "from"
			continue
		}
		if cur == nil {
			continue
		}
		layer := 0
		switch c := cmd.(type) {
		case *instructions.RunCommand:
			if prevKind == "run" {
				a.add("ConsecutiveRun", start, "This RUN follows another RUN: join them with && to make one layer", nil)
			}
			a.checkRun(node, c, cur)
			cur.layers++
			layer = cur.layers
		case *instructions.CmdCommand:
			cur.cmds = append(cur.cmds, start)
			a.checkShellForm(node, "CMD", c.ShellDependantCmdLine)
		case *instructions.EntrypointCommand:
			cur.eps = append(cur.eps, start)
			a.checkShellForm(node, "ENTRYPOINT", c.ShellDependantCmdLine)
		case *instructions.HealthCheckCommand:
			cur.hcs = append(cur.hcs, start)
		case *instructions.CopyCommand:
			a.checkCopy(node, c.From, c.SourcePaths, stages, cur)
			cur.layers++
			layer = cur.layers
		case *instructions.AddCommand:
			a.checkAdd(node, c)
			cur.layers++
			layer = cur.layers
		case *instructions.ExposeCommand:
			a.checkExpose(node, c.Ports)
		case *instructions.EnvCommand:
			pairs := make([]pair, len(c.Env))
			for i, e := range c.Env {
				pairs[i] = pair{e.Key, e.Value, e.NoDelim}
				if e.Key == "PIP_NO_CACHE_DIR" {
					cur.pipEnv = true
				}
			}
			a.checkKeyValues(node, "ENV", pairs)
		case *instructions.ArgCommand:
			a.checkKeyValues(node, "ARG", argPairs(c))
		case *instructions.LabelCommand:
			pairs := make([]pair, len(c.Labels))
			for i, l := range c.Labels {
				pairs[i] = pair{l.Key, l.Value, l.NoDelim}
			}
			a.checkKeyValues(node, "LABEL", pairs)
		case *instructions.WorkdirCommand:
			if !isAbs(c.Path) && !strings.HasPrefix(c.Path, "$") && !cur.workdir {
				abs := "/" + strings.TrimPrefix(c.Path, "./")
				a.add("WorkdirRelativePath", start, fmt.Sprintf("WORKDIR %s is relative to the base image's working directory; write an absolute path such as %s", c.Path, abs),
					&engine.Fix{Title: "Use " + abs, Line: start, EndLine: end, Text: "WORKDIR " + abs})
			}
			if isAbs(c.Path) {
				cur.workdir = true
			}
			cur.layers++ // a new directory makes one; an existing one nothing
			layer = cur.layers
		case *instructions.UserCommand:
			cur.user, cur.userLine = c.User, start
		case *instructions.MaintainerCommand:
			a.add("MaintainerDeprecated", start, "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors",
				&engine.Fix{Title: "Use a label", Line: start, EndLine: end, Text: fmt.Sprintf("LABEL org.opencontainers.image.authors=%q", c.Maintainer)})
		}
		a.step(node, kw, len(stages)-1, cur.name, layer)
		prevKind = kw
	}
	if !fromSeen && !anyFrom && len(ast.Children) > 0 {
		a.add("MissingFrom", ast.Children[len(ast.Children)-1].StartLine, "No FROM instruction: a Dockerfile needs FROM <image> to start a build stage", nil)
	}
	for _, st := range stages {
		a.stageEnd(st)
	}
	if n := len(stages); n > 0 {
		last := stages[n-1]
		if last.user == "" || last.user == "root" || last.user == "0" || strings.HasPrefix(last.user, "root:") || strings.HasPrefix(last.user, "0:") {
			ln := last.line
			if last.userLine > 0 {
				ln = last.userLine
			}
			a.add("RootUser", ln, "The final stage runs as root: add a user and USER it for services", nil)
		}
	}
	if upper > 0 && lower > 0 {
		want := "upper"
		if lower > upper {
			want = "lower"
		}
		for _, node := range ast.Children {
			isUpper := strings.ToUpper(node.Value) == node.Value
			if want == "upper" && !isUpper || want == "lower" && node.Value != strings.ToLower(node.Value) {
				fixed := strings.ToUpper(node.Value)
				if want == "lower" {
					fixed = strings.ToLower(node.Value)
				}
				a.addToken("ConsistentInstructionCasing", node.StartLine, node.StartLine, node.Value, fmt.Sprintf("Instruction %q is not %scase like the others: write %s", node.Value, want, fixed), nil)
			}
		}
	}
}

func (a *analysis) stageEnd(st *stageInfo) {
	for _, list := range []struct {
		lines []int
		kw    string
	}{{st.cmds, "CMD"}, {st.eps, "ENTRYPOINT"}, {st.hcs, "HEALTHCHECK"}} {
		for i := 0; i+1 < len(list.lines); i++ {
			a.add("MultipleInstructionsDisallowed", list.lines[i], fmt.Sprintf("Another %s follows in this stage (line %d); only the last one counts", list.kw, list.lines[len(list.lines)-1]), nil)
		}
	}
	if st.usesWget > 0 && st.usesCurl > 0 {
		a.add("WgetAndCurl", max(st.usesWget, st.usesCurl), "This stage uses both wget and curl: one of them is enough", nil)
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

func (a *analysis) instructionError(node *parser.Node, kw string, err error) {
	msg := err.Error()
	start := node.StartLine
	switch {
	case strings.HasPrefix(msg, "unknown instruction"):
		var fix *engine.Fix
		if s := suggestInstruction(node.Value); s != "" {
			text := a.line(start)
			i := strings.Index(text, node.Value)
			if i < 0 {
				i = strings.Index(strings.ToLower(text), kw)
			}
			if i >= 0 {
				fix = &engine.Fix{Title: "Change to " + s, Line: start, EndLine: start, Text: text[:i] + s + text[i+len(node.Value):]}
			}
			msg = fmt.Sprintf("Unknown instruction %s: did you mean %s?", strings.ToUpper(node.Value), s)
		} else {
			msg = fmt.Sprintf("Unknown instruction %s: instructions are FROM, RUN, COPY, ADD, CMD, ENTRYPOINT, ENV, ARG, WORKDIR, EXPOSE, LABEL, USER, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD", strings.ToUpper(node.Value))
		}
		a.addToken("UnknownInstruction", start, start, node.Value, msg, fix)
	case strings.HasPrefix(msg, "unknown flag"):
		flag := strings.TrimPrefix(msg, "unknown flag: ")
		if i := strings.Index(flag, " "); i > 0 {
			flag = flag[:i]
		}
		a.addToken("UnknownFlag", start, node.EndLine, flag, fmt.Sprintf("%s has no flag %s%s", strings.ToUpper(kw), flag, didYouMeanFlag(msg)), nil)
	case strings.Contains(msg, "requires") || strings.Contains(msg, "arguments") || strings.Contains(msg, "argument"):
		a.add("ArgumentCount", start, upperFirst(msg), nil)
	case strings.Contains(msg, "time: invalid duration"):
		a.add("SyntaxError", start, "HEALTHCHECK: "+msg+" (durations look like 30s, 1m30s)", nil)
	default:
		a.add("SyntaxError", start, upperFirst(msg), nil)
	}
}

func didYouMeanFlag(msg string) string {
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

var instructionNames = []string{"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}

// suggestInstruction finds the instruction a typo most likely meant.
func suggestInstruction(word string) string {
	w := strings.ToUpper(word)
	best, bestD := "", 3
	for _, name := range instructionNames {
		if d := editDistance(w, name); d < bestD || d == bestD && best == "" && d <= len(name)/3 {
			best, bestD = name, d
		}
	}
	if bestD > 2 || bestD > len(w)/2 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev[j-1]) // a swap costs one, like a change
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkRawArgs looks at the arguments as written: exec forms with curly
// quotes or broken JSON, and instructions left without arguments.
func (a *analysis) checkRawArgs(node *parser.Node, kw string) {
	switch kw {
	case "run", "cmd", "entrypoint", "shell", "volume", "copy", "add", "healthcheck":
	default:
		return
	}
	raw := a.argsText(node)
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

func (a *analysis) escapeRune() rune {
	if a.escape == 0 {
		return '\\'
	}
	return a.escape
}

func (a *analysis) checkShellForm(node *parser.Node, kw string, c instructions.ShellDependantCmdLine) {
	if !c.PrependShell || len(c.CmdLine) == 0 {
		return
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

var predefinedArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true, "FTP_PROXY": true, "ftp_proxy": true,
	"NO_PROXY": true, "no_proxy": true, "ALL_PROXY": true, "all_proxy": true,
	"TARGETPLATFORM": true, "TARGETOS": true, "TARGETARCH": true, "TARGETVARIANT": true,
	"BUILDPLATFORM": true, "BUILDOS": true, "BUILDARCH": true, "BUILDVARIANT": true,
}

var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

func (a *analysis) checkFrom(node *parser.Node, c *instructions.Stage, stages []*stageInfo, metaArgs map[string]bool) *stageInfo {
	st := &stageInfo{name: c.Name, line: node.StartLine}
	start := node.StartLine
	orig := a.line(start)
	// FROM image AS name: the casing of AS, and of the name.
	fields := strings.Fields(node.Original)
	for i, f := range fields {
		if strings.EqualFold(f, "as") && i > 0 && i+1 < len(fields) {
			isUpperFrom := strings.ToUpper(fields[0]) == fields[0]
			if isUpperFrom && f != "AS" || !isUpperFrom && f != strings.ToLower(f) {
				want := "AS"
				if !isUpperFrom {
					want = "as"
				}
				a.addToken("FromAsCasing", start, start, " "+f+" ", fmt.Sprintf("'%s' and 'FROM' keywords' casing do not match: write %s", f, want), nil)
			}
			name := fields[i+1]
			if name != strings.ToLower(name) {
				a.addToken("StageNameCasing", start, start, name, fmt.Sprintf("Stage name %q should be lowercase: %s", name, strings.ToLower(name)), nil)
			}
		}
	}
	if c.Name != "" {
		for _, prev := range stages {
			if strings.EqualFold(prev.name, c.Name) {
				a.addToken("DuplicateStageName", start, start, c.Name, fmt.Sprintf("Stage name %q is already used on line %d", c.Name, prev.line), nil)
			}
		}
		if lc := strings.ToLower(c.Name); lc == "scratch" || lc == "context" {
			a.addToken("ReservedStageName", start, start, c.Name, fmt.Sprintf("Stage name %q is reserved", c.Name), nil)
		}
	}
	base := c.BaseName
	switch {
	case strings.Contains(base, "$"):
		for _, m := range varRef.FindAllStringSubmatch(base, -1) {
			if has, declared := metaArgs[m[1]]; !declared || !has {
				a.addToken("UndefinedArgInFrom", start, start, m[0], fmt.Sprintf("FROM uses $%s, which no ARG before the first FROM gives a default", m[1]), nil)
			}
		}
	case strings.EqualFold(base, "scratch"):
	case isStageRef(base, stages):
	default:
		name, tag := splitTag(base)
		switch {
		case strings.Contains(base, "@"):
		case tag == "":
			a.addToken("UntaggedBaseImage", start, start, base, fmt.Sprintf("FROM %s has no tag, so it means %s:latest: pin a version, e.g. %s:<version>", base, name, name), nil)
		case tag == "latest":
			a.addToken("LatestBaseImage", start, start, base, fmt.Sprintf("FROM %s: the latest tag moves; pin a version", base), nil)
		}
	}
	_ = orig
	return st
}

func isStageRef(name string, stages []*stageInfo) bool {
	for _, s := range stages {
		if s.name != "" && strings.EqualFold(s.name, name) {
			return true
		}
	}
	return false
}

// splitTag splits "repo:tag" (a port in the registry host is no tag).
func splitTag(ref string) (name, tag string) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, ""
	}
	return ref[:i], ref[i+1:]
}

func (a *analysis) checkCopy(node *parser.Node, from string, srcs []string, stages []*stageInfo, cur *stageInfo) {
	start := node.StartLine
	if from != "" && !strings.Contains(from, "$") {
		if n, err := strconv.Atoi(from); err == nil {
			if n < 0 || n >= len(stages)-1 && !(n < len(stages) && stages[n] != cur) {
				a.addToken("UnknownStage", start, node.EndLine, "--from="+from, fmt.Sprintf("COPY --from=%s: there is no earlier stage number %d (stages count from 0; this file has %d before this one)", from, n, len(stages)-1), nil)
			}
		} else if !isStageRef(from, stages) && !strings.ContainsAny(from, "/:.@") {
			var names []string
			for _, s := range stages {
				if s.name != "" && s != cur {
					names = append(names, s.name)
				}
			}
			known := "this file names no earlier stages"
			if len(names) > 0 {
				known = "stages: " + strings.Join(names, ", ")
			}
			for _, n := range names {
				if editDistance(strings.ToLower(n), strings.ToLower(from)) <= 2 {
					known = "did you mean " + n + "?"
				}
			}
			a.addToken("UnknownStage", start, node.EndLine, "--from="+from, fmt.Sprintf("COPY --from=%s: no earlier stage has that name (%s); to copy from an image, write its name with a tag, e.g. --from=%s:latest", from, known, from), nil)
		}
	}
	if from == "" {
		for _, s := range srcs {
			if s == "." || s == "./" || s == "./." {
				cur.copyAll = start
			}
		}
	}
}

var archiveExt = []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz", ".bz2", ".xz"}

func (a *analysis) checkAdd(node *parser.Node, c *instructions.AddCommand) {
	for _, s := range c.SourcePaths {
		if strings.Contains(s, "://") || strings.HasPrefix(s, "git@") || strings.Contains(s, "$") {
			return
		}
		for _, ext := range archiveExt {
			if strings.HasSuffix(strings.ToLower(s), ext) {
				return
			}
		}
	}
	if len(c.SourcePaths) == 0 {
		return
	}
	var fix *engine.Fix
	if node.StartLine == node.EndLine {
		text := a.line(node.StartLine)
		if i := strings.Index(text, node.Value); i >= 0 {
			fix = &engine.Fix{Title: "Replace with COPY", Line: node.StartLine, EndLine: node.EndLine, Text: text[:i] + "COPY" + text[i+len(node.Value):]}
		}
	}
	a.add("AddInsteadOfCopy", node.StartLine, "ADD of local files: use COPY, which only copies (ADD also unpacks archives and downloads URLs)", fix)
}

var validProto = map[string]bool{"tcp": true, "udp": true, "sctp": true}

func (a *analysis) checkExpose(node *parser.Node, ports []string) {
	start := node.StartLine
	for _, p := range ports {
		if strings.Contains(p, "$") {
			continue
		}
		port, proto, hasProto := strings.Cut(p, "/")
		if hasProto {
			lp := strings.ToLower(proto)
			if !validProto[lp] {
				best := ""
				for q := range validProto {
					if editDistance(lp, q) <= 2 {
						best = q
					}
				}
				msg := fmt.Sprintf("EXPOSE %s: unknown protocol %q: use tcp, udp or sctp", p, proto)
				if best != "" {
					msg = fmt.Sprintf("EXPOSE %s: unknown protocol %q: did you mean %s?", p, proto, best)
				}
				a.addToken("InvalidPort", start, node.EndLine, p, msg, nil)
				continue
			}
			if proto != lp {
				a.addToken("ExposeProtoCasing", start, node.EndLine, p, fmt.Sprintf("EXPOSE %s: write the protocol in lowercase, %s/%s", p, port, lp), nil)
			}
		}
		if strings.Contains(port, ":") {
			a.addToken("InvalidPort", start, node.EndLine, p, fmt.Sprintf("EXPOSE %s: EXPOSE takes the container's port only; publish it on the host with docker run -p %s", p, port), nil)
			continue
		}
		lo, hi, isRange := strings.Cut(port, "-")
		l, err1 := strconv.Atoi(lo)
		h, err2 := l, error(nil)
		if isRange {
			h, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || l < 1 || h > 65535 || h < l {
			a.addToken("InvalidPort", start, node.EndLine, p, fmt.Sprintf("EXPOSE %s: not a port: ports are numbers from 1 to 65535, e.g. EXPOSE 8000 or EXPOSE 53/udp", p), nil)
		}
	}
}

var secretName = regexp.MustCompile(`(?i)(?:^|_)(?:apikey|api_key|auth|credentials?|key|pass|passwd|password|pwd|secret|token)(?:_|$)`)

// nonSecret names look like secrets but are not.
var nonSecret = regexp.MustCompile(`(?i)(?:^|_)(?:public|pub|file|path|dir|id|url|name|user|username|type|length|size)(?:_|$)`)

func (a *analysis) checkKeyValues(node *parser.Node, kw string, pairs []pair) {
	start := node.StartLine
	var lex *shell.Lex
	for _, p := range pairs {
		if p.key == "" || strings.ContainsAny(p.key, " \t\"'") {
			a.add("InvalidKeyValue", start, fmt.Sprintf("%s: %q is not a valid name", kw, p.key), nil)
			continue
		}
		if lex == nil && strings.ContainsAny(p.value, "\"'`\\$") {
			lex = shell.NewLex(a.escapeRune())
		}
		if lex == nil {
			// nothing to expand or unquote
		} else if _, _, err := lex.ProcessWord(p.value, emptyEnv{}); err != nil {
			a.addToken("InvalidKeyValue", start, node.EndLine, p.key, fmt.Sprintf("%s %s: %v", kw, p.key, err), nil)
		}
		if kw != "LABEL" && secretName.MatchString(p.key) && !nonSecret.MatchString(p.key) {
			a.addToken("SecretsUsedInArgOrEnv", start, node.EndLine, p.key, fmt.Sprintf("%s %q looks like a secret: it stays readable in the image (%s)", kw, p.key, map[bool]string{true: "config", false: "history"}[kw == "ENV"]), nil)
		}
		if p.noDelim && kw == "ENV" && node.StartLine == node.EndLine {
			text := a.line(start)
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			val := p.value
			if strings.ContainsAny(val, " \t") && !strings.HasPrefix(val, `"`) {
				val = strconv.Quote(val)
			}
			a.add("LegacyKeyValueFormat", start, fmt.Sprintf("ENV %s %s is the legacy form: write ENV %s=%s", p.key, p.value, p.key, val),
				&engine.Fix{Title: "Use KEY=value", Line: start, EndLine: start, Text: indent + node.Value + " " + p.key + "=" + val})
		} else if p.noDelim && kw == "ENV" {
			a.add("LegacyKeyValueFormat", start, fmt.Sprintf("ENV %s <value> is the legacy form: write ENV %s=<value>", p.key, p.key), nil)
		}
	}
}

type emptyEnv struct{}

func (emptyEnv) Get(string) (string, bool) { return "", true }
func (emptyEnv) Keys() []string            { return nil }

// isAbs accepts Linux paths and Windows ones (C:\app, \app).
func isAbs(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "\\") {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}
