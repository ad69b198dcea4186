package layers

import (
	"fmt"
	"io"
	"strings"
)

// WriteReport prints the layer table, the efficiency and the top wasted
// paths as plain text, in exact bytes (the command line and golden tests
// share it; views format their own).
func (a *Analysis) WriteReport(w io.Writer, topWasted int) {
	fmt.Fprintf(w, "%-5s %12s %6s %6s %6s  %s\n", "LAYER", "FILE BYTES", "ADDED", "MODIF", "REMOV", "CREATED BY")
	for _, l := range a.Layers {
		fmt.Fprintf(w, "%-5d %12d %6d %6d %6d  %s\n", l.Index, l.AddedBytes, l.Added, l.Modified, l.Removed, oneLine(l.CreatedBy))
		for _, s := range l.EmptySteps {
			fmt.Fprintf(w, "%-5s %12s %6s %6s %6s    + %s\n", "", "", "", "", "", oneLine(s))
		}
	}
	fmt.Fprintf(w, "\nfile bytes in layers: %d, visible in the image: %d, wasted: %d, efficiency: %.4f\n",
		a.TotalBytes, a.FinalBytes, a.Wasted, a.Efficiency)
	if len(a.WastedPaths) == 0 || topWasted == 0 {
		return
	}
	fmt.Fprintf(w, "\nwasted bytes by path:\n")
	for i, p := range a.WastedPaths {
		if i == topWasted {
			fmt.Fprintf(w, "  … %d more\n", len(a.WastedPaths)-i)
			break
		}
		fmt.Fprintf(w, "  %10d  /%s  (layers %s)\n", p.Bytes, p.Path, joinInts(p.Layers))
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 70 {
		s = s[:69] + "…"
	}
	return s
}

func joinInts(xs []int) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, ",")
}
