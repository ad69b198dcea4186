package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
)

// A cache mount keeps its folder between builds (the second build finds
// what the first left, and says so), never lands in the image, and its
// contents never break the step's cache.
func TestRunMountCache(t *testing.T) {
	e := newEnv(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nARG N=1\nRUN --mount=type=cache,target=/root/.cache/pkg sh -c 'ls /root/.cache/pkg | wc -l > /seen; touch /root/.cache/pkg/download-$N'\n",
	})
	first, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: ctx, Tags: []string{"cm:1"}})
	if got, _ := e.readFile(t, first.ImageID, "/seen"); strings.TrimSpace(got) != "0" {
		t.Errorf("the first build's cache mount held %s files, want 0", got)
	}
	if _, ok := e.readFile(t, first.ImageID, "/root/.cache/pkg/download-1"); ok {
		t.Error("a cache mount's file landed in the image")
	}
	if strings.Contains(messages(rec), "from earlier builds") {
		t.Errorf("the first build reported a cache mount hit:\n%s", messages(rec))
	}
	n := "2"
	second, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: ctx, Tags: []string{"cm:2"}, BuildArgs: map[string]*string{"N": &n}})
	if got, _ := e.readFile(t, second.ImageID, "/seen"); strings.TrimSpace(got) != "1" {
		t.Errorf("the second build's cache mount held %s files, want the first build's 1", got)
	}
	if !strings.Contains(messages(rec), "cache mount /root/.cache/pkg: 0B in 1 files from earlier builds") {
		t.Errorf("the build log does not show the cache mount hit:\n%s", messages(rec))
	}
	// The same build again hits the step cache, whatever the mount holds.
	_, rec = e.mustBuild(t, engine.BuildOptions{ContextDir: ctx, Tags: []string{"cm:2"}, BuildArgs: map[string]*string{"N": &n}})
	if k := rec.kinds(); k[len(k)-1] != "3:cached" {
		t.Errorf("a rebuild with a fuller cache mount reran: %v", k)
	}
}

// Binds, tmpfs and secrets: what each puts in the step, and what each
// keeps out of the image and the cache key.
func TestRunMounts(t *testing.T) {
	e := newEnv(t)
	secret := func(_ context.Context, id string) ([]byte, error) {
		if id == "token" {
			return []byte("s3cret"), nil
		}
		return nil, fmt.Errorf("no %s: %w", id, engine.ErrNotFound)
	}
	for _, tc := range []struct {
		name       string
		dockerfile string
		files      map[string]string
		secret     func(context.Context, string) ([]byte, error)
		want       string // /out in the image
		wantErr    string
		notInImage string
	}{
		{name: "bind from the context, read-only", dockerfile: "RUN --mount=type=bind,source=conf,target=/conf sh -c 'cat /conf/a > /out; touch /conf/x 2>/dev/null || echo read-only >> /out'",
			files: map[string]string{"conf/a": "from context\n"}, want: "from context\nread-only\n", notInImage: "/conf/a"},
		{name: "bind rw writes a copy", dockerfile: "RUN --mount=type=bind,source=conf,target=/conf,rw sh -c 'echo changed > /conf/a; cat /conf/a > /out'",
			files: map[string]string{"conf/a": "orig\n"}, want: "changed\n"},
		{name: "bind from a stage", dockerfile: "RUN echo built > /artifact\nFROM busybox\nRUN --mount=type=bind,from=0,source=/artifact,target=/a cp /a /out",
			want: "built\n", notInImage: "/artifact"},
		{name: "tmpfs", dockerfile: "RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/f; grep -q \"tmpfs /scratch\" /proc/mounts && echo tmpfs > /out'",
			want: "tmpfs\n", notInImage: "/scratch/f"},
		{name: "secret file", dockerfile: "RUN --mount=type=secret,id=token sh -c 'cat /run/secrets/token > /out; stat -c %a /run/secrets/token >> /out'",
			secret: secret, want: "s3cret400\n", notInImage: "/run/secrets/token"},
		{name: "secret as env", dockerfile: "RUN --mount=type=secret,id=token,env=TOKEN sh -c 'echo $TOKEN > /out'",
			secret: secret, want: "s3cret\n"},
		{name: "optional secret missing", dockerfile: "RUN --mount=type=secret,id=other sh -c 'test -e /run/secrets/other || echo absent > /out'",
			secret: secret, want: "absent\n"},
		{name: "required secret missing", dockerfile: "RUN --mount=type=secret,id=other,required sh -c 'true'",
			secret: secret, wantErr: "docker build --secret id=other,src=FILE"},
		{name: "ssh without an agent", dockerfile: "RUN --mount=type=ssh,required true", wantErr: "docker build --ssh default"},
		{name: "cache from a stage", dockerfile: "RUN --mount=type=cache,from=0,target=/c true", wantErr: "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"Dockerfile": "FROM busybox\n" + tc.dockerfile + "\n"}
			for k, v := range tc.files {
				files[k] = v
			}
			res, ok := e.buildOrFail(t, engine.BuildOptions{ContextDir: writeContext(t, files), Secret: tc.secret}, tc.wantErr)
			if !ok {
				return
			}
			if got, _ := e.readFile(t, res.ImageID, "/out"); got != tc.want {
				t.Errorf("/out = %q, want %q", got, tc.want)
			}
			if tc.notInImage != "" {
				if _, ok := e.readFile(t, res.ImageID, tc.notInImage); ok {
					t.Errorf("%s landed in the image", tc.notInImage)
				}
			}
		})
	}
}

// A bound context path is part of the step's key, as a COPY's would be:
// editing it reruns the step and says why; a secret's value is not.
func TestRunMountBindIsInTheKey(t *testing.T) {
	e := newEnv(t)
	ctx := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN --mount=type=bind,source=conf,target=/conf cat /conf/a > /out\n",
		"conf/a":     "one\n",
	})
	e.mustBuild(t, engine.BuildOptions{ContextDir: ctx, Tags: []string{"bk"}})
	os.WriteFile(filepath.Join(ctx, "conf", "a"), []byte("two\n"), 0o644)
	res, rec := e.mustBuild(t, engine.BuildOptions{ContextDir: ctx, Tags: []string{"bk"}})
	if got, _ := e.readFile(t, res.ImageID, "/out"); got != "two\n" {
		t.Errorf("after editing the bound file, /out = %q", got)
	}
	if !strings.Contains(messages(rec), "Reran because conf/a changed") {
		t.Errorf("the rerun does not say the bound file changed:\n%s", messages(rec))
	}
}

// messages are a build's rerun reasons and messages.
func messages(r *recorder) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, ev := range r.events {
		if ev.Kind == engine.BuildMessage || ev.Kind == engine.BuildStepRerun {
			b.WriteString(ev.Output + "\n")
		}
	}
	return b.String()
}

// The walk that reports a cache mount's contents stops at its limit and
// says so.
func TestTreeSize(t *testing.T) {
	dir := writeContext(t, map[string]string{"a": "12", "b/c": "345", "b/d": "6"})
	for _, tc := range []struct {
		limit, files int
		size         int64
		all          bool
	}{{10, 3, 6, true}, {3, 3, 6, true}, {2, 2, 0, false}} {
		size, files, all := treeSize(dir, tc.limit)
		if files != tc.files || all != tc.all || (tc.all && size != tc.size) {
			t.Errorf("limit %d: %d bytes in %d files (all: %v), want %d files (all: %v)", tc.limit, size, files, all, tc.files, tc.all)
		}
	}
}
