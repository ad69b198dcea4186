package dockerfile

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/broken")

// format writes diagnostics the way the goldens hold them.
func format(diags []engine.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%d:%d-%d:%d %s %s %s\n", d.Line, d.Column, d.EndLine, d.EndColumn, d.Severity, d.Rule, d.Message)
		if d.Fix != nil {
			fmt.Fprintf(&b, "  fix %q lines %d-%d: %s\n", d.Fix.Title, d.Fix.Line, d.Fix.EndLine, d.Fix.Text)
		}
	}
	return b.String()
}

// The real-world corpus builds with Docker: no errors here either.
func TestCorpusHasNoErrors(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "dockerfiles", "*.Dockerfile"))
	if len(files) < 40 {
		t.Fatalf("corpus has %d files, want at least 40", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res := Analyze(src)
		for _, d := range res.Diagnostics {
			if d.Severity == engine.SeverityError {
				t.Errorf("%s:%d:%d %s %s", filepath.Base(f), d.Line, d.Column, d.Rule, d.Message)
			}
		}
		if len(res.Steps) == 0 {
			t.Errorf("%s: no steps", filepath.Base(f))
		}
	}
}

// checkCase analyzes a corpus file as the editor would: with the
// <case>.dockerignore beside it as the context's, when there is one.
func checkCase(t testing.TB, f string) []engine.Diagnostic {
	src, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var opts Options
	if data, err := os.ReadFile(strings.TrimSuffix(f, ".Dockerfile") + ".dockerignore"); err == nil {
		patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if opts.Ignore, err = patternmatcher.New(patterns); err != nil {
			t.Fatal(err)
		}
	}
	return (&Analyzer{Options: opts}).Analyze(src).Diagnostics
}

// The goldens: testdata/broken holds files with problems (each must have
// a diagnostic), testdata/falsealarms files that other checkers, or an
// earlier Berth, wrongly complained about (most must have none).
func TestGoldens(t *testing.T) {
	if *update && os.Getenv("CI") != "" {
		t.Fatal("-update rewrites goldens; never in CI")
	}
	for _, dir := range []string{"broken", "falsealarms"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.Dockerfile"))
		if len(files) < 10 {
			t.Fatalf("%d files in %s", len(files), dir)
		}
		for _, f := range files {
			t.Run(dir+"/"+strings.TrimSuffix(filepath.Base(f), ".Dockerfile"), func(t *testing.T) {
				got := format(checkCase(t, f))
				golden := strings.TrimSuffix(f, ".Dockerfile") + ".golden"
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./engine/dockerfile -update)", err)
				}
				if got != string(want) {
					t.Errorf("diagnostics differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
				}
				if dir == "broken" && got == "" {
					t.Error("a broken file with no diagnostic")
				}
			})
		}
	}
}

// Every rule the checks use is declared, and every declared rule has a
// reason and an explanation; the issue asks for at least 25 warnings and tips.
func TestRulesAreDeclaredAndExplained(t *testing.T) {
	seen := map[string]bool{}
	nonErrors := 0
	for _, r := range Rules {
		if seen[r.ID] {
			t.Errorf("rule %s declared twice", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || len(r.Explanation) < 40 || strings.Contains(r.Explanation, "http") {
			t.Errorf("rule %s: summary %q, explanation %q (wanted: a reason, and a link-free explanation)", r.ID, r.Summary, r.Explanation)
		}
		if r.Severity != engine.SeverityError {
			nonErrors++
		}
	}
	if nonErrors < 25 {
		t.Errorf("%d warning and tip rules, want at least 25", nonErrors)
	}
	// Every rule fires somewhere in the goldens.
	fired := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("testdata", "broken", "*.Dockerfile"))
	for _, f := range files {
		for _, d := range checkCase(t, f) {
			if !seen[d.Rule] {
				t.Errorf("%s: rule %s is not declared in rules.go", f, d.Rule)
			}
			fired[d.Rule] = true
		}
	}
	for _, r := range Rules {
		if !fired[r.ID] {
			t.Errorf("rule %s never fires in testdata/broken", r.ID)
		}
	}
	// BuildKit's checks that Berth has are named as BuildKit names them
	// (docker build reports the same name), and every hadolint code
	// belongs to one rule.
	for name := range buildkitRules {
		if _, ok := rulesByID[name]; !ok && name != "InvalidBaseImagePlatform" && name != "InvalidDefaultArgInFrom" {
			t.Errorf("BuildKit's check %s has no rule of that name", name)
		}
	}
	for code, ids := range rulesByHadolint {
		if len(ids) != 1 {
			t.Errorf("hadolint's %s maps to %v", code, ids)
		}
	}
}

func TestFixesApply(t *testing.T) {
	cases := []struct{ src, rule, want string }{
		{"FROM alpine:3.20\nCMD python app.py\n", "JSONArgsRecommended", `CMD ["python", "app.py"]`},
		{"FROM alpine:3.20\nADD app.py /app/\n", "AddInsteadOfCopy", "COPY app.py /app/"},
		{"FROM alpine:3.20\nRUNN echo\n", "UnknownInstruction", "RUN echo"},
		{"FROM alpine:3.20\nCMD [“python”, “app.py”]\n", "TypographicQuotes", `CMD ["python", "app.py"]`},
		{"FROM alpine:3.20\nENV GREETING hello world\n", "LegacyKeyValueFormat", `ENV GREETING="hello world"`},
		{"FROM alpine:3.20\nMAINTAINER jane\n", "MaintainerDeprecated", `LABEL org.opencontainers.image.authors="jane"`},
		{"FROM alpine:3.20\nWORKDIR app\n", "WorkdirRelativePath", "WORKDIR /app"},
		{"FROM debian:12\nRUN apt install -y x=1 --no-install-recommends && rm -rf /var/lib/apt/lists/*\n", "UseAptGet", "RUN apt-get install -y x=1 --no-install-recommends && rm -rf /var/lib/apt/lists/*"},
		{"FROM debian:12\nRUN apt-get install x=1 --no-install-recommends && rm -rf /var/lib/apt/lists/*\n", "AptGetYes", "RUN apt-get install -y x=1 --no-install-recommends && rm -rf /var/lib/apt/lists/*"},
		{"FROM alpine:3.20\nRUN apk add curl=8\n", "ApkNoCache", "RUN apk add --no-cache curl=8"},
		{"FROM python:3.12\nRUN pip install flask==3\n", "PipNoCacheDir", "RUN pip install --no-cache-dir flask==3"},
		{"FROM python:3.12\nRUN pip install —no-cache-dir flask==3\n", "TypographicDash", "RUN pip install --no-cache-dir flask==3"},
		{"FROM Python:3.12\n", "InvalidImageName", "FROM python:3.12"},
		{"FROM alpine:3.20\nWORKDIR /app\nCOPY app.py ./ # the app\n", "InlineComment", "# the app\nCOPY app.py ./"},
		{"FROM debian:12\nRUN source /etc/profile && env\n", "SourceInSh", "RUN . /etc/profile && env"},
		{"FROM nginx:1.27\nHEALTHCHECK CMD curl localhost\n", "HealthcheckWithoutFail", "HEALTHCHECK CMD curl -f localhost"},
		{"FROM alpine:3.20\nEXPOSE 8080:80\n", "ExposeInvalidFormat", "EXPOSE 80"},
		{"FROM alpine:3.20\nEXPOSE 80/TCP\n", "ExposeProtoCasing", "EXPOSE 80/tcp"},
		{"FROM alpine:3.20 as build\n", "FromAsCasing", "FROM alpine:3.20 AS build"},
		{"FROM alpine:3.20\nRUN echo a && echo b\nrun echo c && echo d\n", "ConsistentInstructionCasing", "RUN echo c && echo d"},
		{"FROM alpine:3.20\napk add --no-cache curl=8\n", "UnknownInstruction", "RUN apk add --no-cache curl=8"},
	}
	for _, tc := range cases {
		var fix *engine.Fix
		for _, d := range Check([]byte(tc.src)) {
			if d.Rule == tc.rule {
				fix = d.Fix
			}
		}
		if fix == nil || fix.Text != tc.want {
			t.Errorf("%q: %s fix %+v, want %q", tc.src, tc.rule, fix, tc.want)
			continue
		}
		// Applying the fix clears the diagnostic.
		lines := strings.Split(tc.src, "\n")
		lines = append(lines[:fix.Line-1], append([]string{fix.Text}, lines[fix.EndLine:]...)...)
		for _, d := range Check([]byte(strings.Join(lines, "\n"))) {
			if d.Rule == tc.rule {
				t.Errorf("%q: %s still reported after the fix", tc.src, tc.rule)
			}
		}
	}
}

func TestStepsExplainLayers(t *testing.T) {
	src := "ARG V=1\nFROM alpine:3.20 AS build\nWORKDIR /src\nCOPY . .\nRUN make \\\n  all\nENV A=1\nFROM scratch\nCOPY --from=build /src/app /app\nCMD [\"/app\"]\n"
	res := Analyze([]byte(src))
	var got []string
	for _, s := range res.Steps {
		got = append(got, fmt.Sprintf("%d-%d %s stage %d: %s", s.Line, s.EndLine, s.Keyword, s.Stage, s.Note()))
	}
	want := []string{
		"1-1 ARG stage -1: changes the image's settings only: no layer",
		"2-2 FROM stage 0: starts stage 0 (build) from the base image's layers",
		"3-3 WORKDIR stage 0: adds layer 1 of this stage if the directory is new",
		"4-4 COPY stage 0: adds layer 2 of this stage (after the base image's)",
		"5-6 RUN stage 0: adds layer 3 of this stage (after the base image's)",
		"7-7 ENV stage 0: changes the image's settings only: no layer",
		"8-8 FROM stage 1: starts stage 1 from the base image's layers",
		"9-9 COPY stage 1: adds layer 1 of this stage (after the base image's)",
		"10-10 CMD stage 1: changes the image's settings only: no layer",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s, ok := res.StepAt(6); !ok || s.Keyword != "RUN" {
		t.Fatalf("StepAt(6) = %+v", s)
	}
	for _, kw := range instructionNames {
		e, ok := Explain(kw)
		if !ok || e.Summary == "" || e.Text == "" || e.Effect == "" {
			t.Errorf("no explanation for %s", kw)
		}
	}
}

// Half-typed lines, as the editor sees them on every keystroke, never stop
// the other lines' diagnostics.
func TestHalfTypedKeepsOtherDiagnostics(t *testing.T) {
	src := "FROM ubuntu\nRUN apt-get install curl\nCO\nENV A\nCMD python app.py\n"
	rules := map[string]bool{}
	for _, d := range Check([]byte(src)) {
		rules[d.Rule] = true
	}
	for _, want := range []string{"UntaggedBaseImage", "AptGetYes", "UnknownInstruction", "ArgumentCount", "JSONArgsRecommended"} {
		if !rules[want] {
			t.Errorf("missing %s in %v", want, rules)
		}
	}
}

func TestCheckSkipDirective(t *testing.T) {
	src := "# check=skip=JSONArgsRecommended,RootUser\nFROM alpine:3.20\nCMD python app.py\nRUNN x\n"
	for _, d := range Check([]byte(src)) {
		if d.Rule == "JSONArgsRecommended" || d.Rule == "RootUser" {
			t.Errorf("skipped rule reported: %+v", d)
		}
	}
	if n := len(Check([]byte(src))); n != 1 {
		t.Errorf("%d diagnostics, want the one error", n)
	}
	all := "# check=skip=all\nFROM ubuntu\nCMD python app.py\n"
	if d := Check([]byte(all)); len(d) != 0 {
		t.Errorf("skip=all left %v", d)
	}
}

// A typo as close to two flags as to one another gets the same suggestion
// on every run (BuildKit's comes from a map); CI's fuzzing met --chmow-.
func TestFlagSuggestionIsStable(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"FROM scratch\nADD --chmow-=1 a b\n", "ADD has no flag --chmow-: did you mean --chmod?"},
		{"FROM scratch\nCOPY --frm=a b c\n", "COPY has no flag --frm: did you mean --from?"},
		{"FROM scratch\nRUN --mout=type=cache,target=/x true\n", "RUN has no flag --mout: did you mean --mount?"},
		{"FROM scratch\nCOPY --zzzzzz a b\n", "COPY has no flag --zzzzzz"},
	} {
		for range 20 {
			res := Analyze([]byte(tc.src))
			var got []string
			for _, d := range res.Diagnostics {
				if d.Rule == "UnknownFlag" {
					got = append(got, d.Message)
				}
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("%q: UnknownFlag diagnostics %q, want [%q]", tc.src, got, tc.want)
			}
		}
	}
}
