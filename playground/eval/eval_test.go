package eval

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// sample is the page's default state (playground/site/app.js SAMPLE).
const sample = `{"version":18,"ssl":false,"missing":"bsd,sspi","files":{"pg_hba.conf":"# TYPE  DATABASE        USER            ADDRESS                 METHOD\nlocal   all             postgres                                peer\nlocal   all             all                                     peer map=local\nhost    all             all             127.0.0.1/32            scram-sha-256\nhost    sales           +sales_team     10.0.0.0/8              scram-sha-256\nhost    all             /^admin         192.168.0.0/16          md5\nhostssl replication     replicator      10.0.0.0/8              scram-sha-256\nhost    all             all             0.0.0.0/0               reject\n","pg_ident.conf":"# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\nlocal      /^(.*)$          \\1\n"},"roles":{"alice":["sales_team"]},"conn":{"type":"host","addr":"10.1.2.3","ssl":false,"gss":false,"db":"sales","user":"alice","replication":""}}`

func decode(t *testing.T, s string) *State {
	t.Helper()
	var st State
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestSampleDecidesThroughTheRoleGraph(t *testing.T) {
	st := decode(t, sample)
	r := Evaluate(st)
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	d := r.Decision
	if d.Outcome != "matched" || d.File != "pg_hba.conf" || d.Line != 5 || d.Method != "scram-sha-256" {
		t.Fatalf("decision %+v, want matched at pg_hba.conf:5", d)
	}
	if len(r.Trace) != 3 || r.TraceTotal != 3 || r.Trace[0].Line != 2 || r.Trace[2].Line != 4 || r.Trace[2].Column != "address" {
		t.Errorf("trace %+v", r.Trace)
	}
	if len(r.Rows) != 7 || r.RowsTotal != 7 || r.Rows[0].Line != 2 || len(r.Rows[0].Cells) != len(r.Columns) {
		t.Errorf("rows %d (total %d), first %+v", len(r.Rows), r.RowsTotal, r.Rows[0])
	}
	if len(r.IdentRows) != 1 || r.IdentRows[0].Line != 2 {
		t.Errorf("ident rows %+v", r.IdentRows)
	}

	// Without a role source, +sales_team cannot be evaluated: refused.
	st.Roles = nil
	if d := Evaluate(st).Decision; d.Outcome != "unresolved" || d.Line != 5 || d.Message == "" {
		t.Errorf("no roles: decision %+v, want unresolved at line 5", d)
	}
	// Not a member: the last line rejects with PostgreSQL's text.
	st.Roles = map[string][]string{"alice": {"other"}}
	d = Evaluate(st).Decision
	if d.Outcome != "rejected" || d.Line != 8 || !strings.HasPrefix(d.Message, `pg_hba.conf rejects connection for host "10.1.2.3", user "alice", database "sales"`) {
		t.Errorf("not a member: decision %+v", d)
	}
}

func TestLoadErrorsAtTheirLines(t *testing.T) {
	st := &State{Version: 17, Files: map[string]string{MainFile: "local all all trust\nhost all all 10.0.0.0/8 frobnicate\nhost all\n"},
		Conn: Conn{Type: "local", User: "u"}}
	r := Evaluate(st)
	if len(r.Errors) != 2 || r.ErrorsTotal != 2 {
		t.Fatalf("errors %+v", r.Errors)
	}
	if e := r.Errors[0]; e.File != "pg_hba.conf" || e.Line != 2 || e.Message != `invalid authentication method "frobnicate"` {
		t.Errorf("first error %+v", e)
	}
	if e := r.Errors[1]; e.Line != 3 || e.Message != "end-of-line before role specification" {
		t.Errorf("second error %+v", e)
	}
	if d := r.Decision; d.Outcome != "not-loaded" || d.Line != 0 {
		t.Errorf("decision %+v, want not-loaded", d)
	}
	if !r.Rows[1].Error || r.Rows[1].Cells[len(r.Columns)-1] == nil {
		t.Errorf("row of line 2 should be an error row with the error column: %+v", r.Rows[1])
	}
	st.Files[MainFile] = "# nothing\n"
	if d := Evaluate(st).Decision; d.Outcome != "not-loaded" || !strings.Contains(d.Message, "contains no entries") {
		t.Errorf("empty file: %+v", d)
	}
}

func TestRegexUserIsLiteralBefore16(t *testing.T) {
	st := &State{Version: 16, Files: map[string]string{MainFile: "host all /^adm 0.0.0.0/0 trust\nhost all all 0.0.0.0/0 reject\n"},
		Conn: Conn{Type: "host", Addr: "192.0.2.1", User: "admin"}}
	if d := Evaluate(st).Decision; d.Outcome != "matched" || d.Line != 1 {
		t.Errorf("16: %+v", d)
	}
	st.Version = 15
	if d := Evaluate(st).Decision; d.Outcome != "rejected" || d.Line != 2 {
		t.Errorf("15: %+v", d)
	}
}

func TestVirtualFilesIncludeAndAtFile(t *testing.T) {
	st := &State{Version: 16, Files: map[string]string{
		MainFile:        "host all @staff.txt 10.0.0.0/8 md5\ninclude_dir conf.d\n",
		"staff.txt":     "ann bob\n",
		"conf.d/a.conf": "local all all peer\n",
	}, Conn: Conn{Type: "local", User: "zed"}}
	r := Evaluate(st)
	if r.Error != "" || len(r.Errors) != 0 {
		t.Fatalf("%s %+v", r.Error, r.Errors)
	}
	if d := r.Decision; d.Outcome != "matched" || d.File != "conf.d/a.conf" || d.Line != 1 {
		t.Errorf("decision %+v, want conf.d/a.conf:1", d)
	}
	if got := *r.Rows[0].Cells[5]; got != "{ann,bob}" {
		t.Errorf("user_name of line 1: %s", got)
	}
	if r.Rows[1].File != "conf.d/a.conf" {
		t.Errorf("row 2 file %q", r.Rows[1].File)
	}
	st.Version = 15 // no include directives before 16
	if r := Evaluate(st); len(r.Errors) == 0 || r.Errors[0].Line != 2 {
		t.Errorf("15: errors %+v, want one on line 2", r.Errors)
	}
}

func TestIdentMapCheck(t *testing.T) {
	st := decode(t, sample)
	st.Conn = Conn{Type: "local", User: "alice", SystemUser: "alice"}
	r := Evaluate(st)
	if r.Decision.Line != 3 || r.Ident == nil || r.Ident.Outcome != "allowed" || r.Ident.Map != "local" || r.Ident.Line != 2 {
		t.Fatalf("decision %+v ident %+v", r.Decision, r.Ident)
	}
	st.Files[IdentFile] = "local root postgres\n"
	r = Evaluate(st)
	if r.Ident == nil || r.Ident.Allowed || !strings.Contains(r.Ident.Message, `no match in usermap "local"`) {
		t.Errorf("ident %+v, want a refusal with the server's text", r.Ident)
	}
}

func TestBadStatesAreRefused(t *testing.T) {
	for _, tc := range []struct {
		st   State
		want string
	}{
		{State{Version: 12, Files: map[string]string{MainFile: ""}}, "version 12"},
		{State{Version: 16}, "no pg_hba.conf"},
		{State{Version: 16, Files: map[string]string{MainFile: "", "../x": ""}}, `file name "../x"`},
		{State{Version: 16, Files: map[string]string{MainFile: "", "/abs": ""}}, `file name "/abs"`},
		{State{Version: 16, Missing: ptr("ssl,cheese"), Files: map[string]string{MainFile: ""}}, "missing features"},
	} {
		r := Evaluate(&tc.st)
		if !strings.Contains(r.Error, tc.want) {
			t.Errorf("%+v: error %q, want %q", tc.st, r.Error, tc.want)
		}
		if a := Audit(&tc.st); !strings.Contains(a.Error, tc.want) {
			t.Errorf("audit %+v: error %q, want %q", tc.st, a.Error, tc.want)
		}
	}
	st := &State{Version: 16, Files: map[string]string{MainFile: "local all all trust\n"}}
	for _, c := range []Conn{{Type: "tcp", User: "u"}, {Type: "host", Addr: "nope", User: "u"}, {Type: "local"}, {Type: "local", User: "u", SSL: true}, {Type: "host", Addr: "::1", User: "u", Replication: "both"}} {
		st.Conn = c
		if d := Evaluate(st).Decision; d.Outcome != "invalid" || d.Message == "" {
			t.Errorf("%+v: %+v, want invalid", c, d)
		}
	}
}

func ptr(s string) *string { return &s }

func TestListsAreCapped(t *testing.T) {
	n := 2*MaxListed + 500
	st := &State{Version: 18, Files: map[string]string{MainFile: strings.Repeat("host all all 10.0.0.0/8 md5\nhost all\n", n/2)},
		Conn: Conn{Type: "host", Addr: "10.0.0.1", User: "u"}}
	r := Evaluate(st)
	if len(r.Rows) != MaxListed || r.RowsTotal != n || len(r.Errors) != MaxListed || r.ErrorsTotal != n/2 {
		t.Errorf("rows %d of %d, errors %d of %d", len(r.Rows), r.RowsTotal, len(r.Errors), r.ErrorsTotal)
	}
	st.Files[MainFile] = strings.Repeat("host all all 192.168.0.0/16 md5\n", n)
	r = Evaluate(st)
	if len(r.Trace) != MaxListed || r.TraceTotal != n || r.Decision.Outcome != "no-entry" {
		t.Errorf("trace %d of %d, %+v", len(r.Trace), r.TraceTotal, r.Decision)
	}
	if a := Audit(st); a.Skipped == "" || len(a.Lint) != 0 {
		t.Errorf("audit of %d rules: %+v, want skipped", n, a.Skipped)
	}
}

func TestAuditLintsAndSummarises(t *testing.T) {
	a := Audit(decode(t, sample))
	if a.Error != "" || a.Skipped != "" {
		t.Fatal(a.Error, a.Skipped)
	}
	checks := map[string]int{}
	for _, f := range a.Lint {
		checks[f.Check] = f.Line
	}
	if checks["md5"] != 6 || checks["never-matches"] != 7 {
		t.Errorf("lint %+v, want md5 at 6 and never-matches (hostssl, ssl off) at 7", a.Lint)
	}
	if len(a.Exposure) == 0 || a.Exposure[len(a.Exposure)-1].Method != "reject" {
		t.Errorf("exposure %+v", a.Exposure)
	}
	for _, e := range a.Exposure {
		if e.Addresses == nil || e.Users == nil || e.Databases == nil || len(e.Rules) == 0 {
			t.Errorf("exposure row with a null list: %+v", e)
		}
	}
}

func BenchmarkEvaluate1000(b *testing.B) {
	st := thousand()
	b.ReportAllocs()
	for b.Loop() {
		out, err := json.Marshal(Evaluate(st))
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
}

// thousand is a 1,000-rule file and a connection decided by its last rule.
func thousand() *State {
	var sb strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "host db%d user%d 10.%d.%d.0/24 scram-sha-256\n", i, i%50, i/256, i%256)
	}
	return &State{Version: 18, Files: map[string]string{MainFile: sb.String()},
		Conn: Conn{Type: "host", Addr: "10.3.231.9", DB: "db999", User: "user49"}}
}

func TestEveryVersionEvaluates(t *testing.T) {
	for v := 13; v <= 18; v++ {
		st := decode(t, sample)
		st.Version = v
		r := Evaluate(st)
		if r.Error != "" || len(r.Columns) == 0 || len(r.Rows) != 7 || len(r.IdentRows) != 1 {
			t.Errorf("%d: error %q, %d columns, %d rows, %d ident rows", v, r.Error, len(r.Columns), len(r.Rows), len(r.IdentRows))
		}
		for _, row := range append(r.Rows, r.IdentRows...) {
			if len(row.Cells) != len(r.Columns) && len(row.Cells) != len(r.IdentColumns) {
				t.Errorf("%d: row %+v does not fit the columns", v, row)
			}
		}
		if a := Audit(st); a.Error != "" || len(a.Exposure) == 0 {
			t.Errorf("%d: audit %+v", v, a)
		}
	}
}
