package build

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/buildcontext"
	"github.com/berth-dev/berth/engine/iox"
	"github.com/berth-dev/berth/engine/runtime"
	"github.com/berth-dev/berth/engine/store"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// copyFlags are COPY's and ADD's options.
type copyFlags struct {
	from, chown, chmod string
	exclude            []string
	parents            bool
	add, unpack        bool
	checksum           string // ADD --checksum=sha256:…: what a download must hash to
	keepGitDir         bool   // ADD --keep-git-dir of a Git repository
}

// source is one thing to copy.
type source struct {
	rel     string // inside the source root, "" for the root itself
	isDir   bool
	url     string // ADD of a URL: downloaded to file
	file    string
	name    string // for URLs and heredocs: the file name to use
	content []byte // heredoc content
	mtime   time.Time
	archive bool   // ADD of a local archive: extracted
	gitRoot string // ADD of a Git repository: where it was cloned
	// keep, for COPY --parents, is the path below dest the source keeps:
	// its path in the context, or after a "/./" pivot.
	keep string
}

// planCopy works out what a COPY or ADD copies, hashes it for the cache
// key, and returns the op that copies it.
func (bd *build) planCopy(st *stage, sd instructions.SourcesAndDest, f copyFlags, kind, text string) (*op, error) {
	if f.parents && f.from != "" {
		return nil, fmt.Errorf("%s --parents with --from is not supported by this builder: %w", kind, engine.ErrNotSupported)
	}
	var mode *os.FileMode
	if f.chmod != "" {
		m, err := strconv.ParseUint(f.chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return nil, fmt.Errorf("invalid --chmod=%s: use octal permissions such as 755: %w", f.chmod, engine.ErrInvalidArgument)
		}
		fm := os.FileMode(m)
		mode = &fm
	}
	var exclude *patternmatcher.PatternMatcher
	if len(f.exclude) > 0 {
		pm, err := patternmatcher.New(f.exclude)
		if err != nil {
			return nil, err
		}
		exclude = pm
	}
	o := &op{kind: kind, history: text}
	key := []string{f.chown, f.chmod, strings.Join(f.exclude, "\x00"), fmt.Sprint(f.unpack), fmt.Sprint(f.parents), f.checksum, fmt.Sprint(f.keepGitDir)}

	// Where the sources come from: the context, a named context's folder,
	// or the layers of a stage or an image, mounted read-only.
	srcRoot := bd.opts.ContextDir
	ignore := bd.ignore
	var fromLayers []store.Layer
	layered := false
	if f.from != "" {
		ignore = nil
		if nc := bd.opts.NamedContexts[f.from]; nc.Dir != "" {
			srcRoot = nc.Dir
			key = append(key, "named context", f.from)
		} else {
			layers, k, err := bd.stageOrImageLayers(st, f.from)
			if err != nil {
				return nil, fmt.Errorf("COPY --from=%s: %w", f.from, err)
			}
			fromLayers, layered = layers, true
			key = append(key, k...)
		}
	}

	var sources []source
	resolve := func(root string) error {
		for _, p := range sd.SourcePaths {
			if f.add && buildcontext.IsGit(p) && f.from == "" {
				s, h, err := bd.cloneSource(p, f.keepGitDir)
				if err != nil {
					return err
				}
				o.cleanup = chain(o.cleanup, func() { os.RemoveAll(s.file) })
				sources = append(sources, s)
				key = append(key, "git", p, h)
				continue
			}
			if f.add && isURL(p) {
				if f.from != "" {
					return fmt.Errorf("COPY --from cannot copy a URL")
				}
				s, err := bd.download(p)
				if err != nil {
					return err
				}
				o.cleanup = chain(o.cleanup, func() { os.Remove(s.file) })
				sum := hashFile(s.file)
				if want, ok := strings.CutPrefix(f.checksum, "sha256:"); f.checksum != "" && (!ok || want != sum) {
					return fmt.Errorf("ADD --checksum=%s: %s downloaded with sha256:%s: %w", f.checksum, p, sum, engine.ErrInvalidArgument)
				}
				sources = append(sources, s)
				key = append(key, "url", p, s.name, sum, s.mtime.String())
				continue
			}
			if f.checksum != "" {
				return fmt.Errorf("ADD --checksum checks downloads; %s is not a URL: %w", p, engine.ErrInvalidArgument)
			}
			// COPY --parents keeps what follows a "/./" in the source
			// (its whole path without one).
			pivot := ""
			if f.parents {
				if before, _, ok := strings.Cut(filepath.ToSlash(p), "/./"); ok {
					pivot = strings.TrimPrefix(path.Clean("/"+before), "/")
				}
			}
			matches, err := matchSources(root, p, ignore)
			if err != nil {
				return err
			}
			for _, m := range matches {
				s := source{rel: m.rel, isDir: m.isDir}
				if f.parents {
					s.keep = m.rel
					if pivot != "" {
						s.keep = strings.TrimPrefix(strings.TrimPrefix(m.rel, pivot), "/")
					}
				}
				if f.add && f.unpack && !m.isDir {
					s.archive = isArchive(filepath.Join(root, m.real))
				}
				if !layered {
					if o.inputFiles == nil {
						o.inputFiles = map[string]string{}
					}
					h, err := hashTree(bd.ctx, root, m.real, m.rel, ignore, exclude, o.inputFiles)
					if err != nil {
						return err
					}
					key = append(key, m.rel, h, fmt.Sprint(s.archive))
				} else {
					key = append(key, m.rel)
				}
				s.rel = m.real
				sources = append(sources, s)
			}
		}
		return nil
	}
	var err error
	if layered {
		err = bd.withReadOnly(fromLayers, resolve)
	} else {
		err = resolve(srcRoot)
	}
	if err != nil {
		return nil, err
	}
	for _, c := range sd.SourceContents {
		sources = append(sources, source{name: path.Base(c.Path), content: []byte(c.Data)})
		key = append(key, "heredoc", c.Path, c.Data)
	}

	dest := sd.DestPath
	destIsDir := strings.HasSuffix(dest, "/") || dest == "." || strings.HasSuffix(dest, "/.") || f.parents
	if !path.IsAbs(dest) {
		dest = path.Join("/", st.cfg.Config.WorkingDir, dest)
	}
	dest = path.Clean(dest)
	if len(sources) > 1 && !destIsDir {
		return nil, fmt.Errorf("when using %s with more than one source file, the destination must be a directory and end with a /: %w", kind, engine.ErrInvalidArgument)
	}
	key = append(key, dest, fmt.Sprint(destIsDir))
	o.key = key

	o.files = func(root string) error {
		owner, err := resolveOwner(root, f.chown)
		if err != nil {
			return err
		}
		c := &copier{ctx: bd.ctx, root: root, owner: owner, mode: mode, ignore: ignore, exclude: exclude}
		do := func(srcRoot string) error {
			for _, s := range sources {
				d, isDir := dest, destIsDir
				if s.keep != "" { // COPY --parents: the source's own path below dest
					d, isDir = path.Join(dest, s.keep), s.isDir
					if err := mkdirAllIn(c.root, path.Dir(d), c.owner); err != nil {
						return err
					}
				}
				if err := c.copySource(srcRoot, s, d, isDir); err != nil {
					return err
				}
			}
			return nil
		}
		if layered {
			return bd.withReadOnly(fromLayers, do)
		}
		return do(srcRoot)
	}
	return o, nil
}

// stageOrImageLayers are the layers COPY --from=name and RUN
// --mount=from=name read: a --build-context image's, an earlier stage's,
// or an image's; and what of them goes into the key. (A --build-context
// folder is not layers: the callers take it first.)
func (bd *build) stageOrImageLayers(st *stage, name string) ([]store.Layer, []string, error) {
	ref := name
	if nc, named := bd.opts.NamedContexts[name]; named {
		ref = nc.Image
	} else if j, ok := bd.df.stageIndex(name, st.index); ok {
		src := bd.stages[j]
		if src == nil || !src.done {
			return nil, nil, fmt.Errorf("that stage is not built before this one")
		}
		return src.layers, []string{"stage", src.key}, nil
	} else if _, isLater := bd.df.stageIndex(name, len(bd.df.stages)); isLater {
		return nil, nil, fmt.Errorf("that names a stage defined later in the Dockerfile; stages can only use earlier ones: %w", engine.ErrInvalidArgument)
	}
	id, err := bd.baseImage(ref, st.name)
	if err != nil {
		if ref != name {
			return nil, nil, fmt.Errorf("--build-context %s=docker-image://%s: %w", name, ref, err)
		}
		return nil, nil, fmt.Errorf("no stage has that name, and as an image: %w", err)
	}
	_, layers, err := bd.b.store.ConfigFile(id)
	if err != nil {
		return nil, nil, err
	}
	return layers, []string{"image", id}, nil
}

func chain(a, b func()) func() {
	if a == nil {
		return b
	}
	return func() { a(); b() }
}

type match struct {
	rel   string // as matched, relative to the source root
	real  string // after following a symlink source, relative to the root
	isDir bool
}

// matchSources finds what a COPY source names: a path or a glob, relative
// to the root (leading "/" and ".." cannot leave it). A source that is a
// symlink is followed inside the root; nothing outside is ever read.
func matchSources(root, src string, ignore *patternmatcher.PatternMatcher) ([]match, error) {
	clean := strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(src)), "/")
	var rels []string
	if strings.ContainsAny(clean, "*?[") {
		var err error
		rels, err = glob(root, clean)
		if err != nil {
			return nil, err
		}
	} else {
		rels = []string{clean}
	}
	var out []match
	for _, rel := range rels {
		if rel != "" && ignored(ignore, rel) {
			continue
		}
		real, err := securejoin.SecureJoin(root, rel)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(real)
		if err != nil {
			continue
		}
		realRel, _ := filepath.Rel(root, real)
		if realRel == "." {
			realRel = ""
		}
		out = append(out, match{rel: rel, real: realRel, isDir: fi.IsDir()})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q not found: no such file or directory in the build context (or it is excluded by .dockerignore); source paths are relative to the build context, the folder being built: %w", src, engine.ErrNotFound)
	}
	return out, nil
}

// glob matches pattern one path element at a time below root.
func glob(root, pattern string) ([]string, error) {
	parts := strings.Split(pattern, "/")
	cur := []string{""}
	for _, part := range parts {
		var next []string
		for _, dir := range cur {
			if !strings.ContainsAny(part, "*?[") {
				p := path.Join(dir, part)
				if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
					next = append(next, p)
				}
				continue
			}
			entries, err := os.ReadDir(filepath.Join(root, dir))
			if err != nil {
				continue
			}
			for _, e := range entries {
				ok, err := path.Match(part, e.Name())
				if err != nil {
					return nil, fmt.Errorf("bad pattern %q: %w", pattern, engine.ErrInvalidArgument)
				}
				if ok {
					next = append(next, path.Join(dir, e.Name()))
				}
			}
		}
		cur = next
	}
	return cur, nil
}

func ignored(pm *patternmatcher.PatternMatcher, rel string) bool {
	if pm == nil || rel == "" {
		return false
	}
	m, _ := pm.MatchesOrParentMatches(rel)
	return m
}

// hashTree hashes what copying rel would copy: names, types, permission
// bits, link targets and contents, so only a real change misses the
// cache; and records each file's own hash in files under its context
// path, for why a step reran.
func hashTree(ctx context.Context, root, real, rel string, ignore, exclude *patternmatcher.PatternMatcher, files map[string]string) (string, error) {
	h := sha256.New()
	base := filepath.Join(root, real)
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sub, _ := filepath.Rel(base, p)
		ctxRel := path.Join(rel, filepath.ToSlash(sub))
		if sub != "." && (ignored(ignore, ctxRel) || ignored(exclude, filepath.ToSlash(sub))) {
			if d.IsDir() && (ignore == nil || !ignore.Exclusions()) {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00", sub, fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			fmt.Fprintf(h, "%s\x00", t)
			if files != nil {
				files[ctxRel] = fmt.Sprintf("%o->%s", fi.Mode(), t)
			}
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("read %s from the build context: %w", ctxRel, err)
			}
			fh := sha256.New()
			_, err = io.Copy(fh, f)
			f.Close()
			if err != nil {
				return err
			}
			sum := hex.EncodeToString(fh.Sum(nil))
			fmt.Fprintf(h, "%s\x00", sum)
			if files != nil {
				files[ctxRel] = fmt.Sprintf("%o:%s", fi.Mode(), sum)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

type owner struct{ uid, gid int }

// resolveOwner reads "user[:group]" against the image's own /etc/passwd
// and /etc/group; empty means root.
func resolveOwner(root, spec string) (owner, error) {
	if spec == "" {
		return owner{}, nil
	}
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, uerr := strconv.Atoi(u)
	gid, gerr := strconv.Atoi(g)
	if uerr == nil && (!hasGroup || gerr == nil) {
		if !hasGroup {
			gid = uid
			if eu, err := runtime.LookupUser(root, u, &user.ExecUser{}); err == nil {
				gid = eu.Gid
			}
		}
		return owner{uid, gid}, nil
	}
	eu, err := runtime.LookupUser(root, spec, &user.ExecUser{})
	if err != nil {
		return owner{}, fmt.Errorf("unable to find user or group %q in the image's /etc/passwd and /etc/group: %w", spec, engine.ErrInvalidArgument)
	}
	return owner{eu.Uid, eu.Gid}, nil
}

// mkdirAllIn makes dir (absolute inside root) and its missing parents,
// owned by o, resolving symlinks inside root.
func mkdirAllIn(root, dir string, o owner) error {
	p, err := securejoin.SecureJoin(root, dir)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(p); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists in the image and is not a directory", dir)
		}
		return nil
	}
	parent := path.Dir(dir)
	if parent != dir {
		if err := mkdirAllIn(root, parent, o); err != nil {
			return err
		}
	}
	p, err = securejoin.SecureJoin(root, dir)
	if err != nil {
		return err
	}
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return os.Lchown(p, o.uid, o.gid)
}

// copier writes sources into a mounted stage filesystem.
type copier struct {
	ctx     context.Context
	root    string
	owner   owner
	mode    *os.FileMode
	ignore  *patternmatcher.PatternMatcher
	exclude *patternmatcher.PatternMatcher
	buf     []byte
}

func (c *copier) copySource(srcRoot string, s source, dest string, destIsDir bool) error {
	switch {
	case s.content != nil:
		target := dest
		if destIsDir {
			target = path.Join(dest, s.name)
		}
		return c.writeFile(target, func(w io.Writer) error { _, err := w.Write(s.content); return err }, 0o644, time.Now())
	case s.url != "":
		target := dest
		if destIsDir {
			target = path.Join(dest, s.name)
		}
		return c.copyFile(s.file, target, 0o600, s.mtime)
	case s.isDir:
		if err := mkdirAllIn(c.root, dest, c.owner); err != nil {
			return err
		}
		if s.gitRoot != "" { // a cloned repository: the context's .dockerignore is not its
			cc := *c
			cc.ignore = nil
			return cc.copyTree(s.gitRoot, s.rel, dest)
		}
		return c.copyTree(srcRoot, s.rel, dest)
	case s.archive:
		if err := mkdirAllIn(c.root, dest, c.owner); err != nil {
			return err
		}
		return c.extract(filepath.Join(srcRoot, s.rel), dest)
	}
	src := filepath.Join(srcRoot, s.rel)
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	target := dest
	if destIsDir {
		target = path.Join(dest, path.Base(s.rel))
	} else if p, err := securejoin.SecureJoin(c.root, dest); err == nil {
		if dfi, err := os.Stat(p); err == nil && dfi.IsDir() {
			target = path.Join(dest, path.Base(s.rel))
		}
	}
	return c.copyFile(src, target, fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), fi.ModTime())
}

// copyTree copies the contents of srcRoot/rel into dest.
func (c *copier) copyTree(srcRoot, rel, dest string) error {
	base := filepath.Join(srcRoot, rel)
	type dirTime struct {
		p string
		t time.Time
	}
	var dirs []dirTime
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := c.ctx.Err(); err != nil {
			return err
		}
		sub, _ := filepath.Rel(base, p)
		sub = filepath.ToSlash(sub)
		ctxRel := path.Join(rel, sub)
		if sub != "." && (ignored(c.ignore, ctxRel) || ignored(c.exclude, sub)) {
			if d.IsDir() && (c.ignore == nil || !c.ignore.Exclusions()) {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		target := path.Join(dest, sub)
		switch {
		case fi.IsDir():
			if sub == "." {
				return nil // dest itself exists already
			}
			if err := mkdirAllIn(c.root, path.Dir(target), c.owner); err != nil {
				return err
			}
			tp, err := securejoin.SecureJoin(c.root, target)
			if err != nil {
				return err
			}
			if efi, err := os.Lstat(tp); err == nil && !efi.IsDir() {
				os.Remove(tp)
			}
			if err := os.Mkdir(tp, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
			if err := c.setMeta(tp, c.modeFor(fi)); err != nil {
				return err
			}
			dirs = append(dirs, dirTime{tp, fi.ModTime()})
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := mkdirAllIn(c.root, path.Dir(target), c.owner); err != nil {
				return err
			}
			parent, err := securejoin.SecureJoin(c.root, path.Dir(target))
			if err != nil {
				return err
			}
			tp := filepath.Join(parent, path.Base(target))
			os.RemoveAll(tp)
			if err := os.Symlink(link, tp); err != nil {
				return err
			}
			if err := os.Lchown(tp, c.owner.uid, c.owner.gid); err != nil {
				return err
			}
			t := fi.ModTime()
			unix.UtimesNanoAt(unix.AT_FDCWD, tp, []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}, unix.AT_SYMLINK_NOFOLLOW)
		case fi.Mode().IsRegular():
			if err := c.copyFile(p, target, c.modeFor(fi), fi.ModTime()); err != nil {
				return err
			}
		}
		return nil // devices, sockets and pipes are not copied
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chtimes(dirs[i].p, dirs[i].t, dirs[i].t)
	}
	return nil
}

func (c *copier) modeFor(fi fs.FileInfo) os.FileMode {
	if c.mode != nil {
		return *c.mode
	}
	return fi.Mode().Perm() | fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
}

func (c *copier) copyFile(src, target string, mode os.FileMode, mtime time.Time) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	defer in.Close()
	if c.mode != nil {
		mode = *c.mode
	}
	return c.writeFile(target, func(w io.Writer) error {
		if c.buf == nil {
			c.buf = make([]byte, 256<<10)
		}
		_, err := io.CopyBuffer(w, in, c.buf)
		return err
	}, mode, mtime)
}

// writeFile makes target (absolute inside root) a regular file written by
// fill, replacing whatever non-directory was there.
func (c *copier) writeFile(target string, fill func(io.Writer) error, mode os.FileMode, mtime time.Time) error {
	if err := mkdirAllIn(c.root, path.Dir(target), c.owner); err != nil {
		return err
	}
	parent, err := securejoin.SecureJoin(c.root, path.Dir(target))
	if err != nil {
		return err
	}
	tp := filepath.Join(parent, path.Base(target))
	if fi, err := os.Lstat(tp); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("cannot copy a file to %s: a directory of that name exists", target)
		}
		os.Remove(tp)
	}
	out, err := os.OpenFile(tp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := fill(out); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := c.setMeta(tp, mode); err != nil {
		return err
	}
	return os.Chtimes(tp, mtime, mtime)
}

func (c *copier) setMeta(p string, mode os.FileMode) error {
	if err := os.Lchown(p, c.owner.uid, c.owner.gid); err != nil {
		return err
	}
	return os.Chmod(p, mode) // after chown, which clears setuid bits
}

// isArchive says whether ADD unpacks the file: a tar, plain or compressed
// with gzip, bzip2, xz or zstd.
func isArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := iox.Decompress(f)
	if err != nil {
		return false
	}
	defer r.Close()
	_, err = tar.NewReader(r).Next()
	return err == nil
}

// extract unpacks an archive into dest. Every name is resolved inside the
// root, so "../" and symlinks in the archive cannot write outside it.
func (c *copier) extract(archive, dest string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := iox.Decompress(f)
	if err != nil {
		return err
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", filepath.Base(archive), err)
		}
		name := path.Clean("/" + hdr.Name)
		if name == "/" {
			continue
		}
		target := path.Join(dest, name)
		o := owner{hdr.Uid, hdr.Gid}
		if c.owner != (owner{}) {
			o = c.owner
		}
		if err := mkdirAllIn(c.root, path.Dir(target), c.owner); err != nil {
			return err
		}
		parent, err := securejoin.SecureJoin(c.root, path.Dir(target))
		if err != nil {
			return err
		}
		tp := filepath.Join(parent, path.Base(target))
		mode := os.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if fi, err := os.Lstat(tp); err == nil && !fi.IsDir() {
				os.Remove(tp)
			}
			if err := os.Mkdir(tp, mode); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
			os.Lchown(tp, o.uid, o.gid)
			os.Chmod(tp, mode)
		case tar.TypeReg, tar.TypeRegA:
			cc := *c
			cc.owner = o
			if err := cc.writeFile(target, func(w io.Writer) error { _, err := io.Copy(w, tr); return err }, mode, hdr.ModTime); err != nil {
				return err
			}
		case tar.TypeSymlink:
			os.RemoveAll(tp)
			if err := os.Symlink(hdr.Linkname, tp); err != nil {
				return err
			}
			os.Lchown(tp, o.uid, o.gid)
		case tar.TypeLink:
			src, err := securejoin.SecureJoin(c.root, path.Join(dest, path.Clean("/"+hdr.Linkname)))
			if err != nil {
				return err
			}
			os.RemoveAll(tp)
			if err := os.Link(src, tp); err != nil {
				return fmt.Errorf("unpack %s: hard link %s: %w", filepath.Base(archive), hdr.Name, err)
			}
		}
	}
}

// cloneSource is ADD of a Git repository: cloned (without .git unless
// --keep-git-dir) and copied as a folder. The key is its files' hash.
func (bd *build) cloneSource(url string, keepGitDir bool) (source, string, error) {
	dir, err := os.MkdirTemp(filepath.Join(bd.b.dir, "contexts"), "git-")
	if err != nil {
		return source{}, "", err
	}
	got, err := buildcontext.FetchGit(bd.ctx, url, dir, keepGitDir)
	if err != nil {
		os.RemoveAll(dir)
		return source{}, "", fmt.Errorf("ADD %s: %w", url, err)
	}
	rel, _ := filepath.Rel(dir, got.Dir)
	if rel == "." {
		rel = ""
	}
	h, err := hashTree(bd.ctx, dir, rel, "", nil, nil, nil)
	if err != nil {
		os.RemoveAll(dir)
		return source{}, "", err
	}
	return source{file: dir, rel: rel, isDir: true, gitRoot: dir}, h, nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// download fetches an ADD URL into a temporary file.
func (bd *build) download(raw string) (source, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return source{}, fmt.Errorf("ADD %s: %w", raw, err)
	}
	req, err := http.NewRequestWithContext(bd.ctx, http.MethodGet, raw, nil)
	if err != nil {
		return source{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return source{}, fmt.Errorf("ADD %s: %w: %w", raw, err, engine.ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return source{}, fmt.Errorf("ADD %s: the server answered %s", raw, resp.Status)
	}
	f, err := os.CreateTemp(filepath.Join(bd.b.dir, "contexts"), "download-")
	if err != nil {
		return source{}, err
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		os.Remove(f.Name())
		return source{}, fmt.Errorf("ADD %s: %w", raw, err)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		name = "index.html"
	}
	mtime := time.Now()
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		mtime = lm
	}
	return source{url: raw, file: f.Name(), name: name, mtime: mtime}, nil
}
