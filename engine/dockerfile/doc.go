// Package dockerfile validates Dockerfiles as the user types and explains
// them: the editor's live diagnostics and "this line adds layer 4" notes,
// and `berth lint`.
//
// Parsing is BuildKit's (frontend/dockerfile/parser and instructions, with
// its linter, so BuildKit's own checks and "# check=" comments behave as in
// docker build), and a RUN line is read by a real shell parser
// (mvdan.cc/sh). Analyze never stops at the first problem: an instruction
// the parser rejects is reported, blanked out and the rest parsed again,
// so a half-typed line leaves the diagnostics of the others in place.
//
// The checks follow the stages: what a stage inherits from the stage it
// is built FROM (ENV, SHELL, WORKDIR, USER), which stages end up in the
// image (rules about a layer's size apply only there), which variables
// have a value. The rules, with their severities, hadolint codes and
// explanations, are data in rules.go; what each instruction does to the
// image is in explain.go. A project tunes them with a .hadolint.yaml
// (Config) and comments ("# hadolint ignore=DL3008", "# check=skip=…").
//
// An Analyzer re-validates successive versions of a file cheaply: an edit
// inside one instruction parses only that instruction again.
package dockerfile
