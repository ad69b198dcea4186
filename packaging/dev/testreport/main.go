// Command testreport reads `go test -json` on stdin and prints what CI
// needs to see: each package's result and time, every skipped test with
// its reason, and the whole output of every failed test (race reports and
// panics included). Passing tests stay quiet. go test's exit status is the
// run's (setup.sh uses pipefail); testreport fails only on unreadable input.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func main() {
	if err := report(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
}

func report(in io.Reader, out io.Writer) error {
	// Output per test, and per package (Test ""), kept until it ends.
	pending := map[[2]string]*strings.Builder{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if json.Unmarshal(line, &e) != nil || e.Action == "" {
			fmt.Fprintf(out, "%s\n", line) // not an event: a build error, say
			continue
		}
		key := [2]string{e.Package, e.Test}
		text := func() string {
			b := pending[key]
			delete(pending, key)
			if b == nil {
				return ""
			}
			return b.String()
		}
		switch {
		case e.Action == "output":
			if pending[key] == nil {
				pending[key] = &strings.Builder{}
			}
			pending[key].WriteString(e.Output)
		case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
			// The package's own lines: ok/FAIL with its time, [no test
			// files], and what no test owns (build errors, a panic).
			fmt.Fprint(out, packageLines(text()))
		case e.Action == "skip" || e.Action == "fail":
			fmt.Fprint(out, testLines(text()))
		case e.Action == "pass":
			text()
		}
	}
	return sc.Err()
}

// packageLines is a package's output without the bare PASS/FAIL lines
// (its ok/FAIL line with the time follows them).
func packageLines(s string) string {
	var kept []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if t := strings.TrimSpace(l); t != "PASS" && t != "FAIL" && !strings.HasPrefix(l, "=== ") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "")
}

// testLines is a failed or skipped test's output, its --- line first,
// without go test's "=== RUN" bookkeeping.
func testLines(s string) string {
	var head, body []string
	for _, l := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(l, "=== "), l == "":
		case strings.HasPrefix(l, "--- "):
			head = append(head, l)
		default:
			body = append(body, l)
		}
	}
	return strings.Join(append(head, body...), "")
}
