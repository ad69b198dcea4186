package dockerfile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"

	"github.com/berth-dev/berth/engine"
)

// FileResult is one file's diagnostics, for a report.
type FileResult struct {
	File        string
	Diagnostics []engine.Diagnostic
}

// Formats are the report formats WriteReport writes: Berth's own text
// lines, and hadolint's formats, so berth lint drops into pipelines that
// read hadolint's output (GitHub code scanning reads SARIF, GitLab code
// quality reads gitlab_codeclimate, Jenkins checkstyle).
var Formats = []string{"text", "tty", "json", "sarif", "checkstyle", "gitlab_codeclimate"}

// WriteReport writes results in format (one of Formats).
func WriteReport(w io.Writer, format string, results []FileResult) error {
	switch format {
	case "text":
		for _, r := range results {
			for _, d := range r.Diagnostics {
				fmt.Fprintf(w, "%s:%d:%d %s %s %s\n", r.File, d.Line, d.Column, d.Severity, d.Rule, d.Message)
			}
		}
		return nil
	case "tty":
		for _, r := range results {
			for _, d := range r.Diagnostics {
				fmt.Fprintf(w, "%s:%d %s %s: %s\n", r.File, d.Line, d.Rule, d.Severity, d.Message)
			}
		}
		return nil
	case "json":
		return writeJSONReport(w, results)
	case "sarif":
		return writeSARIF(w, results)
	case "checkstyle":
		return writeCheckstyle(w, results)
	case "gitlab_codeclimate":
		return writeCodeClimate(w, results)
	}
	return fmt.Errorf("unknown report format %q: use one of %v", format, Formats)
}

// jsonDiagnostic carries hadolint's fields (file, line, column, level,
// code, message) and Berth's (rule, severity, the range's end, the fix).
type jsonDiagnostic struct {
	File      string      `json:"file"`
	Line      int         `json:"line"`
	Column    int         `json:"column"`
	EndLine   int         `json:"endLine"`
	EndColumn int         `json:"endColumn"`
	Level     string      `json:"level"`
	Code      string      `json:"code"`
	Rule      string      `json:"rule"`
	Severity  string      `json:"severity"`
	Message   string      `json:"message"`
	Fix       *engine.Fix `json:"fix,omitempty"`
}

func writeJSONReport(w io.Writer, results []FileResult) error {
	out := []jsonDiagnostic{}
	for _, r := range results {
		for _, d := range r.Diagnostics {
			out = append(out, jsonDiagnostic{r.File, d.Line, d.Column, d.EndLine, d.EndColumn, string(d.Severity), d.Rule, d.Rule, string(d.Severity), d.Message, d.Fix})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeSARIF writes SARIF 2.1.0, with the rules that fired described.
func writeSARIF(w io.Writer, results []FileResult) error {
	type text struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID                   string `json:"id"`
		ShortDescription     text   `json:"shortDescription"`
		FullDescription      text   `json:"fullDescription"`
		HelpURI              string `json:"helpUri,omitempty"`
		DefaultConfiguration struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
	}
	type region struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn"`
	}
	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region region `json:"region"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		Level     string     `json:"level"`
		Message   text       `json:"message"`
		Locations []location `json:"locations"`
	}
	var rules []rule
	seen := map[string]bool{}
	res := []result{}
	for _, r := range results {
		for _, d := range r.Diagnostics {
			if !seen[d.Rule] {
				seen[d.Rule] = true
				rr := rule{ID: d.Rule}
				if def, ok := RuleByID(d.Rule); ok {
					rr.ShortDescription.Text, rr.FullDescription.Text, rr.HelpURI = def.Summary, def.Explanation, def.URL()
					rr.DefaultConfiguration.Level = sarifLevel(def.Severity)
				}
				rules = append(rules, rr)
			}
			var loc location
			loc.PhysicalLocation.ArtifactLocation.URI = r.File
			loc.PhysicalLocation.Region = region{d.Line, d.Column, d.EndLine, d.EndColumn}
			res = append(res, result{d.Rule, sarifLevel(d.Severity), text{d.Message}, []location{loc}})
		}
	}
	slices.SortFunc(rules, func(a, b rule) int { return cmp.Compare(a.ID, b.ID) })
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": map[string]any{"name": "berth lint", "informationUri": "https://github.com/berth-dev/berth", "rules": rules}},
			"results": res,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func sarifLevel(s engine.Severity) string {
	switch s {
	case engine.SeverityError:
		return "error"
	case engine.SeverityWarning:
		return "warning"
	}
	return "note"
}

func writeCheckstyle(w io.Writer, results []FileResult) error {
	type xmlError struct {
		Line     int    `xml:"line,attr"`
		Column   int    `xml:"column,attr"`
		Severity string `xml:"severity,attr"`
		Message  string `xml:"message,attr"`
		Source   string `xml:"source,attr"`
	}
	type xmlFile struct {
		Name   string     `xml:"name,attr"`
		Errors []xmlError `xml:"error"`
	}
	doc := struct {
		XMLName xml.Name  `xml:"checkstyle"`
		Version string    `xml:"version,attr"`
		Files   []xmlFile `xml:"file"`
	}{Version: "4.3"}
	for _, r := range results {
		f := xmlFile{Name: r.File}
		for _, d := range r.Diagnostics {
			f.Errors = append(f.Errors, xmlError{d.Line, d.Column, string(d.Severity), d.Message, d.Rule})
		}
		doc.Files = append(doc.Files, f)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// writeCodeClimate writes GitLab's code quality report (Code Climate's
// issue format, with the fingerprint GitLab needs to follow an issue
// between runs).
func writeCodeClimate(w io.Writer, results []FileResult) error {
	type lines struct {
		Begin int `json:"begin"`
		End   int `json:"end"`
	}
	type issue struct {
		Type        string   `json:"type"`
		CheckName   string   `json:"check_name"`
		Description string   `json:"description"`
		Categories  []string `json:"categories"`
		Severity    string   `json:"severity"`
		Fingerprint string   `json:"fingerprint"`
		Location    struct {
			Path  string `json:"path"`
			Lines lines  `json:"lines"`
		} `json:"location"`
	}
	out := []issue{}
	for _, r := range results {
		for _, d := range r.Diagnostics {
			is := issue{Type: "issue", CheckName: d.Rule, Description: d.Message, Categories: []string{"Style"}, Severity: "minor"}
			switch d.Severity {
			case engine.SeverityError:
				is.Categories, is.Severity = []string{"Bug Risk"}, "major"
			case engine.SeverityInfo:
				is.Severity = "info"
			}
			sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s\x00%s", r.File, d.Line, d.Rule, d.Message))
			is.Fingerprint = hex.EncodeToString(sum[:16])
			is.Location.Path = r.File
			is.Location.Lines = lines{d.Line, d.EndLine}
			out = append(out, is)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
