package dockerfile_test

import (
	"fmt"
	"os"

	"github.com/berth-dev/berth/engine/dockerfile"
)

// Analyze reports each problem with its line, rule and a fix where one is
// safe, and says what every instruction does to the image.
func ExampleAnalyze() {
	res := dockerfile.Analyze([]byte(`FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install —no-cache-dir -r requirements.txt
CMD python app.py
`))
	for _, d := range res.Diagnostics {
		fmt.Printf("%d %s %s\n", d.Line, d.Severity, d.Rule)
		if d.Fix != nil {
			fmt.Printf("  fix: %s\n", d.Fix.Text)
		}
	}
	for _, s := range res.Steps {
		fmt.Printf("%s: %s\n", s.Keyword, s.Note())
	}
	// Output:
	// 3 warning CopyAllBeforeInstall
	//   fix: COPY requirements.txt ./
	// RUN pip install —no-cache-dir -r requirements.txt
	// COPY . .
	// 4 error TypographicDash
	//   fix: RUN pip install --no-cache-dir -r requirements.txt
	// 5 warning JSONArgsRecommended
	//   fix: CMD ["python", "app.py"]
	// FROM: starts stage 0 from the base image's layers
	// WORKDIR: adds layer 1 of this stage if the directory is new
	// COPY: adds layer 2 of this stage (after the base image's)
	// RUN: adds layer 3 of this stage (after the base image's)
	// CMD: changes the image's settings only: no layer
}

// WriteReport writes what berth lint prints, in hadolint's formats too.
func ExampleWriteReport() {
	cfg, _ := dockerfile.ParseConfig([]byte("ignored: [DL3025]\n"))
	z := &dockerfile.Analyzer{Options: dockerfile.Options{Config: cfg}}
	res := z.Analyze([]byte("FROM alpine\nCMD run\n"))
	dockerfile.WriteReport(os.Stdout, "tty", []dockerfile.FileResult{{File: "Dockerfile", Diagnostics: res.Diagnostics}})
	// Output:
	// Dockerfile:1 UntaggedBaseImage warning: FROM alpine has no tag, so it means alpine:latest: pin a version, e.g. alpine:<version>
}
