package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.Dockerfile")
	bad := filepath.Join(dir, "Dockerfile")
	os.WriteFile(good, []byte("FROM alpine:3.20\nRUN adduser -D app\nUSER app\nCMD [\"sh\"]\n"), 0o644)
	os.WriteFile(bad, []byte("FROM alpine:3.20\nRUNN echo\nCMD python app.py\nUSER 1\n"), 0o644)

	var out, errOut bytes.Buffer
	if code := lintCommand([]string{good}, &out, &errOut); code != 0 || out.String() != "" {
		t.Fatalf("clean file: exit %d, output %q %q", code, out.String(), errOut.String())
	}
	out.Reset()
	code := lintCommand([]string{good, bad}, &out, &errOut)
	want := bad + ":2:1 error UnknownInstruction Unknown instruction RUNN: did you mean RUN?\n" +
		bad + ":3:1 warning JSONArgsRecommended CMD in shell form runs under /bin/sh, which does not pass docker stop's signal on: use the exec form, CMD [\"program\", \"arg\"]\n"
	if code != 1 || out.String() != want {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", code, out.String(), want)
	}

	// Warnings alone pass, unless the threshold says otherwise.
	warnOnly := filepath.Join(dir, "warn.Dockerfile")
	os.WriteFile(warnOnly, []byte("FROM alpine:3.20\nCMD python app.py\nUSER 1\n"), 0o644)
	out.Reset()
	if code := lintCommand([]string{warnOnly}, &out, &errOut); code != 0 {
		t.Fatalf("warnings only: exit %d", code)
	}
	if code := lintCommand([]string{"--failure-threshold", "warning", warnOnly}, &out, &errOut); code != 1 {
		t.Fatalf("--failure-threshold warning: exit %d", code)
	}

	out.Reset()
	if code := lintCommand([]string{"--format", "json", bad}, &out, &errOut); code != 1 {
		t.Fatalf("json: exit %d", code)
	}
	var diags []struct {
		File     string
		Line     int
		Column   int
		Severity string
		Rule     string
		Message  string
		Fix      *struct{ Title, Text string }
	}
	if err := json.Unmarshal(out.Bytes(), &diags); err != nil {
		t.Fatalf("json output: %v\n%s", err, out.String())
	}
	if len(diags) != 2 || diags[0].Rule != "UnknownInstruction" || diags[0].Fix == nil || diags[0].Fix.Text != "RUN echo" || diags[1].Fix.Text != `CMD ["python", "app.py"]` {
		t.Fatalf("json diagnostics: %+v", diags)
	}

	errOut.Reset()
	if code := lintCommand([]string{filepath.Join(dir, "missing")}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "missing") {
		t.Fatalf("missing file: exit %d, %q", code, errOut.String())
	}
	if code := lintCommand(nil, &out, &errOut); code != 2 {
		t.Fatalf("no file: exit %d", code)
	}
}

// berth lint drops into a hadolint pipeline: its flags (-f, -t, -c,
// --ignore, --no-fail), its .hadolint.yaml, its output formats.
func TestLintLikeHadolint(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	os.WriteFile(df, []byte("FROM debian:12-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nCMD python app.py\n"), 0o644)
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := lintCommand(args, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := run("-f", "tty", df); code != 0 || !strings.Contains(out, df+":2 PinAptVersions info: ") {
		t.Fatalf("tty: exit %d\n%s", code, out)
	}
	if code, out := run("-t", "warning", df); code != 1 {
		t.Fatalf("-t warning: exit %d\n%s", code, out)
	}
	if code, _ := run("-t", "warning", "--no-fail", df); code != 0 {
		t.Fatalf("--no-fail: exit %d", code)
	}
	if code, _ := run("-t", "none", df); code != 0 {
		t.Fatalf("-t none: exit %d", code)
	}
	if code, out := run("--ignore", "DL3008", "--ignore", "JSONArgsRecommended", "-t", "style", df); code != 1 || strings.Contains(out, "PinAptVersions") || strings.Contains(out, "JSONArgs") {
		t.Fatalf("--ignore: exit %d\n%s", code, out)
	}
	cfg := filepath.Join(dir, "hadolint.yaml")
	os.WriteFile(cfg, []byte("ignored: [DL3008, DL3015]\nfailure-threshold: warning\nformat: gitlab_codeclimate\n"), 0o644)
	code, out := run("-c", cfg, df)
	var issues []struct {
		CheckName   string `json:"check_name"`
		Fingerprint string
		Location    struct{ Path string }
	}
	if err := json.Unmarshal([]byte(out), &issues); err != nil || code != 1 || len(issues) != 1 || issues[0].CheckName != "JSONArgsRecommended" || issues[0].Fingerprint == "" || issues[0].Location.Path != df {
		t.Fatalf("with a configuration: exit %d, %v\n%s", code, err, out)
	}
	if code, out := run("-f", "sarif", df); code != 0 || !strings.Contains(out, `"version": "2.1.0"`) {
		t.Fatalf("sarif: exit %d\n%s", code, out)
	}
	if code, _ := run("-f", "html", df); code != 2 {
		t.Fatalf("unknown format: exit %d", code)
	}
	if code, _ := run("-c", filepath.Join(dir, "missing.yaml"), df); code != 2 {
		t.Fatalf("missing configuration: exit %d", code)
	}
}
