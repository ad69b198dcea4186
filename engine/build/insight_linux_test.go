package build

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
)

// reasons lists, per step that reran, why, as "step: reason".
func (r *recorder) reasons() map[int]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int]string{}
	for _, ev := range r.events {
		if ev.Kind == engine.BuildStepRerun {
			out[ev.Step] = ev.Output
		}
	}
	return out
}

// Every step that missed the cache says why, from what changed since the
// last build: a file a COPY takes, a build argument a RUN sees, the step
// before it.
func TestBuildSaysWhyAStepReran(t *testing.T) {
	e := newEnv(t)
	df := "FROM busybox\nARG VERSION=1\nWORKDIR /app\nCOPY . /app\nRUN echo $VERSION > /version\nCMD [\"cat\", \"/version\"]\n"
	dir := writeContext(t, map[string]string{"Dockerfile": df, "app.py": "print(1)\n", "util.py": "x = 1\n"})
	opts := engine.BuildOptions{ContextDir: dir, Tags: []string{"why:v1"}}
	_, rec := e.mustBuild(t, opts)
	if r := rec.reasons()[4]; !strings.Contains(r, "no earlier build") || !strings.Contains(r, "(COPY . /app, line 4)") {
		t.Errorf("first build, step 4: %q", r)
	}
	_, rec = e.mustBuild(t, opts)
	if r := rec.reasons(); len(r) != 0 {
		t.Errorf("an unchanged rebuild gave reasons: %v", r)
	}

	os.WriteFile(filepath.Join(dir, "app.py"), []byte("print(2)\n"), 0o644)
	_, rec = e.mustBuild(t, opts)
	r := rec.reasons()
	if !strings.HasPrefix(r[4], "Reran because app.py changed (COPY . /app, line 4)") {
		t.Errorf("after editing app.py, COPY: %q", r[4])
	}
	if !strings.HasPrefix(r[5], "Reran because the step before it reran") {
		t.Errorf("after editing app.py, RUN: %q", r[5])
	}
	if _, ok := r[2]; ok {
		t.Errorf("ARG reran after an edit of app.py: %v", r)
	}

	v2 := "2"
	opts.BuildArgs = map[string]*string{"VERSION": &v2}
	_, rec = e.mustBuild(t, opts)
	if r := rec.reasons()[5]; !strings.HasPrefix(r, "Reran because ARG VERSION changed from 1 to 2") {
		t.Errorf("after --build-arg VERSION=2, RUN: %q (all: %v)", r, rec.reasons())
	}

	os.Remove(filepath.Join(dir, "util.py"))
	for _, f := range []string{"a.py", "b.py", "c.py", "d.py"} {
		os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
	}
	_, rec = e.mustBuild(t, opts)
	if r := rec.reasons()[4]; !strings.Contains(r, "a.py, b.py, c.py and 1 more files were added, and util.py was removed") {
		t.Errorf("after adding four files and removing one, COPY: %q", r)
	}
}

// A step's event names its layer and the biggest files in it, built or
// taken from the cache, so the editor can say what each line added.
func TestBuildNamesEachLayersBiggestFiles(t *testing.T) {
	e := newEnv(t)
	df := "FROM busybox\nRUN head -c 3000000 /dev/zero > /big && head -c 2000 /dev/zero > /small && mkdir -p /d && head -c 90000 /dev/zero > /d/mid && echo hi > /tiny\nCMD [\"true\"]\n"
	dir := writeContext(t, map[string]string{"Dockerfile": df})
	want := []engine.PathSize{{Path: "/big", Size: 3000000}, {Path: "/d/mid", Size: 90000}, {Path: "/small", Size: 2000}}
	for _, build := range []string{"built", "cached"} {
		_, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: dir})
		var run *engine.BuildEvent
		for _, ev := range rec.events {
			if (ev.Kind == engine.BuildStepDone || ev.Kind == engine.BuildStepCached) && ev.Line == 2 {
				run = &ev
			}
		}
		if run == nil {
			t.Fatalf("%s: no event for the RUN step", build)
		}
		if !slices.Equal(run.Biggest, want) || !strings.HasPrefix(run.Layer, "sha256:") {
			t.Errorf("%s: biggest %v, layer %q; want %v", build, run.Biggest, run.Layer, want)
		}
	}
}
