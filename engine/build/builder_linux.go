package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/dockerfile"
	"github.com/berth-dev/berth/engine/dockerignore"
	"github.com/berth-dev/berth/engine/runtime"
	"github.com/berth-dev/berth/engine/store"
	securejoin "github.com/cyphar/filepath-securejoin"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
)

// Store is what the builder needs from the image store.
type Store interface {
	TempDir(prefix string) (string, error)
	AddLayer(ctx context.Context, dir string) (store.Layer, bool, func(), error)
	HasLayer(l store.Layer) bool
	Lease(digests ...string) func()
	Commit(ctx context.Context, cfg v1.ConfigFile, layers []store.Layer, names []string) (string, error)
	ConfigFile(nameOrID string) (*v1.ConfigFile, []store.Layer, error)
	Resolve(nameOrID string) (id, manifest string, err error)
	LayerPath(diffID string) string
	Collect() (int64, error)
}

// Puller fetches base images.
type Puller interface {
	Pull(ctx context.Context, ref string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error)
	// PullPlatform fetches a base image for another platform, unnamed.
	PullPlatform(ctx context.Context, ref, platform string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error)
}

// emulator runs programs for other CPUs (runtime.EnsureEmulation).
type emulator interface {
	EnsureEmulation(arch string) error
}

// Runner runs RUN steps.
type Runner interface {
	RunStep(ctx context.Context, st runtime.Step) (int, error)
}

// Builder builds images. It is safe for concurrent builds.
type Builder struct {
	dir   string // <data-root>/build: the cache, mount points, contexts
	store Store
	pull  Puller
	run   Runner
	cache *cache
}

var _ engine.Builder = (*Builder)(nil)

// New opens the builder's state under dir (its cache survives restarts).
func New(dir string, st Store, pull Puller, run Runner) (*Builder, error) {
	for _, d := range []string{dir, filepath.Join(dir, "mnt"), filepath.Join(dir, "contexts")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
	}
	// Leftovers of builds a crash cut off.
	for _, sub := range []string{"mnt", "contexts"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range entries {
			p := filepath.Join(dir, sub, e.Name())
			unmount(p)
			os.RemoveAll(p)
		}
	}
	c, err := openCache(cachePath(dir))
	if err != nil {
		return nil, err
	}
	return &Builder{dir: dir, store: st, pull: pull, run: run, cache: c}, nil
}

// CacheUsage is the build cache's entries that hold layers.
func (b *Builder) CacheUsage() []engine.BuildCacheUsage { return b.cache.usage() }

// CacheRoots are the digests the build cache holds, for store.WithRoots.
func (b *Builder) CacheRoots() []string { return b.cache.digests() }

// ContextDir makes a directory for an uploaded build context; the caller
// removes it after the build.
func (b *Builder) ContextDir() (string, error) {
	return os.MkdirTemp(filepath.Join(b.dir, "contexts"), "ctx-")
}

// PruneCache forgets cached steps and frees the layers no image uses.
// The classic builder's cache is all "dangling" (no image names it), so
// with or without all every entry goes; a build running now keeps its
// layers through its leases.
func (b *Builder) PruneCache(ctx context.Context, all bool) (engine.BuildCacheReport, error) {
	keys, layers := b.cache.clear()
	if err := b.cache.save(); err != nil {
		return engine.BuildCacheReport{}, err
	}
	var report engine.BuildCacheReport
	for _, k := range keys {
		report.Deleted = append(report.Deleted, k[:12])
	}
	sort.Strings(report.Deleted)
	before := map[string]bool{}
	for id, l := range layers {
		if b.store.HasLayer(l) {
			before[id] = true
		}
	}
	if _, err := b.store.Collect(); err != nil {
		return report, err
	}
	for id, l := range layers {
		if before[id] && !b.store.HasLayer(l) {
			report.Reclaimed += l.Size + l.Unpacked
		}
	}
	return report, nil
}

// stage is one stage's state while it builds.
type stage struct {
	index    int
	name     string
	platform v1.Platform
	key      string // cache key of the state so far
	layers   []store.Layer
	cfg      v1.ConfigFile
	// args are the build arguments in scope, in order of declaration.
	args   []kv
	cmdSet bool // CMD given in this stage (ENTRYPOINT keeps it)
	done   bool
	// For why a step reran: the stage's base (name and what it resolved
	// to), its steps so far, and whether the last one ran.
	baseName, baseID string
	steps            int
	reran            bool
}

// build is one build in progress.
type build struct {
	b        *Builder
	ctx      context.Context
	opts     engine.BuildOptions
	emit     func(engine.BuildEvent)
	df       *parsedFile
	shlex    *shell.Lex
	ignore   *patternmatcher.PatternMatcher
	stages   []*stage
	step     int
	steps    int
	global   []kv        // ARGs before the first FROM, with build arg values
	platform v1.Platform // what the build is for
	usedArgs map[string]bool
	releases []func()
	mu       sync.Mutex
	// The steps' key inputs: the last successful build's, and this one's.
	lastSteps, theseSteps stepRecord
	// keys are the cache keys of the steps done so far.
	keys []string
}

// Build builds opts.Dockerfile in opts.ContextDir.
func (b *Builder) Build(ctx context.Context, opts engine.BuildOptions, fn func(engine.BuildEvent)) (engine.BuildResult, error) {
	if fn == nil {
		fn = func(engine.BuildEvent) {}
	}
	if opts.Dockerfile == "" {
		opts.Dockerfile = "Dockerfile"
	}
	for _, t := range opts.Tags {
		if _, err := normalizeTag(t); err != nil {
			return engine.BuildResult{}, err
		}
	}
	data := opts.DockerfileData
	if data == nil {
		var err error
		if data, err = readDockerfile(opts.ContextDir, opts.Dockerfile); err != nil {
			return engine.BuildResult{}, err
		}
	}
	df, err := parseDockerfile(opts.Dockerfile, data)
	if err != nil {
		return engine.BuildResult{}, err
	}
	// What Docker accepts but will not work as written (curly quotes in
	// an exec form, a port that is no port) is said before the build.
	var lintWarnings []engine.BuildEvent
	for _, d := range dockerfile.Check(data) {
		if d.Severity == engine.SeverityError {
			lintWarnings = append(lintWarnings, engine.BuildEvent{Kind: engine.BuildWarning, Line: d.Line, Output: fmt.Sprintf("%s:%d: %s (%s)", opts.Dockerfile, d.Line, d.Message, d.Rule)})
		}
	}
	target, err := df.target(opts.Target)
	if err != nil {
		return engine.BuildResult{}, err
	}
	ignore, err := dockerignore.Read(opts.ContextDir, opts.Dockerfile)
	if err != nil {
		return engine.BuildResult{}, err
	}
	platform, err := parsePlatform(opts.Platform)
	if err != nil {
		return engine.BuildResult{}, err
	}
	bd := &build{b: b, ctx: ctx, opts: opts, emit: fn, df: df, shlex: shell.NewLex(df.escape), ignore: ignore, usedArgs: map[string]bool{}, theseSteps: stepRecord{}, platform: platform}
	// The same build again: the same names, Dockerfile and platform.
	record := insightPath(b.dir, strings.Join(opts.Tags, ",")+"\x00"+opts.Dockerfile+"\x00"+opts.Target+platformSuffix(platform))
	bd.lastSteps = loadStepRecord(record)
	defer func() {
		for _, r := range bd.releases {
			r()
		}
	}()
	defer b.cache.save()
	for _, w := range lintWarnings {
		fn(w)
	}
	if err := bd.globalArgs(); err != nil {
		return engine.BuildResult{}, err
	}
	needed, err := bd.neededStages(target)
	if err != nil {
		return engine.BuildResult{}, err
	}
	for i := range df.stages {
		if needed[i] {
			bd.steps += 1 + len(df.stages[i].Commands)
		}
	}
	bd.stages = make([]*stage, len(df.stages))
	for i := range df.stages {
		if !needed[i] {
			continue
		}
		if err := bd.buildStage(i); err != nil {
			return engine.BuildResult{}, err
		}
	}
	final := bd.stages[target]
	cfg := final.cfg
	if len(opts.Labels) > 0 {
		cfg.Config.Labels = mergeMap(cfg.Config.Labels, opts.Labels)
	}
	if n := len(cfg.History); n > 0 && cfg.History[n-1].Created.Time.After(cfg.Created.Time) {
		cfg.Created = cfg.History[n-1].Created
	}
	id, err := b.store.Commit(ctx, cfg, final.layers, opts.Tags)
	if err != nil {
		return engine.BuildResult{}, fmt.Errorf("build: save the image: %w", err)
	}
	bd.warnUnusedArgs()
	if err := bd.theseSteps.save(record); err != nil {
		fn(engine.BuildEvent{Kind: engine.BuildWarning, Output: "the build's step record was not kept (the next build cannot say why a step reran): " + err.Error()})
	}
	return engine.BuildResult{ImageID: id, Tags: opts.Tags, CacheKeys: bd.keys}, nil
}

// stageRuns says whether a stage has RUN steps (which another CPU's
// programs need emulation for).
func stageRuns(def instructions.Stage) bool {
	return slices.ContainsFunc(def.Commands, func(c instructions.Command) bool { _, ok := c.(*instructions.RunCommand); return ok })
}

// platformSuffix tells apart the step records of another platform's
// builds of the same names.
func platformSuffix(p v1.Platform) string {
	if p.Architecture == goruntime.GOARCH {
		return ""
	}
	return "\x00" + platformName(p)
}

// readDockerfile reads the Dockerfile from inside the context.
func readDockerfile(contextDir, name string) ([]byte, error) {
	// Inside the context only: an absolute name, ../ or a symlink
	// resolve within it, never to a file of the engine's host.
	p, err := securejoin.SecureJoin(contextDir, name)
	if err != nil {
		return nil, fmt.Errorf("the Dockerfile %q: %w", name, err)
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cannot find the Dockerfile %q in the build context %s: %w", name, contextDir, engine.ErrInvalidArgument)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

// globalArgs evaluates the ARGs before the first FROM.
func (bd *build) globalArgs() error {
	env := predefinedArgs(bd.platform)
	for _, a := range bd.df.metaArgs {
		for _, arg := range a.Args {
			v, ok := bd.buildArg(arg.Key)
			if !ok && arg.Value != nil {
				w, _, err := bd.shlex.ProcessWord(*arg.Value, envGetter(env))
				if err != nil {
					return bd.stepErr(0, line(a.Location()), a.String(), err)
				}
				v, ok = w, true
			}
			if ok {
				env = setKV(env, arg.Key, v)
				bd.global = setKV(bd.global, arg.Key, v)
			} else {
				bd.global = setKV(bd.global, arg.Key, "")
			}
		}
	}
	return nil
}

// buildArg is the --build-arg value for key, if one was given.
func (bd *build) buildArg(key string) (string, bool) {
	v, ok := bd.opts.BuildArgs[key]
	if !ok {
		return "", false
	}
	bd.mu.Lock()
	bd.usedArgs[key] = true
	bd.mu.Unlock()
	if v == nil {
		return os.LookupEnv(key)
	}
	return *v, true
}

func (bd *build) warnUnusedArgs() {
	var unused []string
	for k := range bd.opts.BuildArgs {
		if !bd.usedArgs[k] && !proxyArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		bd.emit(engine.BuildEvent{Kind: engine.BuildWarning, Output: fmt.Sprintf("One or more build-args %v were not consumed", unused)})
	}
}

// neededStages are the target and the stages it copies from or builds on.
func (bd *build) neededStages(target int) (map[int]bool, error) {
	needed := map[int]bool{}
	var visit func(i int) error
	visit = func(i int) error {
		if needed[i] {
			return nil
		}
		needed[i] = true
		st := bd.df.stages[i]
		base, err := bd.expandGlobal(st.BaseName)
		if err != nil {
			return bd.stepErr(0, line(st.Location), st.SourceCode, err)
		}
		if _, named := bd.opts.NamedContexts[base]; !named {
			if j, ok := bd.df.stageIndex(base, i); ok {
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		for _, c := range st.Commands {
			var froms []string // the stages the instruction reads from
			switch c := c.(type) {
			case *instructions.CopyCommand:
				froms = append(froms, c.From)
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					froms = append(froms, m.From)
				}
			}
			for _, from := range froms {
				if _, named := bd.opts.NamedContexts[from]; named {
					continue
				}
				if j, ok := bd.df.stageIndex(from, i); ok && from != "" {
					if err := visit(j); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return needed, visit(target)
}

func (bd *build) expandGlobal(word string) (string, error) {
	w, _, err := bd.shlex.ProcessWord(word, envGetter(append(predefinedArgs(bd.platform), bd.global...)))
	return w, err
}

// buildStage runs one stage from its FROM to its last instruction.
func (bd *build) buildStage(i int) error {
	def := bd.df.stages[i]
	st := &stage{index: i, name: def.Name}
	bd.stages[i] = st
	if st.name == "" {
		st.name = fmt.Sprint(i)
	}
	if err := bd.from(st, def); err != nil {
		return err
	}
	// Triggers from the base image run first, then are dropped.
	triggers := st.cfg.Config.OnBuild
	st.cfg.Config.OnBuild = nil
	for _, t := range triggers {
		cmd, err := parseTrigger(t)
		if err != nil {
			return bd.stepErr(bd.step, line(def.Location), "ONBUILD "+t, err)
		}
		if err := bd.dispatch(st, cmd, true); err != nil {
			return err
		}
	}
	for _, cmd := range def.Commands {
		if err := bd.dispatch(st, cmd, false); err != nil {
			return err
		}
	}
	st.done = true
	return nil
}

func parseTrigger(expr string) (instructions.Command, error) {
	res, err := parser.Parse(strings.NewReader(expr))
	if err != nil {
		return nil, err
	}
	if len(res.AST.Children) != 1 {
		return nil, fmt.Errorf("invalid ONBUILD trigger %q", expr)
	}
	return instructions.ParseCommand(res.AST.Children[0])
}

// from sets a stage's starting state: scratch, an earlier stage, or an
// image (pulled when missing, or always with --pull).
func (bd *build) from(st *stage, def instructions.Stage) error {
	bd.step++
	start := time.Now()
	text := def.SourceCode
	ev := engine.BuildEvent{Step: bd.step, Steps: bd.steps, Stage: st.name, Instruction: text, Line: line(def.Location)}
	started := ev
	started.Kind = engine.BuildStepStarted
	bd.emit(started)
	fail := func(err error) error {
		err = bd.stepErr(bd.step, ev.Line, text, err)
		failed := ev
		failed.Kind, failed.Duration, failed.Output = engine.BuildStepFailed, time.Since(start), err.Error()
		bd.emit(failed)
		return err
	}
	base, err := bd.expandGlobal(def.BaseName)
	if err != nil {
		return fail(err)
	}
	st.platform = bd.platform
	if def.Platform != "" {
		p, err := bd.expandGlobal(def.Platform)
		if err != nil {
			return fail(err)
		}
		if st.platform, err = parsePlatform(p); err != nil {
			return fail(fmt.Errorf("FROM --platform=%s: %w", p, err))
		}
	}
	if st.platform.Architecture != goruntime.GOARCH && stageRuns(def) {
		em, ok := bd.b.run.(emulator)
		if !ok {
			return fail(fmt.Errorf("this engine cannot run programs for %s: %w", platformName(st.platform), engine.ErrNotSupported))
		}
		if err := em.EnsureEmulation(st.platform.Architecture); err != nil {
			return fail(err)
		}
	}
	nc, named := bd.opts.NamedContexts[base]
	if named && nc.Image == "" {
		return fail(fmt.Errorf("FROM %s: that --build-context is a folder, and a base must be an image (docker-image://…): %w", base, engine.ErrInvalidArgument))
	}
	if named {
		base = nc.Image // --build-context name=docker-image://ref: in place of the stage or image of that name
	}
	switch j, isStage := bd.df.stageIndex(base, st.index); {
	case !named && strings.EqualFold(base, "scratch"):
		st.baseName, st.baseID = "scratch", "scratch"
		st.key = keyOf("scratch", platformName(st.platform))
		st.cfg = v1.ConfigFile{OS: "linux", Architecture: st.platform.Architecture, Variant: st.platform.Variant, Config: v1.Config{}}
	case isStage && !named:
		prev := bd.stages[j]
		st.key, st.layers, st.cfg = prev.key, append([]store.Layer(nil), prev.layers...), cloneConfig(prev.cfg)
		st.baseName, st.baseID, st.reran = "stage "+prev.name, prev.key, prev.reran
	default:
		if base == "" {
			return fail(fmt.Errorf("FROM needs an image name (it expanded to nothing): %w", engine.ErrInvalidArgument))
		}
		id, err := bd.baseImageFor(base, st.name, st.platform)
		if err != nil {
			return fail(err)
		}
		cfg, layers, err := bd.b.store.ConfigFile(id)
		if err != nil {
			return fail(err)
		}
		var digests []string
		for _, l := range layers {
			digests = append(digests, l.DiffID, l.Digest)
		}
		bd.releases = append(bd.releases, bd.b.store.Lease(digests...))
		st.key, st.layers, st.cfg = keyOf("image", id), layers, cloneConfig(*cfg)
		st.baseName, st.baseID = base, id
	}
	if st.cfg.Config.Env == nil && !strings.EqualFold(base, "scratch") {
		st.cfg.Config.Env = []string{}
	}
	ev.Kind, ev.Duration, ev.ID = engine.BuildStepDone, time.Since(start), st.key[:12]
	bd.emit(ev)
	return nil
}

// baseImageFor is baseImage for a platform: another CPU's image is
// looked for among the stored ones by its name and architecture, and
// pulled for that platform (unnamed) when missing.
func (bd *build) baseImageFor(ref, stageName string, p v1.Platform) (string, error) {
	if p.Architecture == goruntime.GOARCH {
		return bd.baseImage(ref, stageName)
	}
	if !bd.opts.Pull {
		if id, _, err := bd.b.store.Resolve(ref); err == nil {
			if cfg, _, err := bd.b.store.ConfigFile(id); err == nil && cfg.Architecture == p.Architecture {
				return id, nil
			}
		}
	}
	if bd.b.pull == nil {
		return "", fmt.Errorf("base image %s for %s is not in the store and this builder cannot pull: %w", ref, platformName(p), engine.ErrNotFound)
	}
	bd.emit(engine.BuildEvent{Kind: engine.BuildMessage, Stage: stageName, Output: "Pulling " + ref + " for " + platformName(p)})
	id, err := bd.b.pull.PullPlatform(bd.ctx, ref, platformName(p), nil, nil)
	if err != nil {
		return "", fmt.Errorf("pull base image %s for %s: %w", ref, platformName(p), err)
	}
	return id, nil
}

// baseImage finds a FROM image in the store, pulling it when it is
// missing or --pull asks to look for a newer one.
func (bd *build) baseImage(ref, stageName string) (string, error) {
	if !bd.opts.Pull {
		if id, _, err := bd.b.store.Resolve(ref); err == nil {
			return id, nil
		}
	}
	if bd.b.pull == nil {
		return "", fmt.Errorf("base image %s is not in the store and this builder cannot pull: %w", ref, engine.ErrNotFound)
	}
	bd.emit(engine.BuildEvent{Kind: engine.BuildMessage, Stage: stageName, Output: "Pulling " + ref})
	id, err := bd.b.pull.Pull(bd.ctx, ref, nil, nil)
	if err != nil {
		if id2, _, rerr := bd.b.store.Resolve(ref); rerr == nil && bd.opts.Pull && !errors.Is(err, context.Canceled) {
			// --pull with the registry unreachable: build with what we have, as docker does not; say so.
			bd.emit(engine.BuildEvent{Kind: engine.BuildWarning, Output: fmt.Sprintf("could not pull %s (%v); using the stored image", ref, err)})
			return id2, nil
		}
		return "", fmt.Errorf("pull base image %s: %w", ref, err)
	}
	return id, nil
}

// env is the stage's variables for expansion: the image's Env, then the
// build arguments in scope that no ENV overrides.
func (st *stage) env() []kv {
	out := make([]kv, 0, len(st.cfg.Config.Env)+len(st.args))
	seen := map[string]bool{}
	for _, e := range st.cfg.Config.Env {
		k, v, _ := strings.Cut(e, "=")
		out = append(out, kv{k, v})
		seen[k] = true
	}
	for _, a := range st.args {
		if !seen[a.key] {
			out = append(out, a)
		}
	}
	return out
}

// dispatch runs one instruction of a stage, from the cache when it can.
func (bd *build) dispatch(st *stage, cmd instructions.Command, trigger bool) error {
	bd.step++
	if trigger {
		bd.steps++
	}
	text := cmd.Name()
	if s, ok := cmd.(fmt.Stringer); ok {
		text = s.String()
	}
	ln := line(cmd.Location())
	ev := engine.BuildEvent{Step: bd.step, Steps: bd.steps, Stage: st.name, Instruction: text, Line: ln}
	started := ev
	started.Kind = engine.BuildStepStarted
	bd.emit(started)
	start := time.Now()
	fail := func(err error) error {
		err = bd.stepErr(bd.step, ln, text, err)
		failed := ev
		failed.Kind, failed.Duration, failed.Output = engine.BuildStepFailed, time.Since(start), err.Error()
		bd.emit(failed)
		return err
	}
	if err := bd.ctx.Err(); err != nil {
		return err
	}

	// ARG values are needed to expand what follows; expand everything else.
	if _, isArg := cmd.(*instructions.ArgCommand); !isArg {
		if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
			env := envGetter(st.env())
			if err := ex.Expand(func(word string) (string, error) {
				w, _, err := bd.shlex.ProcessWord(word, env)
				return w, err
			}); err != nil {
				return fail(err)
			}
		}
		if ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
			lex := shell.NewLex('\\')
			lex.SkipProcessQuotes = true
			env := envGetter(st.env())
			if err := ex.ExpandRaw(func(word string) (string, error) {
				w, _, err := lex.ProcessWord(word, env)
				return w, err
			}); err != nil {
				return fail(err)
			}
		}
	}

	op, err := bd.plan(st, cmd)
	if err != nil {
		return fail(err)
	}
	if op.cleanup != nil {
		defer op.cleanup()
	}
	key := keyOf(append([]string{st.key, op.kind}, op.key...)...)
	inputs := stepInputs{Instruction: text, Parent: st.key, Files: op.inputFiles, Args: op.args, parentRan: st.reran}
	if st.steps == 0 {
		inputs.Base, inputs.BaseID = st.baseName, st.baseID
	}
	position := fmt.Sprintf("%d/%d", st.index, st.steps)
	st.steps++
	bd.theseSteps[position] = inputs
	if !bd.opts.NoCache {
		if e, ok := bd.b.cache.get(key); ok && (e.Layer == nil || bd.b.store.HasLayer(*e.Layer)) {
			bd.apply(st, key, e)
			st.reran = false
			ev.Kind, ev.Duration, ev.ID = engine.BuildStepCached, time.Since(start), key[:12]
			if e.Layer != nil {
				ev.LayerSize, ev.Biggest, ev.Layer = e.Layer.Unpacked, e.Layer.Biggest, e.Layer.DiffID
			}
			bd.emit(ev)
			return nil
		}
		var last *stepInputs
		if in, ok := bd.lastSteps[position]; ok {
			last = &in
		}
		why := ev
		why.Kind, why.Output = engine.BuildStepRerun, whyReran(last, inputs, ln)
		bd.emit(why)
	}
	st.reran = true
	cfg := cloneConfig(st.cfg)
	var layer *store.Layer
	switch {
	case op.run != nil:
		step := *op.run
		if op.runMounts != nil {
			rm, err := op.runMounts()
			if err != nil {
				return fail(err)
			}
			defer rm.release()
			step.Mounts = append(slices.Clone(step.Mounts), rm.mounts...)
			step.Env = append(slices.Clone(step.Env), rm.env...)
		}
		l, err := bd.runStep(st, &step, ev)
		if err != nil {
			return fail(err)
		}
		layer = l
	case op.files != nil:
		l, err := bd.withRootfs(st, op.files)
		if err != nil {
			return fail(err)
		}
		layer = l
	}
	if op.meta != nil {
		if err := op.meta(&cfg); err != nil {
			return fail(err)
		}
	}
	now := v1.Time{Time: time.Now().UTC().Truncate(time.Nanosecond)}
	createdBy := op.history
	if op.run != nil || op.kind == "COPY" || op.kind == "ADD" {
		createdBy += " # buildkit"
	}
	if !op.noHistory || layer != nil {
		cfg.History = append(cfg.History, v1.History{Created: now, CreatedBy: createdBy, Comment: "buildkit.dockerfile.v0", EmptyLayer: layer == nil})
		cfg.Created = now
	}
	e := &cacheEntry{Layer: layer, Config: cfg}
	bd.b.cache.put(key, e)
	bd.apply(st, key, e)
	ev.Kind, ev.Duration, ev.ID = engine.BuildStepDone, time.Since(start), key[:12]
	if layer != nil {
		ev.LayerSize, ev.Biggest, ev.Layer = layer.Unpacked, layer.Biggest, layer.DiffID
	}
	bd.emit(ev)
	return nil
}

// apply makes a step's result (from the cache, or just made) the stage's
// state, and records its key among the build's.
func (bd *build) apply(st *stage, key string, e *cacheEntry) {
	bd.keys = append(bd.keys, key)
	st.key = key
	st.cfg = cloneConfig(e.Config)
	if e.Layer != nil {
		st.layers = append(st.layers, *e.Layer)
		bd.releases = append(bd.releases, bd.b.store.Lease(e.Layer.DiffID, e.Layer.Digest))
	}
}

func (bd *build) stepErr(step, ln int, text string, err error) error {
	var se *engine.BuildStepError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &engine.BuildStepError{Step: step, Line: ln, Instruction: text, Err: fmt.Errorf("%s:%d: %s: %w", bd.df.name, ln, text, err)}
}
