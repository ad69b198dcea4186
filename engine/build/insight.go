package build

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"

	"github.com/berth-dev/berth/engine/iox"
)

// Why a step reran: BuildKit users have long asked to be told, and
// Berth's cache keys are its own, so each step's key inputs are kept by
// name (the files it copied with their hashes, the build arguments a RUN
// saw, its base image) and the next build compares a step that missed
// the cache with the same step of the last build that succeeded.

// stepInputs are what one step's cache key was made of.
type stepInputs struct {
	Instruction string            `json:"instruction"`
	Parent      string            `json:"parent"` // the cache key of the state before the step
	Base        string            `json:"base,omitempty"`
	BaseID      string            `json:"baseID,omitempty"` // FROM's image, for the stage's first step
	Files       map[string]string `json:"files,omitempty"`  // context path → content hash (COPY, ADD)
	Args        map[string]string `json:"args,omitempty"`   // build arguments a RUN saw
	// parentRan: in this build, the step before was not from the cache.
	parentRan bool
}

// stepRecord is the steps of the last build that succeeded, by position
// ("stage/step"), for one build identity (its tags and Dockerfile).
type stepRecord map[string]stepInputs

func insightPath(dir, identity string) string {
	return filepath.Join(dir, "insight", keyOf(identity)[:32]+".json")
}

func loadStepRecord(path string) stepRecord {
	var r stepRecord
	if data, err := os.ReadFile(path); err == nil {
		json.Unmarshal(data, &r)
	}
	return r
}

func (r stepRecord) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return iox.WriteFileAtomic(path, data, filepath.Dir(path))
}

// whyReran says, for a person, why a step missed the cache: what of its
// inputs changed since the last build, where the line is ("COPY . /app,
// line 6").
func whyReran(prev *stepInputs, cur stepInputs, line int) string {
	where := fmt.Sprintf(" (%s, line %d)", cur.Instruction, line)
	switch {
	case prev == nil:
		return engine.NoEarlierBuild + where
	case prev.BaseID != cur.BaseID && cur.BaseID != "":
		return fmt.Sprintf("Reran because the base image %s changed%s", cur.Base, where)
	case prev.Instruction != cur.Instruction:
		return fmt.Sprintf("Reran because the line changed: it was %q%s", prev.Instruction, where)
	}
	// Its own inputs first: they name the cause; the step before
	// rerunning only passes one on.
	if s := filesChanged(prev.Files, cur.Files); s != "" {
		return "Reran because " + s + where
	}
	if s := argsChanged(prev.Args, cur.Args); s != "" {
		return "Reran because " + s + where
	}
	switch {
	case prev.Parent != cur.Parent && cur.parentRan:
		return "Reran because the step before it reran" + where
	case prev.Parent != cur.Parent:
		return "Reran because what it builds on changed" + where
	}
	return "Reran because its cached result is gone (the build cache was pruned)" + where
}

// filesChanged names the files that differ: the first few and a count,
// changed, added and removed apart.
func filesChanged(prev, cur map[string]string) string {
	var changed, added, removed []string
	for p, h := range cur {
		switch old, ok := prev[p]; {
		case !ok:
			added = append(added, p)
		case old != h:
			changed = append(changed, p)
		}
	}
	for p := range prev {
		if _, ok := cur[p]; !ok {
			removed = append(removed, p)
		}
	}
	var parts []string
	for _, group := range []struct {
		paths     []string
		one, many string
	}{{changed, "changed", "changed"}, {added, "was added", "were added"}, {removed, "was removed", "were removed"}} {
		if len(group.paths) == 0 {
			continue
		}
		slices.Sort(group.paths)
		verb := group.many
		if len(group.paths) == 1 {
			verb = group.one
		}
		parts = append(parts, listFew(group.paths)+" "+verb)
	}
	return strings.Join(parts, ", and ")
}

func listFew(paths []string) string {
	const few = 3
	if len(paths) <= few {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more files", strings.Join(paths[:few], ", "), len(paths)-few)
}

// argsChanged names the build arguments whose values differ.
func argsChanged(prev, cur map[string]string) string {
	var parts []string
	both := map[string]string{}
	maps.Copy(both, cur)
	maps.Copy(both, prev)
	for _, k := range slices.Sorted(maps.Keys(both)) {
		old, had := prev[k]
		now, has := cur[k]
		switch {
		case had && has && old != now:
			parts = append(parts, fmt.Sprintf("ARG %s changed from %s to %s", k, old, now))
		case !had && has:
			parts = append(parts, fmt.Sprintf("ARG %s is now set (%s)", k, now))
		case had && !has:
			parts = append(parts, fmt.Sprintf("ARG %s is no longer set", k))
		}
	}
	return strings.Join(parts, ", and ")
}
