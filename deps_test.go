// Package berth_test guards the direction of Berth's dependencies, in the
// spirit of Go's own go/build/deps_test.go: cmd → views → app → engine,
// never back up, and the heavy libraries only where they belong.
package berth_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/berth-dev/berth"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// rules: for packages under a prefix, imports (direct, or anywhere in the
// dependency graph when transitive) that must not appear.
var rules = []struct {
	pkgs       string // package path prefix, relative to the module
	exact      bool   // only the package itself, not its subpackages
	forbidden  []string
	transitive bool
	why        string
}{
	{"engine", true, []string{"*"}, false, "the root engine package holds Berth's types and interfaces only: stdlib imports"},
	{"engine", false, []string{"fyne.io/", module + "/app", module + "/views", module + "/cmd"}, true, "the engine never depends on the UI"},
	{"engine/store", false, []string{module + "/engine/api", module + "/engine/registry", module + "/engine/runtime"}, false, "the store knows nothing of its users"},
	{"engine/registry", false, []string{module + "/engine/api"}, false, "the registry is used by the API, not the other way round"},
	{"engine/api", false, []string{module + "/engine/store", module + "/engine/registry", module + "/engine/runtime", module + "/engine/build"}, false, "the API serves the engine's interfaces, whatever implements them"},
	{"engine/dockerfile", false, []string{module + "/engine/store", module + "/engine/runtime", module + "/engine/build", module + "/engine/api"}, false, "validation stands alone: the editor runs it with no engine"},
	{"engine/build", false, []string{module + "/engine/api", module + "/engine/registry", module + "/engine/client"}, false, "the builder gets base images through its Puller seam"},
	{"app", false, []string{"fyne.io/", module + "/views", module + "/engine/store", module + "/engine/runtime", module + "/engine/build", module + "/engine/api", "github.com/opencontainers/runc"}, false, "app is Fyne-free and talks to the engine through its interfaces"},
	{"views", false, []string{module + "/engine/", "github.com/google/go-containerregistry", "github.com/opencontainers/runc", "github.com/moby/", "github.com/docker/"}, false, "views see Berth's own types only"},
	{"cmd/berth", true, []string{module + "/engine/client", module + "/engine/vm"}, false, "app.Open is the one way the app and its subcommands reach an engine"},
	{"cmd/berthd", false, []string{"fyne.io/", module + "/app", module + "/views"}, true, "the engine daemon has no UI"},
}

// importsUnder says whether imp is the package bad or below it: a path
// ending in "/" is a prefix ("fyne.io/"), any other a package and its
// subpackages, so engine/build does not also forbid engine/buildkit.
func importsUnder(imp, bad string) bool {
	if strings.HasSuffix(bad, "/") {
		return strings.HasPrefix(imp, bad)
	}
	return imp == bad || strings.HasPrefix(imp, bad+"/")
}

func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, r := range rules {
			if !(rel == r.pkgs || (!r.exact && strings.HasPrefix(rel, r.pkgs+"/"))) {
				continue
			}
			checked++
			imports := p.Imports
			if r.transitive {
				imports = p.Deps
			}
			for _, imp := range imports {
				for _, bad := range r.forbidden {
					if bad == "*" && !isStdlib(imp) || bad != "*" && importsUnder(imp, bad) {
						t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
					}
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d package/rule pairs checked: did the module path or layout change?", checked)
	}
}

func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
