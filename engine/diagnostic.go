package engine

// Severity ranks a diagnostic.
type Severity string

const (
	SeverityError   Severity = "error"   // the build will fail or do something else than written
	SeverityWarning Severity = "warning" // works, but slower, bigger, less safe or surprising
	SeverityInfo    Severity = "info"    // a tip
)

// Diagnostic is one finding about a Dockerfile. Lines and columns count
// from 1; the range ends before EndColumn on EndLine.
type Diagnostic struct {
	Severity           Severity
	Rule               string // e.g. "UnknownInstruction", "JSONArgsRecommended"
	Message            string
	Line, Column       int
	EndLine, EndColumn int
	// Fix, when there is an obvious one, rewrites lines Fix.Line to
	// Fix.EndLine as Fix.Text.
	Fix *Fix
}

// Fix replaces whole lines of a Dockerfile.
type Fix struct {
	Title   string `json:"title"` // "Use the exec form", "Replace with COPY"
	Line    int    `json:"line"`
	EndLine int    `json:"endLine"`
	Text    string `json:"text"` // the new lines, without a final newline
}
