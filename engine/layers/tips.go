package layers

import (
	"fmt"
	"sort"
	"strings"
)

// Tip ties wasted space back to the steps that caused it.
type Tip struct {
	WrittenIn, RemovedIn int   // layer indexes
	Bytes                int64 // wasted by this pair of steps
	Paths                int   // how many paths
	Message              string
}

// knownCaches are directories whose contents a later step usually deletes,
// with the fix that keeps them out of every layer.
var knownCaches = []struct{ prefix, fix string }{
	{"var/cache/apt/", "clean the apt cache in the same RUN as apt-get install (apt-get clean && rm -rf /var/lib/apt/lists/*)"},
	{"var/lib/apt/lists/", "remove /var/lib/apt/lists/* in the same RUN as apt-get update"},
	{"root/.cache/pip/", "pip install --no-cache-dir"},
	{"root/.npm/", "npm ci && npm cache clean --force in the same RUN"},
	{"var/cache/apk/", "apk add --no-cache"},
	{"tmp/", "delete temporary files in the same RUN that creates them"},
}

// Tips explains the waste step by step: for each pair of layers where one
// writes bytes and a later one deletes or overwrites them, how much, where,
// and what to change in the Dockerfile. Largest first.
func (a *Analysis) Tips() []Tip {
	type key struct{ from, to int }
	groups := map[key]*Tip{}
	dirs := map[key]map[string]int64{}
	for _, w := range a.WastedPaths {
		if len(w.Layers) < 2 {
			continue
		}
		k := key{w.Layers[0], w.Layers[len(w.Layers)-1]}
		t := groups[k]
		if t == nil {
			t = &Tip{WrittenIn: k.from, RemovedIn: k.to}
			groups[k] = t
			dirs[k] = map[string]int64{}
		}
		t.Bytes += w.Bytes
		t.Paths++
		dirs[k][topDir(w.Path)] += w.Bytes
	}
	var tips []Tip
	for k, t := range groups {
		where := biggest(dirs[k])
		fix := "do both in one RUN, or delete the files in the step that creates them"
		for _, c := range knownCaches {
			if strings.HasPrefix(where+"/", c.prefix) || strings.HasPrefix(c.prefix, where+"/") {
				fix = c.fix
				break
			}
		}
		t.Message = fmt.Sprintf("%d bytes in %d paths (mostly under /%s) written by layer %d (%s) and deleted or replaced by layer %d (%s): %s",
			t.Bytes, t.Paths, where, k.from, short(a.Layers[k.from].CreatedBy), k.to, short(a.Layers[k.to].CreatedBy), fix)
		tips = append(tips, *t)
	}
	sort.Slice(tips, func(i, j int) bool {
		if tips[i].Bytes != tips[j].Bytes {
			return tips[i].Bytes > tips[j].Bytes
		}
		return tips[i].WrittenIn < tips[j].WrittenIn
	})
	return tips
}

// topDir is the first two components of a path: specific enough to name
// a cache ("var/cache"), short enough to group.
func topDir(p string) string {
	parts := strings.SplitN(p, "/", 4)
	if len(parts) > 3 {
		parts = parts[:3]
	}
	if len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, "/")
}

func biggest(m map[string]int64) string {
	best, bytes := "", int64(-1)
	for k, v := range m {
		if v > bytes || v == bytes && k < best {
			best, bytes = k, v
		}
	}
	return best
}

func short(step string) string {
	s := oneLine(strings.TrimPrefix(strings.TrimPrefix(step, "/bin/sh -c "), "#(nop) "))
	if len(s) > 40 {
		s = s[:39] + "…"
	}
	if s == "" {
		return "unknown step"
	}
	return "`" + s + "`"
}
