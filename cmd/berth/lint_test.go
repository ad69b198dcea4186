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
