package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A recorded `go test -json` run (a passing package, one without tests,
// and one with a passing, a skipped and a failing test) reads as the
// golden file: package times, the skip with its reason, the failure whole,
// nothing of the passing test.
func TestReport(t *testing.T) {
	in, err := os.Open(filepath.Join("testdata", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	if err := report(in, &out); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "run.golden"))
	if out.String() != string(want) {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
	if bytes.Contains(out.Bytes(), []byte("quiet")) {
		t.Error("a passing test's log was printed")
	}
}
