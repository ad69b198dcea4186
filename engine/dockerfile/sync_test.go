package dockerfile

import (
	"cmp"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanSync(t *testing.T) {
	ctx := t.TempDir()
	os.MkdirAll(filepath.Join(ctx, "src", "pkg"), 0o755)
	python := `FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["python3", "app.py"]
`
	type want struct{ rel, dest, err string }
	tests := []struct {
		name, src, target string
		dockerfile        string
		planErr           string
		files             []want
	}{
		{name: "python sample", src: python, files: []want{
			{rel: "app.py", dest: "/app/app.py"},
			{rel: "static/site.css", dest: "/app/static/site.css"},
			{rel: "requirements.txt", err: "also copied by COPY requirements.txt . (line 3)"},
			{rel: "Dockerfile", err: "Dockerfile changed"},
			{rel: ".dockerignore", err: ".dockerignore changed"},
		}},
		{name: "a Dockerfile of another name", src: "FROM a\nCOPY . /app\n", dockerfile: "Dockerfile.dev", files: []want{
			{rel: "Dockerfile.dev.dockerignore", err: "changed"}, {rel: "Dockerfile.dev", err: "changed"}, {rel: "Dockerfile", dest: "/app/Dockerfile"}}},
		{name: "a RUN after the last COPY", src: "FROM a\nCOPY . /app\nRUN make\n", planErr: "RUN on line 3 comes after the last COPY"},
		{name: "a folder source", src: "FROM a\nWORKDIR /srv\nCOPY src/ web/\nWORKDIR /srv/web\nUSER 1000\n", files: []want{
			{rel: "src/pkg/x.js", dest: "/srv/web/pkg/x.js"},
			{rel: "README.md", err: "not copied by COPY src/ web/"},
		}},
		{name: "a file to a file", src: "FROM a\nCOPY conf.ini /etc/app.ini\n", files: []want{{rel: "conf.ini", dest: "/etc/app.ini"}}},
		{name: "files to a folder", src: "FROM a\nCOPY a.txt b.txt /data\n", files: []want{{rel: "b.txt", dest: "/data/b.txt"}}},
		{name: "a pattern", src: "FROM a\nCOPY *.html /www/\n", files: []want{{rel: "index.html", dest: "/www/index.html"}, {rel: "x.css", err: "not copied"}}},
		{name: "copied from another stage", src: "FROM a AS build\nCOPY . /src\nRUN make\nFROM b\nCOPY --from=build /src/out /out\n", planErr: "copies nothing from the folder"},
		{name: "the build stage copies it too", src: "FROM a AS build\nCOPY go.mod /src/\nFROM b\nCOPY . /app/\n", files: []want{{rel: "go.mod", err: "also copied by COPY go.mod /src/ (line 2)"}, {rel: "main.go", dest: "/app/main.go"}}},
		{name: "a target stage", src: "FROM a AS dev\nCOPY . /dev/\nFROM a\nCOPY . /prod/\nRUN x\n", target: "dev", files: []want{{rel: "m.py", dest: "/dev/m.py"}}},
		{name: "chown", src: "FROM a\nCOPY --chown=node:node . /app\n", planErr: "sets owners"},
		{name: "a variable destination", src: "FROM a\nARG DIR=/app\nCOPY . $DIR\n", planErr: "depends on a variable"},
		{name: "ADD of an archive", src: "FROM a\nADD . /app/\n", files: []want{{rel: "x.tar.gz", err: "ADD unpacks"}, {rel: "x.py", dest: "/app/x.py"}}},
		{name: "does not parse", src: "FROM a\nCOPY\n", planErr: "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanSync([]byte(tt.src), cmp.Or(tt.dockerfile, "Dockerfile"), tt.target)
			if tt.planErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.planErr) {
					t.Fatalf("PlanSync: %v, want an error with %q", err, tt.planErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.files {
				dest, err := p.Target(ctx, f.rel)
				switch {
				case f.err != "" && (err == nil || !strings.Contains(err.Error(), f.err)):
					t.Errorf("%s: %q, %v; want an error with %q", f.rel, dest, err, f.err)
				case f.err == "" && (err != nil || dest != f.dest):
					t.Errorf("%s: %q, %v; want %q", f.rel, dest, err, f.dest)
				}
			}
		})
	}
}
