package audit_test

import (
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

// TestLintFindingsLocateInSegments: a finding on a composed file names the
// segment element it is about.
func TestLintFindingsLocateInSegments(t *testing.T) {
	c := &hba.Composed{Segments: []hba.Segment{
		{Name: "operator", Lines: []string{"# fixed", "local all postgres peer"}},
		{Name: "spec.postgresql.pg_hba", Lines: []string{"host all all 10.0.0.0/8 md5", "host all all 10.0.0.0/8 md5"}},
		{Name: "default", Lines: []string{"host all all 0.0.0.0/0 reject"}},
	}}
	p := &hba.Parser{}
	fs := audit.Lint(p.ParseComposed(c), audit.LintOptions{})
	found := false
	for _, fd := range fs {
		if fd.Check == audit.CheckDuplicate {
			found = true
			if at := c.Locate(fd.Pos).String(); at != "spec.postgresql.pg_hba[1]" {
				t.Errorf("duplicate at %s", at)
			}
		}
	}
	if !found {
		t.Errorf("no duplicate finding: %v", fs)
	}
}
