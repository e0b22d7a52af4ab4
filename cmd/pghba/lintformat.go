package main

// This file is what pghba lint reports and how: the findings of each file
// turned into results by the one policy function (in-source
// suppressions, checks enabled, severities, changed lines), and the
// writers of every --format.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

// lintSuppression is one waiver of a finding, as SARIF's suppression
// object: kind "inSource" and the reason given.
type lintSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// lintPlace is a place in a file, named for each output.
type lintPlace struct {
	file      string // display name
	uri       string // SARIF and github name: a slash path from the root (or --path-prefix), else absolute
	line, col int
	endCol    int    // just past the token at fault; 0 with col
	seg       string // --lines: the segment and index of the line
	idx       int
}

// lintResult is one finding as reported.
type lintResult struct {
	lintPlace                  // col in code points
	severity    audit.Severity // after --severity and the configuration
	check       string
	message     string
	related     []lintPlace
	included    []lintPlace
	witness     *lintJSONCase
	snippet     string // the rule's logical line; "" when unknown
	fingerprint string
	// suppressions are the waivers that apply (a # pghba: ignore=
	// comment): a suppressed result is in the JSON and SARIF output only
	// and never fails the run.
	suppressions []lintSuppression
	fails        bool // not suppressed, and at the fail-on level or worse
}

// lintNamer names the places of one linted file.
type lintNamer struct {
	rep    *lintReport
	main   namer // the main file's directory
	legacy bool  // display names from the main file's directory
}

func (rep *lintReport) namerFor(n namer, legacy bool) lintNamer {
	return lintNamer{rep: rep, main: n, legacy: legacy}
}

// place names p: the display name from the main file's directory (-f) or
// from the working directory (FILE arguments); the URI from the repository
// root, or --path-prefix and the path from the working directory.
func (nm lintNamer) place(p hba.Position) lintPlace {
	lp := lintPlace{line: p.Line, col: p.Column, endCol: p.EndColumn}
	if l := nm.main.locate(p); l.Segment != "" {
		lp.seg, lp.idx = l.Segment, l.Index
	}
	if nm.legacy {
		lp.file = nm.main.rel(p.Filename)
	} else {
		lp.file = relOrAbs(nm.rep.cwd, p.Filename)
	}
	if r := relOrAbs(nm.rep.cwd, p.Filename); nm.rep.pathPrefix != "" && !filepath.IsAbs(r) {
		lp.uri = path.Join(nm.rep.pathPrefix, filepath.ToSlash(r))
	} else if nm.rep.pathPrefix == "" {
		lp.uri = filepath.ToSlash(relOrAbs(nm.rep.root, p.Filename))
	} else {
		lp.uri = filepath.ToSlash(p.Filename)
	}
	return lp
}

// charColumn is the byte column col (1-based; 0: none) of the logical line
// text as a column in code points, as SARIF's columnKind unicodeCodePoints,
// GitHub and Checkstyle count. A column past the text is left as it is.
func charColumn(text string, col int) int {
	if col < 1 || col-1 > len(text) {
		return col
	}
	return utf8.RuneCountInString(text[:col-1]) + 1
}

// relOrAbs is name relative to dir, or name when it is not below dir.
func relOrAbs(dir, name string) string {
	if name == "" || dir == "" {
		return name
	}
	r, err := filepath.Rel(dir, name)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return name
	}
	return r
}

// lintPolicy turns the findings of one file into its results. It is the one
// place where a finding is kept or dropped and gets its severity: the
// in-source suppressions (# pghba: ignore=..., audit.Suppress: they fill
// lintResult.suppressions and add unused-suppression and bad-suppression
// findings), the enabled checks, the severities of the configuration and
// flags, the lines --new-from-rev keeps.
func lintPolicy(lr *lintRun, s *lintSettings, changes *changedLines, nm lintNamer) []lintResult {
	var out []lintResult
	seen := map[string]int{} // check and rule text: occurrences so far
	findings := lr.findings
	if lr.file != nil {
		findings = audit.Suppress(lr.file, findings, lr.sups, func(id audit.CheckID) bool { return s.enabled[string(id)] })
	}
	for _, fd := range findings {
		check := string(fd.Check)
		if !s.enabled[check] || !changes.has(fd.Pos.Filename, fd.Pos.Line) {
			continue
		}
		sev := fd.Severity
		if o, ok := s.severity[check]; ok {
			sev = o
		}
		r := lintResult{lintPlace: nm.place(fd.Pos), severity: sev, check: check,
			message: fd.Message, witness: lintCase(fd.Witness)}
		if fd.Suppressed != nil {
			r.suppressions = []lintSuppression{{Kind: "inSource", Justification: fd.Suppressed.Reason}}
		}
		r.snippet = lr.raw[hba.Position{Filename: fd.Pos.Filename, Line: fd.Pos.Line}]
		r.col, r.endCol = charColumn(r.snippet, r.col), charColumn(r.snippet, r.endCol)
		if r.col == 0 || r.endCol <= r.col {
			r.endCol = 0
		}
		for _, p := range fd.Related {
			r.related = append(r.related, nm.place(p))
		}
		for _, p := range fd.IncludedFrom {
			r.included = append(r.included, nm.place(p))
		}
		norm := strings.Join(strings.Fields(r.snippet), " ")
		key := check + "\x00" + norm
		if r.snippet == "" {
			key += "\x00" + strconv.Itoa(fd.Pos.Line) // no text to follow: the line
		}
		sum := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(seen[key])))
		seen[key]++
		r.fingerprint = hex.EncodeToString(sum[:16])
		r.fails = len(r.suppressions) == 0 && sev >= s.failOn
		out = append(out, r)
	}
	return out
}

// lintReport is every result of a run and how to write them.
type lintReport struct {
	format     string
	pathPrefix string
	cwd, root  string      // the working directory, the repository root (else cwd)
	files      []lintPlace // every file linted, in order
	results    []lintResult
}

// write writes the report in its format.
func (rep *lintReport) write(w io.Writer) {
	switch rep.format {
	case "json":
		out := make([]lintJSONFinding, 0, len(rep.results))
		for _, r := range rep.results {
			out = append(out, r.jsonFinding())
		}
		writeJSONLine(w, struct {
			Findings []lintJSONFinding `json:"findings"`
		}{out})
	case "sarif":
		writeLintSARIF(w, rep)
	case "github":
		writeLintGitHub(w, rep)
	case "checkstyle":
		writeLintCheckstyle(w, rep)
	case "junit":
		writeLintJUnit(w, rep)
	default:
		var out []lintJSONFinding
		for _, r := range rep.results {
			if len(r.suppressions) == 0 {
				out = append(out, r.jsonFinding())
			}
		}
		writeLintText(w, out)
	}
}

func (r *lintResult) jsonFinding() lintJSONFinding {
	j := lintJSONFinding{File: r.file, Line: r.line, Column: r.col, Severity: r.severity.String(), Check: r.check,
		Message: r.message, Witness: r.witness, Suppressions: r.suppressions, Segment: r.seg, Index: r.idx}
	for _, p := range r.related {
		j.Related = append(j.Related, filePos{File: p.file, Line: p.line, Segment: p.seg, Index: p.idx})
	}
	for _, p := range r.included {
		j.Included = append(j.Included, filePos{File: p.file, Line: p.line, Segment: p.seg, Index: p.idx})
	}
	return j
}

// lintVersion is pghba's version for SARIF: the module version it was
// built as without its "v" (SARIF wants a version that starts with a
// number), or "0.0.0-devel".
func lintVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "0.0.0-devel"
}

const (
	pghbaURI    = "https://github.com/pghba/pghba"
	lintDocsURI = pghbaURI + "/blob/main/docs/lint.md"
	sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// fingerprintKey names pghba's partial fingerprint: a hash of the check
	// id, the rule's text with white space collapsed and the occurrence of
	// that pair in its file; it does not change when lines are added or
	// removed elsewhere.
	fingerprintKey = "pghbaRuleText/v1"
)

// sarifLevel is SARIF's level for a severity.
func sarifLevel(s audit.Severity) string {
	switch s {
	case audit.SeverityError:
		return "error"
	case audit.SeverityWarning:
		return "warning"
	}
	return "note"
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	FullDescription      sarifMessage `json:"fullDescription"`
	Help                 sarifMessage `json:"help"`
	HelpURI              string       `json:"helpUri"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int           `json:"startLine"`
	StartColumn int           `json:"startColumn,omitempty"`
	EndColumn   int           `json:"endColumn,omitempty"`
	Snippet     *sarifMessage `json:"snippet,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifLocation struct {
	ID               *int                  `json:"id,omitempty"`
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	Message          *sarifMessage         `json:"message,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	RelatedLocations    []sarifLocation   `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []lintSuppression `json:"suppressions,omitempty"`
	Properties          *sarifProperties  `json:"properties,omitempty"`
}

type sarifProperties struct {
	Witness      *lintJSONCase `json:"witness,omitempty"`
	IncludedFrom []string      `json:"includedFrom,omitempty"`
}

// sentence ends text with a period, as SARIF wants its messages.
func sentence(text string) string {
	if strings.HasSuffix(text, ".") {
		return text
	}
	return text + "."
}

// location is the SARIF location of p; snippet, when not empty, is the
// logical line there. With root set, URIs are relative to %SRCROOT%.
func (rep *lintReport) location(p lintPlace, snippet string) sarifPhysicalLocation {
	var loc sarifPhysicalLocation
	switch {
	case path.IsAbs(p.uri): // outside the root
		loc.ArtifactLocation.URI = (&url.URL{Scheme: "file", Path: p.uri}).String()
	case rep.pathPrefix != "":
		loc.ArtifactLocation.URI = (&url.URL{Path: p.uri}).EscapedPath()
	default:
		loc.ArtifactLocation = sarifArtifactLocation{URI: (&url.URL{Path: p.uri}).EscapedPath(), URIBaseID: "SRCROOT"}
	}
	// A finding about the whole file (line 0: it cannot be read) is put on
	// its first line: SARIF wants a region.
	loc.Region = &sarifRegion{StartLine: max(p.line, 1)}
	if p.line > 0 {
		loc.Region.StartColumn = p.col // in code points: the run's columnKind
		loc.Region.EndColumn = p.endCol
		if snippet != "" {
			loc.Region.Snippet = &sarifMessage{Text: snippet}
		}
	}
	return loc
}

// writeLintSARIF writes one SARIF 2.1.0 log with one run for every file.
func writeLintSARIF(w io.Writer, rep *lintReport) {
	type driver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	type run struct {
		Tool struct {
			Driver driver `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]sarifArtifactLocation `json:"originalUriBaseIds,omitempty"`
		Results            []sarifResult                    `json:"results"`
		ColumnKind         string                           `json:"columnKind"`
	}
	var rn run
	rn.Tool.Driver = driver{Name: "pghba", Version: lintVersion(), InformationURI: pghbaURI}
	for _, c := range lintChecks {
		id := string(c.id)
		r := sarifRule{ID: id, Name: c.name, ShortDescription: sarifMessage{c.short},
			FullDescription: sarifMessage{c.full}, HelpURI: lintDocsURI + "#" + id,
			Help: sarifMessage{c.full + " See " + lintDocsURI + "#" + id + "."}}
		r.DefaultConfiguration.Level = sarifLevel(c.sev)
		rn.Tool.Driver.Rules = append(rn.Tool.Driver.Rules, r)
	}
	if rep.pathPrefix == "" {
		root := filepath.ToSlash(rep.root)
		if !strings.HasSuffix(root, "/") {
			root += "/"
		}
		rn.OriginalURIBaseIDs = map[string]sarifArtifactLocation{"SRCROOT": {URI: (&url.URL{Scheme: "file", Path: root}).String()}}
	}
	rn.ColumnKind = "unicodeCodePoints"
	rn.Results = []sarifResult{}
	for _, r := range rep.results {
		sr := sarifResult{RuleID: r.check, RuleIndex: lintCheckIndex(r.check), Level: sarifLevel(r.severity),
			Message:             sarifMessage{sentence(r.message)},
			Locations:           []sarifLocation{{PhysicalLocation: rep.location(r.lintPlace, r.snippet)}},
			PartialFingerprints: map[string]string{fingerprintKey: r.fingerprint},
			Suppressions:        r.suppressions}
		for i, p := range r.related {
			id := i + 1
			sr.RelatedLocations = append(sr.RelatedLocations, sarifLocation{ID: &id, PhysicalLocation: rep.location(p, ""),
				Message: &sarifMessage{fmt.Sprintf("Line %d, matched first.", p.line)}})
		}
		var props sarifProperties
		props.Witness = r.witness
		for _, p := range r.included {
			props.IncludedFrom = append(props.IncludedFrom, p.uri+":"+strconv.Itoa(p.line))
		}
		if props.Witness != nil || props.IncludedFrom != nil {
			sr.Properties = &props
		}
		rn.Results = append(rn.Results, sr)
	}
	writeJSONLine(w, struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []run  `json:"runs"`
	}{sarifSchema, "2.1.0", []run{rn}})
}

// githubEscape escapes a workflow command's message (property: a property
// value, where : and , are escaped too).
func githubEscape(s string, property bool) string {
	r := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	s = r.Replace(s)
	if property {
		s = strings.NewReplacer(":", "%3A", ",", "%2C").Replace(s)
	}
	return s
}

// writeLintGitHub writes GitHub Actions workflow commands, one a finding:
// ::error, ::warning or ::notice (info).
func writeLintGitHub(w io.Writer, rep *lintReport) {
	var b strings.Builder
	for _, r := range rep.results {
		if len(r.suppressions) > 0 {
			continue
		}
		cmd := map[audit.Severity]string{audit.SeverityError: "error", audit.SeverityWarning: "warning"}[r.severity]
		if cmd == "" {
			cmd = "notice"
		}
		fmt.Fprintf(&b, "::%s file=%s", cmd, githubEscape(r.uri, true))
		if r.line > 0 {
			fmt.Fprintf(&b, ",line=%d", r.line)
		}
		if r.col > 0 {
			fmt.Fprintf(&b, ",col=%d", r.col)
		}
		msg := r.message
		for _, p := range r.related {
			msg += "\nsee " + p.uri + ":" + strconv.Itoa(p.line)
		}
		for _, p := range r.included {
			msg += "\nincluded from " + p.uri + ":" + strconv.Itoa(p.line)
		}
		fmt.Fprintf(&b, ",title=%s::%s\n", githubEscape("pghba "+r.check, true), githubEscape(msg, false))
	}
	io.WriteString(w, b.String())
}

// writeLintCheckstyle writes Checkstyle XML: a <file> for every file
// linted, with an <error> a finding (severity error, warning or info;
// source pghba.ID).
func writeLintCheckstyle(w io.Writer, rep *lintReport) {
	type cerror struct {
		Line     int    `xml:"line,attr"`
		Column   int    `xml:"column,attr,omitempty"`
		Severity string `xml:"severity,attr"`
		Message  string `xml:"message,attr"`
		Source   string `xml:"source,attr"`
	}
	type cfile struct {
		Name   string   `xml:"name,attr"`
		Errors []cerror `xml:"error"`
	}
	var files []*cfile
	byName := map[string]*cfile{}
	get := func(name string) *cfile {
		if f := byName[name]; f != nil {
			return f
		}
		f := &cfile{Name: name}
		byName[name] = f
		files = append(files, f)
		return f
	}
	for _, f := range rep.files {
		get(f.file)
	}
	for _, r := range rep.results {
		if len(r.suppressions) > 0 {
			continue
		}
		f := get(r.file)
		f.Errors = append(f.Errors, cerror{Line: r.line, Column: r.col, Severity: r.severity.String(),
			Message: r.check + ": " + r.message, Source: "pghba." + r.check})
	}
	writeXML(w, struct {
		XMLName xml.Name `xml:"checkstyle"`
		Version string   `xml:"version,attr"`
		Files   []*cfile `xml:"file"`
	}{Version: "4.3", Files: files})
}

// writeLintJUnit writes JUnit XML: a <testsuite> for every file linted,
// with a <testcase> a finding, failed when the finding fails the run; a
// file without failing findings has a passing testcase "pghba lint".
func writeLintJUnit(w io.Writer, rep *lintReport) {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	var suites []*testsuite
	byName := map[string]*testsuite{}
	get := func(name string) *testsuite {
		if s := byName[name]; s != nil {
			return s
		}
		s := &testsuite{Name: name}
		byName[name] = s
		suites = append(suites, s)
		return s
	}
	for _, f := range rep.files {
		get(f.file)
	}
	total, failed := 0, 0
	for _, r := range rep.results {
		if len(r.suppressions) > 0 {
			continue
		}
		s := get(r.file)
		text := fmt.Sprintf("%s:%d: %s: %s: %s", r.file, r.line, r.severity, r.check, r.message)
		tc := testcase{Name: fmt.Sprintf("%s:%d %s", r.file, r.line, r.check), Classname: "pghba.lint." + r.check}
		if r.fails {
			tc.Failure = &failure{Message: r.message, Type: r.severity.String(), Text: text}
			s.Failures++
			failed++
		} else {
			tc.SystemOut = text
		}
		s.Cases = append(s.Cases, tc)
	}
	for _, s := range suites {
		if s.Failures == 0 {
			s.Cases = append(s.Cases, testcase{Name: "pghba lint", Classname: "pghba.lint"})
		}
		s.Tests = len(s.Cases)
		total += s.Tests
	}
	writeXML(w, struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Suites   []*testsuite `xml:"testsuite"`
	}{Name: "pghba lint", Tests: total, Failures: failed, Suites: suites})
}

// writeXML writes v as an indented XML document.
func writeXML(w io.Writer, v any) {
	var b strings.Builder
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err) // the types above always encode
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}
