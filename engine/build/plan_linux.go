package build

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/runtime"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// op is what a step does: its cache identity, and the work on a miss.
type op struct {
	kind string
	key  []string
	// inputFiles (COPY, ADD from the context: path → hash) and args (the
	// build arguments a RUN sees) name what of key may change.
	inputFiles map[string]string
	args       map[string]string
	history    string
	// files changes the filesystem, mounted at root; nil for metadata.
	files     func(root string) error
	noHistory bool
	// run is a RUN step's process; runMounts, when not nil, makes its
	// --mount mounts just before it runs.
	run       *runtime.Step
	runMounts func() (*runMounts, error)
	// meta changes the image config.
	meta    func(cfg *v1.ConfigFile) error
	cleanup func()
}

// plan turns an instruction into an op.
func (bd *build) plan(st *stage, cmd instructions.Command) (*op, error) {
	switch c := cmd.(type) {
	case *instructions.ArgCommand:
		return bd.planArg(st, c)
	case *instructions.EnvCommand:
		var parts []string
		for _, e := range c.Env {
			parts = append(parts, e.Key+"="+e.Value)
		}
		return &op{kind: "ENV", key: parts, history: "ENV " + strings.Join(parts, " "), meta: func(cfg *v1.ConfigFile) error {
			for _, e := range c.Env {
				cfg.Config.Env = setEnv(cfg.Config.Env, e.Key, e.Value)
			}
			return nil
		}}, nil
	case *instructions.LabelCommand:
		var parts []string
		for _, l := range c.Labels {
			parts = append(parts, l.Key+"="+l.Value)
		}
		return &op{kind: "LABEL", key: parts, history: "LABEL " + strings.Join(parts, " "), meta: func(cfg *v1.ConfigFile) error {
			if cfg.Config.Labels == nil {
				cfg.Config.Labels = map[string]string{}
			}
			for _, l := range c.Labels {
				cfg.Config.Labels[l.Key] = l.Value
			}
			return nil
		}}, nil
	case *instructions.MaintainerCommand:
		return &op{kind: "MAINTAINER", key: []string{c.Maintainer}, history: "MAINTAINER " + c.Maintainer, meta: func(cfg *v1.ConfigFile) error {
			cfg.Author = c.Maintainer
			return nil
		}}, nil
	case *instructions.CmdCommand:
		args := bd.withShell(st, c.ShellDependantCmdLine)
		st.cmdSet = true
		return &op{kind: "CMD", key: args, history: fmt.Sprintf("CMD %q", args), meta: func(cfg *v1.ConfigFile) error {
			cfg.Config.Cmd = args
			cfg.Config.ArgsEscaped = false
			return nil
		}}, nil
	case *instructions.EntrypointCommand:
		args := bd.withShell(st, c.ShellDependantCmdLine)
		cmdSet := st.cmdSet
		return &op{kind: "ENTRYPOINT", key: append(args, fmt.Sprint(cmdSet)), history: fmt.Sprintf("ENTRYPOINT %q", args), meta: func(cfg *v1.ConfigFile) error {
			cfg.Config.Entrypoint = args
			if !cmdSet {
				cfg.Config.Cmd = nil // a base image's CMD does not fit a new entrypoint
			}
			return nil
		}}, nil
	case *instructions.ExposeCommand:
		ports, err := parsePorts(c.Ports)
		if err != nil {
			return nil, err
		}
		return &op{kind: "EXPOSE", key: ports, history: fmt.Sprintf("EXPOSE map[%s]", strings.Join(mapStrings(ports), " ")), meta: func(cfg *v1.ConfigFile) error {
			if cfg.Config.ExposedPorts == nil {
				cfg.Config.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range ports {
				cfg.Config.ExposedPorts[p] = struct{}{}
			}
			return nil
		}}, nil
	case *instructions.UserCommand:
		return &op{kind: "USER", key: []string{c.User}, history: "USER " + c.User, meta: func(cfg *v1.ConfigFile) error {
			cfg.Config.User = c.User
			return nil
		}}, nil
	case *instructions.VolumeCommand:
		for _, v := range c.Volumes {
			if strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("VOLUME specified can not be an empty string: %w", engine.ErrInvalidArgument)
			}
		}
		return &op{kind: "VOLUME", key: c.Volumes, history: fmt.Sprintf("VOLUME %v", c.Volumes), meta: func(cfg *v1.ConfigFile) error {
			if cfg.Config.Volumes == nil {
				cfg.Config.Volumes = map[string]struct{}{}
			}
			for _, v := range c.Volumes {
				cfg.Config.Volumes[v] = struct{}{}
			}
			return nil
		}}, nil
	case *instructions.StopSignalCommand:
		if _, err := signalNumber(c.Signal); err != nil {
			return nil, err
		}
		return &op{kind: "STOPSIGNAL", key: []string{c.Signal}, history: "STOPSIGNAL " + c.Signal, meta: func(cfg *v1.ConfigFile) error {
			cfg.Config.StopSignal = c.Signal
			return nil
		}}, nil
	case *instructions.HealthCheckCommand:
		h := c.Health
		hc := &v1.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
		data, _ := json.Marshal(hc)
		return &op{kind: "HEALTHCHECK", key: []string{string(data)}, history: fmt.Sprintf("HEALTHCHECK %+v", *h), meta: func(cfg *v1.ConfigFile) error {
			if len(h.Test) == 1 && h.Test[0] == "NONE" {
				cfg.Config.Healthcheck = &v1.HealthConfig{Test: []string{"NONE"}}
				return nil
			}
			cfg.Config.Healthcheck = hc
			return nil
		}}, nil
	case *instructions.ShellCommand:
		return &op{kind: "SHELL", key: c.Shell, history: fmt.Sprintf("SHELL %v", c.Shell), meta: func(cfg *v1.ConfigFile) error {
			cfg.Config.Shell = c.Shell
			return nil
		}}, nil
	case *instructions.OnbuildCommand:
		expr := strings.TrimSpace(c.Expression)
		// BuildKit keeps no history entry for ONBUILD.
		return &op{kind: "ONBUILD", key: []string{expr}, noHistory: true, meta: func(cfg *v1.ConfigFile) error {
			cfg.Config.OnBuild = append(cfg.Config.OnBuild, expr)
			return nil
		}}, nil
	case *instructions.WorkdirCommand:
		return bd.planWorkdir(st, c)
	case *instructions.RunCommand:
		return bd.planRun(st, c)
	case *instructions.CopyCommand:
		return bd.planCopy(st, c.SourcesAndDest, copyFlags{from: c.From, chown: c.Chown, chmod: c.Chmod, exclude: c.ExcludePatterns, parents: c.Parents}, "COPY", c.String())
	case *instructions.AddCommand:
		unpack := true
		if c.Unpack != nil {
			unpack = *c.Unpack
		}
		keepGit := c.KeepGitDir != nil && *c.KeepGitDir
		return bd.planCopy(st, c.SourcesAndDest, copyFlags{chown: c.Chown, chmod: c.Chmod, exclude: c.ExcludePatterns, add: true, unpack: unpack, checksum: c.Checksum, keepGitDir: keepGit}, "ADD", c.String())
	}
	return nil, fmt.Errorf("instruction %s is not supported: %w", cmd.Name(), engine.ErrNotSupported)
}

// planArg declares build arguments: the --build-arg value, else the
// default, else the global ARG's value (ARG NAME with no default after a
// global ARG NAME), else the predefined platform value.
func (bd *build) planArg(st *stage, c *instructions.ArgCommand) (*op, error) {
	var parts []string
	for _, arg := range c.Args {
		v, ok := bd.buildArg(arg.Key)
		if !ok && arg.Value != nil {
			w, _, err := bd.shlex.ProcessWord(*arg.Value, envGetter(st.env()))
			if err != nil {
				return nil, err
			}
			v, ok = w, true
		}
		if !ok {
			if g, found := lookupKV(bd.global, arg.Key); found {
				v, ok = g, true
			} else if p, found := lookupKV(predefinedArgs(bd.platform), arg.Key); found {
				v, ok = p, true
			}
		}
		st.args = setKV(st.args, arg.Key, v)
		if ok {
			parts = append(parts, arg.Key+"="+v)
		} else {
			parts = append(parts, arg.Key)
		}
	}
	o := &op{kind: "ARG", key: parts, history: "ARG " + strings.Join(parts, " "), args: map[string]string{}}
	for _, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		o.args[k] = v
	}
	return o, nil
}

// withShell makes a command line: the exec form as written, the shell
// form through the stage's SHELL.
func (bd *build) withShell(st *stage, c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return append([]string{}, c.CmdLine...)
	}
	sh := st.cfg.Config.Shell
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, sh...), strings.Join(c.CmdLine, " "))
}

func (bd *build) planWorkdir(st *stage, c *instructions.WorkdirCommand) (*op, error) {
	wd := c.Path
	if !path.IsAbs(wd) {
		wd = path.Join("/", st.cfg.Config.WorkingDir, wd)
	}
	wd = path.Clean(wd)
	user := st.cfg.Config.User
	o := &op{kind: "WORKDIR", key: []string{wd, user}, history: "WORKDIR " + wd, meta: func(cfg *v1.ConfigFile) error {
		cfg.Config.WorkingDir = wd
		return nil
	}}
	if wd != "/" {
		o.files = func(root string) error {
			owner, err := resolveOwner(root, user)
			if err != nil {
				return err
			}
			return mkdirAllIn(root, wd, owner)
		}
	}
	return o, nil
}

// planRun runs the command in a container on the stage's filesystem.
func (bd *build) planRun(st *stage, c *instructions.RunCommand) (*op, error) {
	for _, f := range c.FlagsUsed {
		if f != "network" && f != "mount" {
			return nil, fmt.Errorf("RUN --%s is not supported by this builder: %w", f, engine.ErrNotSupported)
		}
	}
	noNetwork := instructions.GetNetwork(c) == "none"
	args := c.CmdLine
	var mounts []runtime.StepMount
	var cleanup func()
	display := ""
	if len(c.Files) > 0 {
		if len(args) != 1 || !c.PrependShell {
			return nil, fmt.Errorf("a RUN heredoc must be in shell form")
		}
		if hd := parser.MustParseHeredoc(args[0]); hd != nil {
			data := c.Files[0].Data
			if c.Files[0].Chomp {
				data = parser.ChompHeredocContent(data)
			}
			if strings.HasPrefix(data, "#!") {
				// A script with its own interpreter: run it as a file.
				dir, err := os.MkdirTemp(filepath.Join(bd.b.dir, "contexts"), "heredoc-")
				if err != nil {
					return nil, err
				}
				cleanup = func() { os.RemoveAll(dir) }
				name := c.Files[0].Name
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o755); err != nil {
					cleanup()
					return nil, err
				}
				mounts = append(mounts, runtime.StepMount{Source: filepath.Join(dir, name), Target: "/dev/pipes/" + name})
				args = []string{"/dev/pipes/" + name}
				display = data
			} else {
				args = []string{data}
			}
		} else {
			var b strings.Builder
			b.WriteString(args[0])
			for _, f := range c.Files {
				b.WriteByte('\n')
				b.WriteString(f.Data)
				b.WriteString(f.Name)
			}
			args = []string{b.String()}
		}
	}
	argv := args
	if c.PrependShell && len(mounts) == 0 {
		argv = bd.withShell(st, instructions.ShellDependantCmdLine{CmdLine: args, PrependShell: true})
	}
	// Build arguments reach the command as environment variables, not the image.
	var argEnv []string
	var history []string
	for _, a := range st.args {
		argEnv = append(argEnv, a.key+"="+a.value)
		history = append(history, a.key+"="+a.value)
	}
	for k := range proxyArgs {
		if v, ok := bd.buildArg(k); ok {
			argEnv = append(argEnv, k+"="+v)
		}
	}
	sort.Strings(argEnv[len(history):])
	createdBy := "RUN "
	if len(history) > 0 {
		createdBy += fmt.Sprintf("|%d %s ", len(history), strings.Join(history, " "))
	}
	createdBy += strings.Join(argv, " ")
	env := st.cfg.Config.Env
	if !hasKey(env, "PATH") {
		env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	}
	for _, e := range argEnv {
		k, v, _ := strings.Cut(e, "=")
		if !hasKey(st.cfg.Config.Env, k) {
			env = setEnv(env, k, v)
		}
	}
	cwd := st.cfg.Config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	user := st.cfg.Config.User
	o := &op{kind: "RUN", key: append(append(append([]string{}, argv...), "\x00env"), append(argEnv, display, fmt.Sprint(noNetwork))...), history: createdBy, cleanup: cleanup, args: map[string]string{}}
	for _, a := range st.args {
		o.args[a.key] = a.value
	}
	o.run = &runtime.Step{Args: argv, Env: env, Cwd: cwd, User: user, NoNetwork: noNetwork, Mounts: mounts}
	var err error
	if o.runMounts, err = bd.planMounts(st, c, o); err != nil {
		if cleanup != nil {
			cleanup()
		}
		return nil, err
	}
	return o, nil
}
