package dockerfile

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
)

// Each report format, from the same two files, against its golden; the
// machine formats must also parse as what they claim to be.
func TestReportFormats(t *testing.T) {
	results := []FileResult{
		{"Dockerfile", Check([]byte("FROM alpine:3.20\nRUNN echo\nCMD python app.py\nEXPOSE 80\n"))},
		{"web/Dockerfile", Check([]byte("FROM python:3.12-slim\nRUN pip install flask\n"))},
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteReport(&buf, format, results); err != nil {
				t.Fatal(err)
			}
			switch format {
			case "json", "sarif", "gitlab_codeclimate":
				var v any
				if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
			case "checkstyle":
				var v struct{}
				if err := xml.Unmarshal(buf.Bytes(), &v); err != nil {
					t.Fatalf("not XML: %v", err)
				}
			}
			golden := filepath.Join("testdata", "report", format+".golden")
			if *update {
				os.WriteFile(golden, buf.Bytes(), 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s report differs from %s:\n%s", format, golden, buf.Bytes())
			}
		})
	}
	if err := WriteReport(&bytes.Buffer{}, "html", results); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// A .hadolint.yaml names rules by hadolint's codes or Berth's IDs: ignored
// ones go, overridden ones change severity; a bad threshold is refused.
func TestConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte("ignored: [DL3008, RootUser]\nfailure-threshold: warning\noverride:\n  error: [DL3015]\n  style: [ConsecutiveRun]\ntrustedRegistries: [docker.io]\n"))
	if err != nil {
		t.Fatal(err)
	}
	src := []byte("FROM debian:12-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nRUN echo a\nRUN echo b\nEXPOSE 80\n")
	got := map[string]string{}
	for _, d := range (&Analyzer{Options: Options{Config: cfg}}).Analyze(src).Diagnostics {
		got[d.Rule] = string(d.Severity)
	}
	want := map[string]string{"AptNoInstallRecommends": "error", "ConsecutiveRun": "info"}
	for rule, sev := range want {
		if got[rule] != sev {
			t.Errorf("%s: severity %q, want %q (all: %v)", rule, got[rule], sev, got)
		}
	}
	for _, gone := range []string{"PinAptVersions", "RootUser"} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s is ignored but reported", gone)
		}
	}
	if _, err := ParseConfig([]byte("failure-threshold: loud\n")); err == nil {
		t.Error("a bad failure-threshold was accepted")
	}
	if _, err := ParseConfig([]byte("ignored: [\n")); err == nil {
		t.Error("broken YAML was accepted")
	}
	// disable-ignore-pragma: "# hadolint ignore=" comments no longer count.
	pragma := []byte("FROM debian:12-slim\n# hadolint ignore=DL3008\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n")
	strict, _ := ParseConfig([]byte("disable-ignore-pragma: true\n"))
	count := func(opts Options) int {
		n := 0
		for _, d := range (&Analyzer{Options: opts}).Analyze(pragma).Diagnostics {
			if d.Rule == "PinAptVersions" {
				n++
			}
		}
		return n
	}
	if count(Options{}) != 0 || count(Options{Config: strict}) != 1 {
		t.Errorf("pragma honoured %d, with disable-ignore-pragma %d; want 0 and 1", count(Options{}), count(Options{Config: strict}))
	}
}
