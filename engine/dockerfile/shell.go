package dockerfile

import (
	"errors"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// script is what the checks need of a shell command line (a RUN body or a
// HEALTHCHECK CMD), parsed by a real shell parser (mvdan.cc/sh, in bash
// mode: the most permissive of the shells images carry, so a line it
// rejects fails in sh too).
type script struct {
	cmds []command
	// sets are the variables the script gives a value itself: VAR=x,
	// export, read, for loops. uses are the ones it reads.
	sets map[string]bool
	uses []string
	// pipeBeforePipefail: a pipe runs before any set -o pipefail.
	pipeBeforePipefail bool
	// err is the shell's syntax error, if the line has one.
	err *syntax.ParseError
}

// command is one simple command, with its words as the shell passes them
// (quotes removed; a parameter expansion kept as $NAME).
type command struct {
	words []string
	// env holds the command's own assignments (FOO=1 pip install …).
	env map[string]string
	// pipedTo: the command's output goes into the next command.
	pipedTo bool
}

// shellParser parses command lines; one per analysis (it is not safe for
// concurrent use).
type shellParser struct{ p *syntax.Parser }

func (sp *shellParser) parse(src string) *script {
	if sp.p == nil {
		sp.p = syntax.NewParser(syntax.Variant(syntax.LangBash))
	}
	s := &script{sets: map[string]bool{}}
	f, err := sp.p.Parse(strings.NewReader(src), "")
	if err != nil {
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			s.err = &pe
		}
		return s
	}
	pipefail := false
	for _, st := range f.Stmts {
		s.stmt(st, false, &pipefail)
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ParamExp:
			if n.Param != nil && isName(n.Param.Value) && n.Exp == nil && !n.Length && !n.Excl {
				s.uses = append(s.uses, n.Param.Value)
			}
		case *syntax.Assign:
			if n.Name != nil {
				s.sets[n.Name.Value] = true
			}
		case *syntax.WordIter:
			s.sets[n.Name.Value] = true
		}
		return true
	})
	return s
}

// stmt walks statements in the order the shell runs them, flattening
// lists and pipes into s.cmds.
func (s *script) stmt(st *syntax.Stmt, piped bool, pipefail *bool) {
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		cmd := command{pipedTo: piped, env: map[string]string{}}
		for _, a := range c.Assigns {
			if a.Name != nil {
				cmd.env[a.Name.Value] = wordText(a.Value)
			}
		}
		for _, w := range c.Args {
			cmd.words = append(cmd.words, wordText(w))
		}
		if len(cmd.words) > 0 {
			switch cmd.words[0] {
			case "set":
				for i, w := range cmd.words {
					if w == "pipefail" && i > 0 && strings.HasPrefix(cmd.words[i-1], "-") && strings.HasSuffix(cmd.words[i-1], "o") {
						*pipefail = true
					}
				}
			case "read", "getopts":
				for _, w := range cmd.words[1:] {
					if isName(w) {
						s.sets[w] = true
					}
				}
			}
		}
		s.cmds = append(s.cmds, cmd)
	case *syntax.BinaryCmd:
		pipe := c.Op == syntax.Pipe || c.Op == syntax.PipeAll
		if pipe && !*pipefail {
			s.pipeBeforePipefail = true
		}
		s.stmt(c.X, pipe, pipefail)
		s.stmt(c.Y, piped, pipefail)
	case *syntax.Block:
		for _, st := range c.Stmts {
			s.stmt(st, false, pipefail)
		}
	case *syntax.Subshell:
		for _, st := range c.Stmts {
			s.stmt(st, false, pipefail)
		}
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			for _, st := range ic.Cond {
				s.stmt(st, false, pipefail)
			}
			for _, st := range ic.Then {
				s.stmt(st, false, pipefail)
			}
		}
	case *syntax.WhileClause:
		for _, st := range c.Cond {
			s.stmt(st, false, pipefail)
		}
		for _, st := range c.Do {
			s.stmt(st, false, pipefail)
		}
	case *syntax.ForClause:
		for _, st := range c.Do {
			s.stmt(st, false, pipefail)
		}
	case *syntax.CaseClause:
		for _, item := range c.Items {
			for _, st := range item.Stmts {
				s.stmt(st, false, pipefail)
			}
		}
	case *syntax.DeclClause:
		cmd := command{pipedTo: piped, env: map[string]string{}, words: []string{c.Variant.Value}}
		for _, a := range c.Args {
			if a.Name != nil {
				s.sets[a.Name.Value] = true
				cmd.words = append(cmd.words, a.Name.Value+"="+wordText(a.Value))
			}
		}
		s.cmds = append(s.cmds, cmd)
	}
}

// wordText is a word as the command receives it, near enough for the
// checks: quotes removed, expansions kept as written.
func wordText(w *syntax.Word) string {
	if w == nil {
		return ""
	}
	if lit := w.Lit(); lit != "" {
		return lit
	}
	var b strings.Builder
	partsText(&b, w.Parts)
	return b.String()
}

func partsText(b *strings.Builder, parts []syntax.WordPart) {
	for _, p := range parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			partsText(b, p.Parts)
		case *syntax.ParamExp:
			if p.Param != nil {
				b.WriteString("$" + p.Param.Value)
			} else {
				b.WriteString("$")
			}
		case *syntax.CmdSubst:
			b.WriteString("$(…)")
		default:
			b.WriteString("…")
		}
	}
}

func isName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// program is the command's program name, past sudo, env and the like;
// inline assignments after env count as the command's own.
func (c command) program() (name string, args []string, sudo bool) {
	w := c.words
	for len(w) > 0 {
		switch {
		case w[0] == "sudo":
			sudo = true
		case w[0] == "env" || w[0] == "exec" || w[0] == "time" || w[0] == "nohup" || w[0] == "command":
		case strings.Contains(w[0], "=") && !strings.HasPrefix(w[0], "-") && isName(w[0][:strings.IndexByte(w[0], '=')]):
		case sudo && strings.HasPrefix(w[0], "-"):
		default:
			name = w[0]
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				name = name[i+1:]
			}
			return name, w[1:], sudo
		}
		w = w[1:]
	}
	return "", nil, sudo
}

// setsEnv says whether the command line gives name a value for this
// command: an inline assignment, or env NAME=value.
func (c command) setsEnv(name string) bool {
	if _, ok := c.env[name]; ok {
		return true
	}
	for _, w := range c.words {
		if strings.HasPrefix(w, name+"=") {
			return true
		}
	}
	return false
}
