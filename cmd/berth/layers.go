package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine/layers"
)

// layersCommand is `berth layers`: the layer table, the efficiency and the
// top wasted paths of an image, like `dive --ci`. It returns the exit code:
// 1 when --ci finds the efficiency below the threshold, 2 on errors.
func layersCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("berth layers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the analysis as JSON")
	tarPath := fs.String("tar", "", "analyse an image tarball (docker save) instead of asking the engine")
	host := fs.String("H", "", "engine address (default: the settings' engine, else $DOCKER_HOST, else Berth's own)")
	ci := fs.Bool("ci", false, "exit 1 when the efficiency is below --lowest-efficiency")
	lowest := fs.Float64("lowest-efficiency", 0.9, "the lowest efficiency --ci accepts (0 to 1)")
	top := fs.Int("top", 10, "how many wasted paths to list")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	image := fs.Arg(0)
	if image == "" && *tarPath == "" || fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: berth layers [--json] [--tar FILE] [--ci --lowest-efficiency N] IMAGE")
		return 2
	}
	var a *layers.Analysis
	var err error
	if *tarPath != "" {
		a, err = layers.FromTarball(*tarPath, image)
	} else {
		settings, _, _ := loadSettings()
		if *host != "" {
			settings.Engine = *host
		}
		var core *app.Core
		if core, err = openForCommand(context.Background(), settings); err == nil {
			defer core.Close()
			a, err = app.ImageLayers(core.Context(), core.Engine.Archives, image)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "berth layers:", app.Explain(err))
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(jsonReport(a, *top))
	} else {
		a.WriteReport(stdout, *top)
		for _, t := range a.Tips() {
			fmt.Fprintln(stdout, "\ntip:", t.Message)
		}
	}
	if *ci && a.Efficiency < *lowest {
		fmt.Fprintf(stderr, "berth layers: efficiency %.4f is below %.4f\n", a.Efficiency, *lowest)
		return 1
	}
	return 0
}

type layerJSON struct {
	Index            int      `json:"index"`
	Digest           string   `json:"digest"`
	DiffID           string   `json:"diffID"`
	CompressedSize   int64    `json:"compressedSize"`
	UncompressedSize int64    `json:"uncompressedSize"`
	CreatedBy        string   `json:"createdBy"`
	EmptySteps       []string `json:"emptySteps,omitempty"`
	Added            int      `json:"added"`
	Modified         int      `json:"modified"`
	Removed          int      `json:"removed"`
	FileBytes        int64    `json:"fileBytes"`
}

func jsonReport(a *layers.Analysis, top int) any {
	out := struct {
		Layers      []layerJSON         `json:"layers"`
		TotalBytes  int64               `json:"totalBytes"`
		FinalBytes  int64               `json:"finalBytes"`
		Wasted      int64               `json:"wastedBytes"`
		Efficiency  float64             `json:"efficiency"`
		WastedPaths []layers.WastedPath `json:"wastedPaths"`
		Tips        []string            `json:"tips"`
	}{TotalBytes: a.TotalBytes, FinalBytes: a.FinalBytes, Wasted: a.Wasted, Efficiency: a.Efficiency, WastedPaths: a.WastedPaths, Tips: []string{}}
	if len(out.WastedPaths) > top {
		out.WastedPaths = out.WastedPaths[:top]
	}
	for _, l := range a.Layers {
		out.Layers = append(out.Layers, layerJSON{Index: l.Index, Digest: l.Digest, DiffID: l.DiffID, CompressedSize: l.CompressedSize,
			UncompressedSize: l.UncompressedSize, CreatedBy: l.CreatedBy, EmptySteps: l.EmptySteps,
			Added: l.Added, Modified: l.Modified, Removed: l.Removed, FileBytes: l.AddedBytes})
	}
	for _, t := range a.Tips() {
		out.Tips = append(out.Tips, t.Message)
	}
	return out
}
