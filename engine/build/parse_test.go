package build

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A "# check=" comment below the first line made BuildKit's parser panic
// (a nil linter), taking the build handler down; Docker builds such files.
func TestParseCheckCommentAnywhere(t *testing.T) {
	for _, src := range []string{
		"FROM scratch\n# check=skip=JSONArgsRecommended\nCMD mycommand\n",
		"\n# check=skip=all\nFROM scratch\nCMD x\n",
		"FROM scratch\nCMD x\n# check=error=true\nENV A=1\n",
	} {
		df, err := parseDockerfile("Dockerfile", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if len(df.stages) != 1 {
			t.Fatalf("%q: %d stages", src, len(df.stages))
		}
	}
}

// FuzzParseDockerfile: the builder's parse of any file is a parsed file or
// an error (a *SyntaxError or a wrapped sentinel), never a panic. CI runs
// it for a bounded time.
func FuzzParseDockerfile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "dockerfiles", "*.Dockerfile"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("FROM scratch\n# check=skip=JSONArgsRecommended\nCMD mycommand\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		df, err := parseDockerfile("Dockerfile", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) && df != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if len(df.stages) == 0 {
			t.Fatal("a parsed file with no stage")
		}
	})
}
