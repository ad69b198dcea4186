package dockerfile

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// SyncPlan says which saved files of a build context can be copied
// straight into a running container of the image, instead of rebuilding
// it: those the last COPY (or ADD) of the target stage takes from the
// context, when nothing after it reads files (only metadata follows) and
// no other COPY of the build takes them too. The image such a copy gives
// is the one a rebuild would: the same file at the same place.
type SyncPlan struct {
	// Line and Instruction are the COPY's, for messages.
	Line        int
	Instruction string
	dockerfile  string // relative to the context, slash-separated
	last        contextCopy
	others      []contextCopy // every other COPY or ADD from the context
}

// contextCopy is one COPY or ADD from the build context.
type contextCopy struct {
	line    int
	text    string
	add     bool
	sources []string // cleaned, relative to the context, slash-separated
	dest    string   // absolute in the container; "" when not known
	destDir bool     // dest is a folder to copy into
}

// metadataOnly are the instructions that change the image's config, not
// its files: they may follow the synced COPY.
var metadataOnly = map[string]bool{
	"cmd": true, "entrypoint": true, "expose": true, "env": true, "label": true, "user": true,
	"stopsignal": true, "healthcheck": true, "arg": true, "shell": true, "volume": true,
	"onbuild": true, "maintainer": true,
}

// PlanSync reads the Dockerfile src (named dockerfile, relative to the
// context) for the stage target ("" for the last) and says whether saves
// can be synced; when not, the error says why in a sentence.
func PlanSync(src []byte, dockerfile, target string) (*SyncPlan, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("the Dockerfile does not parse: %w", err)
	}
	stages, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		return nil, fmt.Errorf("the Dockerfile does not parse: %w", err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("the Dockerfile has no FROM")
	}
	ti := len(stages) - 1
	if target != "" {
		ti = -1
		for i, st := range stages {
			if strings.EqualFold(st.Name, target) || fmt.Sprint(i) == target {
				ti = i
			}
		}
		if ti < 0 {
			return nil, fmt.Errorf("no stage %q in the Dockerfile", target)
		}
	}
	p := &SyncPlan{dockerfile: filepath.ToSlash(filepath.Clean(cmp.Or(dockerfile, "Dockerfile")))}
	lastAt := -1
	for si, st := range stages[:ti+1] { // later stages are not built
		workdir := "/"
		for ci, cmd := range st.Commands {
			if wd, ok := cmd.(*instructions.WorkdirCommand); ok {
				workdir = joinWorkdir(workdir, wd.Path)
			}
			c, ok := fromContext(cmd, workdir)
			if !ok {
				continue
			}
			p.others = append(p.others, c)
			if si == ti {
				lastAt = ci
			}
		}
	}
	if lastAt < 0 {
		return nil, fmt.Errorf("the final stage copies nothing from the folder")
	}
	final := stages[ti].Commands
	last, _ := fromContext(final[lastAt], "")
	for _, c := range p.others {
		if c.line == last.line {
			last = c // with the WORKDIR it saw
		}
	}
	for _, cmd := range final[lastAt+1:] {
		if !metadataOnly[strings.ToLower(cmd.Name())] && !isWorkdir(cmd) {
			return nil, fmt.Errorf("%s on line %d comes after the last COPY and may use the files", strings.ToUpper(cmd.Name()), cmdLine(cmd))
		}
	}
	switch cc := final[lastAt].(type) {
	case *instructions.CopyCommand:
		if cc.Chown != "" || cc.Chmod != "" || cc.Parents || len(cc.ExcludePatterns) > 0 {
			return nil, fmt.Errorf("%s sets owners, modes or exclusions a plain copy does not", last.text)
		}
	case *instructions.AddCommand:
		if cc.Chown != "" || cc.Chmod != "" || cc.Checksum != "" || len(cc.ExcludePatterns) > 0 {
			return nil, fmt.Errorf("%s sets owners, modes or a checksum a plain copy does not", last.text)
		}
	}
	if last.dest == "" {
		return nil, fmt.Errorf("%s copies to a place that depends on a variable", last.text)
	}
	p.last, p.Line, p.Instruction = last, last.line, last.text
	kept := p.others[:0]
	for _, o := range p.others {
		if o.line != last.line {
			kept = append(kept, o)
		}
	}
	p.others = kept
	return p, nil
}

func isWorkdir(cmd instructions.Command) bool {
	_, ok := cmd.(*instructions.WorkdirCommand)
	return ok
}

func cmdLine(cmd instructions.Command) int {
	if l, ok := cmd.(interface{ Location() []parser.Range }); ok && len(l.Location()) > 0 {
		return l.Location()[0].Start.Line
	}
	return 0
}

func joinWorkdir(cur, p string) string {
	if strings.Contains(cur, "$") || strings.Contains(p, "$") {
		return "$" // unknown from here on
	}
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(cur, p)
}

// fromContext is cmd as a copy from the build context (not --from
// another stage or image, not a URL or git source).
func fromContext(cmd instructions.Command, workdir string) (contextCopy, bool) {
	var sc instructions.SourcesAndDest
	var add bool
	switch c := cmd.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return contextCopy{}, false
		}
		sc = c.SourcesAndDest
	case *instructions.AddCommand:
		sc, add = c.SourcesAndDest, true
	default:
		return contextCopy{}, false
	}
	text := cmd.Name()
	if s, ok := cmd.(fmt.Stringer); ok {
		text = s.String()
	}
	c := contextCopy{line: cmdLine(cmd), text: text, add: add}
	for _, s := range sc.SourcePaths {
		if strings.Contains(s, "://") || strings.HasPrefix(s, "git@") {
			continue // a download, not the context
		}
		c.sources = append(c.sources, strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(s)), "/"))
	}
	if len(sc.SourceContents) > 0 && len(c.sources) == 0 {
		return contextCopy{}, false // a heredoc
	}
	dest := sc.DestPath
	c.destDir = strings.HasSuffix(dest, "/") || dest == "." || len(sc.SourcePaths) > 1
	if !strings.Contains(dest, "$") && workdir != "$" {
		if workdir == "" {
			workdir = "/"
		}
		if !path.IsAbs(dest) {
			dest = path.Join(workdir, dest)
		}
		c.dest = path.Clean(dest)
	}
	return c, true
}

// covers says where c puts rel (a file of the context, slash-separated),
// or ok=false when c does not take it. ctx is the context folder, asked
// whether a source is a folder.
func (c contextCopy) covers(ctx, rel string) (dest string, ok bool) {
	for _, src := range c.sources {
		switch {
		case src == "":
			return path.Join(c.dest, rel), true
		case strings.ContainsAny(src, "*?["):
			if m, _ := path.Match(src, rel); m {
				return path.Join(c.dest, path.Base(rel)), true
			}
			// a pattern matching a folder copies its content
			for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
				if m, _ := path.Match(src, dir); m {
					return path.Join(c.dest, strings.TrimPrefix(rel, dir+"/")), true
				}
			}
		case rel == src:
			if c.destDir {
				return path.Join(c.dest, path.Base(rel)), true
			}
			return c.dest, true
		case strings.HasPrefix(rel, src+"/"):
			if fi, err := os.Stat(filepath.Join(ctx, filepath.FromSlash(src))); err == nil && fi.IsDir() {
				return path.Join(c.dest, strings.TrimPrefix(rel, src+"/")), true
			}
		}
	}
	return "", false
}

// Target is where a saved file goes in the container, or why it cannot
// be synced (then the image must be rebuilt). ctx is the context folder;
// rel is the file, relative to it.
func (p *SyncPlan) Target(ctx, rel string) (string, error) {
	rel = filepath.ToSlash(filepath.Clean(rel))
	if rel == p.dockerfile || rel == ".dockerignore" || rel == p.dockerfile+".dockerignore" { // the ignore rules changed
		return "", fmt.Errorf("%s changed", rel)
	}
	for _, o := range p.others {
		if _, ok := o.covers(ctx, rel); ok {
			return "", fmt.Errorf("%s is also copied by %s (line %d)", rel, o.text, o.line)
		}
	}
	dest, ok := p.last.covers(ctx, rel)
	if !ok {
		return "", fmt.Errorf("%s is not copied by %s", rel, p.Instruction)
	}
	if p.last.add && isArchiveName(rel) {
		return "", fmt.Errorf("ADD unpacks %s", rel)
	}
	return dest, nil
}

// isArchiveName is a file ADD would unpack rather than copy.
func isArchiveName(name string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst"} {
		if strings.HasSuffix(strings.ToLower(name), ext) {
			return true
		}
	}
	return false
}
