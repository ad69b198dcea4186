package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
)

// Result is what Analyze finds in a Dockerfile.
type Result struct {
	Diagnostics []engine.Diagnostic
	// Steps are the instructions in order, with what each does to the image.
	Steps []Step
}

// HasErrors reports whether any diagnostic is an error.
func (r *Result) HasErrors() bool {
	return slices.ContainsFunc(r.Diagnostics, func(d engine.Diagnostic) bool { return d.Severity == engine.SeverityError })
}

// Options are what the checks may know beyond the file itself.
type Options struct {
	// Ignore is the build context's .dockerignore, for CopyIgnoredFile;
	// nil when there is none or the context is unknown.
	Ignore *patternmatcher.PatternMatcher
	// Config is a project's settings (ignored rules, severities), as in
	// hadolint's .hadolint.yaml; nil for the defaults.
	Config *Config
}

// Check returns every diagnostic for src, in file order.
func Check(src []byte) []engine.Diagnostic { return Analyze(src).Diagnostics }

// Analyze parses src with BuildKit's parser and checks it, with no
// context: see Analyzer for the editor's incremental use.
func Analyze(src []byte) *Result { return new(Analyzer).Analyze(src) }

// Analyzer analyzes successive versions of one Dockerfile, as an editor
// does on every keystroke. It keeps the last parse and each instruction's
// parsed form, so after an edit inside one instruction only that
// instruction is parsed again; the checks that span instructions (stages,
// variables, layers) always run over the whole file. An Analyzer is not
// safe for concurrent use.
type Analyzer struct {
	Options
	shell shellParser
	last  *parse
	// parsed holds each instruction's parsed form by its source text.
	parsed map[string]*instr
}

// maxReparses bounds how many broken instructions are taken out to parse
// the rest of the file.
const maxReparses = 64

// parse is one whole-file parse: BuildKit's AST, or the errors that kept
// instructions out of it.
type parse struct {
	lines []string
	raw   []string // the lines as written, \r kept: the parser reads it

	res    *parser.Result
	errors []engine.Diagnostic // from the parser, with the lines they took out
}

// Analyze checks src. It never stops at the first problem: an instruction
// the parser rejects is reported and blanked out, and the rest of the file
// parsed again, so a half-typed line does not hide the diagnostics of the
// others. A panic in a check (a bug) becomes an error diagnostic rather
// than taking the editor or the engine down.
func (z *Analyzer) Analyze(src []byte) (res *Result) {
	defer func() {
		if r := recover(); r != nil {
			z.last, z.parsed = nil, nil
			res = &Result{Diagnostics: []engine.Diagnostic{{
				Severity: engine.SeverityError, Rule: "SyntaxError", Line: 1, Column: 1, EndLine: 1, EndColumn: 1,
				Message: fmt.Sprintf("Berth's validator failed on this file (a bug: please report it): %v\n%s", r, debug.Stack()),
			}}}
		}
	}()
	lines := splitLines(src)
	p := z.reparse(src, lines)
	if p == nil {
		p = fullParse(src, lines)
	}
	z.last = p
	a := &analysis{lines: lines, opts: z.Options, shell: &z.shell, prevParsed: z.parsed, parsed: map[string]*instr{}}
	for _, d := range p.errors {
		a.diags = append(a.diags, diag{Diagnostic: d})
	}
	if p.res != nil {
		a.escape = p.res.EscapeToken
		a.directives(src)
		for _, w := range p.res.Warnings {
			ln := 1
			if w.Location != nil {
				ln = w.Location.Start.Line
			}
			a.add("NoEmptyContinuation", ln, "Empty continuation line: an empty line inside an instruction continued with "+string(p.res.EscapeToken)+" will become an error", nil)
		}
		a.walk(p.res.AST)
	}
	a.checkContinuation()
	z.parsed = a.parsed
	return &Result{Diagnostics: a.finish(), Steps: a.steps}
}

func fullParse(src []byte, lines []string) *parse {
	p := &parse{lines: lines, raw: rawLines(src)}
	text := src
	for i := 0; ; i++ {
		r, err := parser.Parse(bytes.NewReader(text))
		if err == nil {
			p.res = r
			return p
		}
		start, end, d := parseError(err, lines)
		if d != nil {
			p.errors = append(p.errors, *d)
		}
		if start <= 0 || i >= maxReparses {
			return p
		}
		text = blankLines(text, start, end)
	}
}

// reparse parses only the instruction an edit touched, when the edit
// stays inside one instruction of the last parse and leaves the others as
// they were; nil means a whole parse is needed.
func (z *Analyzer) reparse(src []byte, lines []string) *parse {
	last := z.last
	if last == nil || last.res == nil || len(last.errors) > 0 {
		return nil
	}
	// The lines before and after the edit, compared as written: a \r the
	// lines drop still changes what the parser reads.
	raw := rawLines(src)
	pre := 0
	for pre < len(raw) && pre < len(last.raw) && raw[pre] == last.raw[pre] {
		pre++
	}
	if pre == len(raw) && len(raw) == len(last.raw) {
		return last // unchanged
	}
	post := 0
	for post < len(raw)-pre && post < len(last.raw)-pre && raw[len(raw)-1-post] == last.raw[len(last.raw)-1-post] {
		post++
	}
	// Edited: lines pre+1 .. len(last.lines)-post of the old text (1-based).
	first, lastLine := pre+1, len(last.lines)-post
	nodes := last.res.AST.Children
	i := slices.IndexFunc(nodes, func(n *parser.Node) bool { return n.EndLine >= first })
	if i < 0 || nodes[i].StartLine > first || nodes[i].EndLine < lastLine || len(nodes[i].Heredocs) > 0 {
		return nil
	}
	old := nodes[i]
	delta := len(lines) - len(last.lines)
	newEnd := old.EndLine + delta
	if newEnd < old.StartLine {
		return nil
	}
	region := strings.Join(raw[old.StartLine-1:newEnd], "\n")
	esc := last.res.EscapeToken
	if l := strings.TrimSpace(lines[newEnd-1]); l == "" || strings.HasPrefix(l, "#") || strings.HasSuffix(l, string(esc)) {
		return nil // the instruction may now run on into the lines after it
	}
	prefix := ""
	if esc != '\\' {
		prefix = "# escape=" + string(esc) + "\n"
	}
	r, err := parser.Parse(strings.NewReader(prefix + region))
	if err != nil || len(r.AST.Children) != 1 {
		return nil
	}
	n := r.AST.Children[0]
	offset := old.StartLine - 1 - strings.Count(prefix, "\n")
	if n.StartLine+offset != old.StartLine || n.EndLine+offset != newEnd || len(n.PrevComment) > 0 || len(n.Heredocs) > 0 {
		return nil
	}
	shiftNode(n, offset)
	n.PrevComment = old.PrevComment
	children := make([]*parser.Node, len(nodes))
	copy(children, nodes[:i])
	children[i] = n
	for j := i + 1; j < len(nodes); j++ {
		c := *nodes[j]
		shiftNode(&c, delta)
		children[j] = &c
	}
	ast := *last.res.AST
	ast.Children = children
	res := *last.res
	res.AST = &ast
	// The parser's warnings: the old ones outside the instruction (moved
	// with the lines after it), and the instruction's new ones.
	res.Warnings = nil
	for _, w := range last.res.Warnings {
		if w.Location == nil {
			return nil
		}
		switch ln := w.Location.Start.Line; {
		case ln < old.StartLine:
			res.Warnings = append(res.Warnings, w)
		case ln > old.EndLine:
			res.Warnings = append(res.Warnings, shiftWarning(w, delta))
		}
	}
	for _, w := range r.Warnings {
		if w.Location == nil {
			return nil
		}
		res.Warnings = append(res.Warnings, shiftWarning(w, offset))
	}
	slices.SortStableFunc(res.Warnings, func(x, y parser.Warning) int { return x.Location.Start.Line - y.Location.Start.Line })
	return &parse{lines: lines, raw: raw, res: &res}
}

func shiftWarning(w parser.Warning, delta int) parser.Warning {
	loc := *w.Location
	loc.Start.Line += delta
	loc.End.Line += delta
	w.Location = &loc
	return w
}

// shiftNode moves a node (and the nodes of its arguments) by delta lines.
func shiftNode(n *parser.Node, delta int) {
	if delta == 0 {
		return
	}
	n.StartLine += delta
	n.EndLine += delta
	if n.Next != nil {
		next := *n.Next
		shiftNode(&next, delta)
		n.Next = &next
	}
}

// rawLines are src's lines as the parser reads them.
func rawLines(src []byte) []string {
	return strings.Split(strings.TrimPrefix(string(src), "\ufeff"), "\n")
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

// parseError words an error of the whole-file parser and returns the
// lines of the instruction to take out before parsing again.
func parseError(err error, lines []string) (start, end int, d *engine.Diagnostic) {
	a := &analysis{lines: lines}
	msg := err.Error()
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		loc := le.Locations[0]
		start, end = loc[0].Start.Line, loc[len(loc)-1].End.Line
	}
	msg = strings.TrimPrefix(msg, "dockerfile parse error: ")
	defer func() {
		if len(a.diags) > 0 {
			d = &a.diags[0].Diagnostic
		}
	}()
	switch {
	case strings.Contains(msg, "file with no instructions"):
		a.add("MissingFrom", 1, "The Dockerfile is empty: start it with FROM <image>, e.g. FROM python:3.12-slim", nil)
		return 0, 0, nil
	case strings.Contains(msg, "unterminated heredoc"):
		start = max(start, 1)
		a.add("UnterminatedHeredoc", start, "Unterminated heredoc: no line holds only its closing word, so everything to the end of the file belongs to it", nil)
		return start, len(lines), nil
	case strings.Contains(msg, "escape token"):
		a.add("SyntaxError", 1, msg, nil)
		return 1, 1, nil
	case strings.Contains(msg, "must have two arguments") || strings.Contains(msg, "requires"):
		start = max(start, 1)
		if kw, rest, _ := strings.Cut(strings.TrimSpace(a.line(start)), " "); strings.EqualFold(kw, "ENV") && !strings.ContainsAny(strings.TrimSpace(rest), " =") {
			msg = fmt.Sprintf("ENV %s has no value: write ENV %s=value", strings.TrimSpace(rest), strings.TrimSpace(rest))
		}
		a.add("ArgumentCount", start, upperFirst(msg), nil)
		return start, end, nil
	}
	if start < 1 {
		a.add("SyntaxError", 1, msg, nil)
		return 0, 0, nil
	}
	// ENV A=1 # note fails in the parser itself: the comment is the cause.
	if kw, _, _ := strings.Cut(strings.TrimSpace(a.line(start)), " "); start == end {
		a.checkInlineComment(&parser.Node{Value: kw, StartLine: start, EndLine: end}, strings.ToLower(kw), a.argsText(&parser.Node{Value: kw, StartLine: start, EndLine: end}))
		if len(a.diags) > 0 {
			return start, end, nil
		}
	}
	a.add("SyntaxError", start, msg, nil)
	return start, end, nil
}

// instr is an instruction's parsed form, which depends on its text only
// and so is kept between analyses.
type instr struct {
	cmd   any
	err   error
	lints []lintHit
	// script is a RUN's or HEALTHCHECK's shell line, parsed.
	script *script
	// inner is ONBUILD's instruction.
	inner *instr
}

// lintHit is a check BuildKit's own linter reported while parsing.
type lintHit struct{ rule, msg string }

func (a *analysis) instruction(node *parser.Node) *instr {
	key := strings.Join(a.lines[node.StartLine-1:min(node.EndLine, len(a.lines))], "\n") + "\x00" + strings.Join(node.PrevComment, "\n") + "\x00" + string(a.escapeRune()) + a.experimental
	if in, ok := a.parsed[key]; ok {
		return in
	}
	in, ok := a.prevParsed[key]
	if !ok {
		in = a.parseInstruction(node)
	}
	a.parsed[key] = in
	return in
}

func (a *analysis) parseInstruction(node *parser.Node) *instr {
	in := &instr{}
	lint := linter.New(&linter.Config{
		ExperimentalAll:   a.lintConfig != nil && a.lintConfig.ExperimentalAll,
		ExperimentalRules: a.experimentalRules(),
		Warn: func(rule, _, _, msg string, _ []parser.Range) {
			in.lints = append(in.lints, lintHit{rule, msg})
		},
	})
	in.cmd, in.err = instructions.ParseInstructionWithLinter(node, lint)
	if in.err != nil {
		return in
	}
	switch c := in.cmd.(type) {
	case *instructions.RunCommand:
		// Reads the --mount flags, as the builder does before it runs
		// the step (variables are left as written).
		if err := c.Expand(func(w string) (string, error) { return w, nil }); err != nil {
			in.err = err
			return in
		}
		if src, ok := runScript(c); ok {
			in.script = a.shell.parse(src)
		}
	case *instructions.HealthCheckCommand:
		if c.Health != nil && len(c.Health.Test) == 2 && c.Health.Test[0] == "CMD-SHELL" {
			in.script = a.shell.parse(c.Health.Test[1])
		}
	case *instructions.OnbuildCommand:
		if node.Next != nil && len(node.Next.Children) == 1 {
			inner := node.Next.Children[0]
			in.inner = a.parseInstruction(inner)
		}
	}
	return in
}

func (a *analysis) experimentalRules() []string {
	if a.lintConfig == nil {
		return nil
	}
	return a.lintConfig.ExperimentalRules
}

// runScript is the shell script a RUN runs: its command line, with the
// heredocs it reads attached the way the shell sees them; false for the
// exec form.
func runScript(c *instructions.RunCommand) (string, bool) {
	if !c.PrependShell {
		return "", false
	}
	line := strings.Join(c.CmdLine, " ")
	if len(c.Files) == 0 {
		return line, true
	}
	// RUN <<EOF: the heredoc is the script itself.
	if len(c.Files) == 1 && strings.HasPrefix(strings.TrimSpace(line), "<<") && len(strings.Fields(line)) == 1 {
		return c.Files[0].Data, true
	}
	var b strings.Builder
	b.WriteString(line)
	b.WriteByte('\n')
	for _, f := range c.Files {
		b.WriteString(f.Data)
		if !strings.HasSuffix(f.Data, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(f.Name)
		b.WriteByte('\n')
	}
	return b.String(), true
}
