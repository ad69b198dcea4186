package buildkit

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	controlapi "github.com/moby/buildkit/api/services/control"
)

// What buildx sends for docker build's flags becomes the builder's
// options, and what Berth cannot honour is refused by the flag's name.
func TestBuildOptions(t *testing.T) {
	dev, one := "dev", "1"
	for _, tc := range []struct {
		name    string
		opts    map[string]string
		want    engine.BuildOptions
		wantErr string
	}{
		{name: "plain", opts: map[string]string{"filename": "Dockerfile"}, want: engine.BuildOptions{}},
		{name: "flags", opts: map[string]string{"target": "base", "no-cache": "", "image-resolve-mode": "pull", "build-arg:MODE": "dev", "build-arg:N": "1", "label:team": "web"},
			want: engine.BuildOptions{Target: "base", NoCache: true, Pull: true, BuildArgs: map[string]*string{"MODE": &dev, "N": &one}, Labels: map[string]string{"team": "web"}}},
		{name: "prefer local", opts: map[string]string{"image-resolve-mode": "preferlocal"}, want: engine.BuildOptions{}},
		{name: "named image", opts: map[string]string{"context:base": "docker-image://alpine:3"}, want: engine.BuildOptions{NamedContexts: map[string]engine.NamedContext{"base": {Image: "alpine:3"}}}},
		{name: "named folder", opts: map[string]string{"context:src": "local:src"}, want: engine.BuildOptions{NamedContexts: map[string]engine.NamedContext{"src": {Dir: "local:src"}}}},
		{name: "named stage input", opts: map[string]string{"context:x": "input:x"}, wantErr: "--build-context x=input:x"},
		{name: "network", opts: map[string]string{"network": "host"}, wantErr: "--network host"},
		{name: "default network", opts: map[string]string{"network": "default"}, want: engine.BuildOptions{}},
		{name: "add-host", opts: map[string]string{"add-hosts": "a:1.2.3.4"}, wantErr: "--add-host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := buildOptions(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Outputs and caches Berth does not make are refused before any work.
func TestChecksRefuseWhatBerthDoesNotDo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		req     *controlapi.SolveRequest
		wantErr string
	}{
		{name: "store", req: &controlapi.SolveRequest{Exporters: []*controlapi.Exporter{{Type: "moby", Attrs: map[string]string{"name": "x"}}}}},
		{name: "outputs", req: &controlapi.SolveRequest{Exporters: []*controlapi.Exporter{{Type: "local"}, {Type: "tar"}, {Type: "docker"}, {Type: "oci"}}}},
		{name: "unknown output", req: &controlapi.SolveRequest{Exporters: []*controlapi.Exporter{{Type: "registry-cache"}}}, wantErr: "--output type=registry-cache"},
		{name: "push by digest", req: &controlapi.SolveRequest{Exporters: []*controlapi.Exporter{{Type: "image", Attrs: map[string]string{"push-by-digest": "true"}}}}, wantErr: "by digest"},
		{name: "caches", req: &controlapi.SolveRequest{Cache: &controlapi.CacheOptions{Imports: []*controlapi.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"src": "/c"}}}, Exports: []*controlapi.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "r/c"}}}}}},
		{name: "inline cache", req: &controlapi.SolveRequest{Cache: &controlapi.CacheOptions{Exports: []*controlapi.CacheOptionsEntry{{Type: "inline"}}}}},
		{name: "gha cache", req: &controlapi.SolveRequest{Cache: &controlapi.CacheOptions{Exports: []*controlapi.CacheOptionsEntry{{Type: "gha"}}}}, wantErr: "type=gha"},
		{name: "registry cache without ref", req: &controlapi.SolveRequest{Cache: &controlapi.CacheOptions{Exports: []*controlapi.CacheOptionsEntry{{Type: "registry"}}}}, wantErr: "needs a ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkExporters(tc.req)
			if err == nil {
				err = checkCache(tc.req)
			}
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// Steps are named as BuildKit names them, so buildx draws Berth's builds
// as it draws its own.
func TestVertexNames(t *testing.T) {
	for _, tc := range []struct {
		platform string
		ev       engine.BuildEvent
		want     string
	}{
		{ev: engine.BuildEvent{Step: 2, Steps: 5, Stage: "0", Instruction: "RUN make"}, want: "[2/5] RUN make"},
		{ev: engine.BuildEvent{Step: 2, Steps: 5, Stage: "builder", Instruction: "RUN make"}, want: "[builder 2/5] RUN make"},
		{platform: "linux/arm64", ev: engine.BuildEvent{Step: 3, Steps: 3, Stage: "1", Instruction: "COPY . ."}, want: "[linux/arm64 3/3] COPY . ."},
	} {
		p := newProgress()
		v := newVertices(p, "ref")
		v.platform = tc.platform
		tc.ev.Kind = engine.BuildStepStarted
		v.event(tc.ev, "")
		p.close()
		if got := p.msgs[0].Vertexes[0].Name; got != tc.want {
			t.Errorf("named %q, want %q", got, tc.want)
		}
	}
}

// The validator's errors and warnings become BuildKit's lint answer:
// notes left out, positions 0-based in the character, the exit status 1
// when anything was found.
func TestLintAnswer(t *testing.T) {
	diags := []engine.Diagnostic{
		{Severity: engine.SeverityWarning, Rule: "JSONArgsRecommended", Message: "use JSON", Line: 2, Column: 1, EndLine: 2, EndColumn: 18},
		{Severity: engine.SeverityInfo, Rule: "Note", Message: "fyi", Line: 1, Column: 1},
		{Severity: engine.SeverityError, Rule: "CurlyQuotes", Message: "straight quotes", Line: 3, Column: 5},
	}
	md, err := lintAnswer("Dockerfile", []byte("FROM x\nCMD a\nRUN b\n"), diags)
	if err != nil {
		t.Fatal(err)
	}
	var got lintResults
	if err := json.Unmarshal(md["result.json"], &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 2 || got.Warnings[0].RuleName != "JSONArgsRecommended" || got.Warnings[1].RuleName != "CurlyQuotes" {
		t.Fatalf("warnings %+v, want the warning and the error, not the note", got.Warnings)
	}
	if r := got.Warnings[1].Location.Ranges[0]; r.Start.Line != 3 || r.Start.Character != 4 || r.End.Character != 5 {
		t.Errorf("the error's range is %v, want line 3 from character 4 to 5", r)
	}
	if string(md["result.statuscode"]) != "1" || string(md["version"]) != lintVersion || !strings.Contains(string(md["result.txt"]), "WARNING: CurlyQuotes") {
		t.Errorf("metadata %q", md)
	}
	if md, _ := lintAnswer("Dockerfile", nil, nil); string(md["result.statuscode"]) != "0" {
		t.Errorf("a clean Dockerfile's status is %s", md["result.statuscode"])
	}
}
