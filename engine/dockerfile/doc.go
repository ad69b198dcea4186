// Package dockerfile validates Dockerfiles as the user types and explains
// them: the editor's live diagnostics and "this line adds layer 4" notes,
// and `berth lint`.
//
// Parsing is BuildKit's (frontend/dockerfile/parser and instructions), so
// the grammar is exactly Docker's. Analyze never stops at the first
// problem: an instruction the parser rejects is reported, blanked out and
// the rest parsed again, so a half-typed line leaves the diagnostics of
// the others in place. The rules, with their severities, one-line reasons
// and explanations, are data in rules.go; what each instruction does to
// the image is in explain.go.
package dockerfile
