package hba

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// TestOwnedString: the loader views only the buffer it read itself as a
// string without a copy; any other bytes, a caller's among them, are
// copied.
func TestOwnedString(t *testing.T) {
	var p Parser
	l := p.newLoader(nil)
	own := []byte("host all all 10.0.0.0/8 trust\nlocal all all peer\n")
	other := append([]byte(nil), own...)
	if got := l.ownedString(own); got != string(own) || unsafe.StringData(got) == unsafe.SliceData(own) {
		t.Fatal("a buffer the loader does not own was not copied")
	}
	l.own = own
	for _, sub := range [][]byte{own, own[5:], own[:7], own[len(own)-3:]} {
		if got := l.ownedString(sub); got != string(sub) || unsafe.StringData(got) != unsafe.SliceData(sub) {
			t.Fatalf("%q inside the owned buffer was copied", sub)
		}
	}
	if got := l.ownedString(other); got != string(other) || unsafe.StringData(got) == unsafe.SliceData(other) {
		t.Fatal("bytes outside the owned buffer were not copied")
	}
	// Bytes that run past the end of the owned buffer: a copy.
	big := []byte(strings.Repeat("host all all all trust\n", 8))
	l.own = big[:50]
	if got := l.ownedString(big[40:60]); got != string(big[40:60]) || unsafe.StringData(got) == &big[40] {
		t.Fatal("bytes past the owned buffer were viewed")
	}
}

// TestOwnedCallerBytes: rules parsed from a large file a caller gave keep
// their text when the caller changes the bytes afterwards, while Load from
// a path gives the same rules.
func TestOwnedCallerBytes(t *testing.T) {
	var sb strings.Builder
	for i := 0; sb.Len() < 80<<10; i++ {
		sb.WriteString("host db_x user_x 10.1.2.0/24 scram-sha-256\n")
	}
	data := []byte(sb.String())
	p := Parser{Version: 15}
	f := p.ParseBytes("/x/pg_hba.conf", data)
	if len(f.Errors) != 0 || len(f.Lines) == 0 {
		t.Fatalf("%d errors, %d lines", len(f.Errors), len(f.Lines))
	}
	want := f.Lines[0].Raw
	for i := range data {
		if data[i] == 'x' {
			data[i] = 'y'
		}
	}
	if f.Lines[0].Raw != want || f.Rules[0].Databases()[0].Value != "db_x" {
		t.Fatalf("caller bytes changed the parsed file: %q", f.Lines[0].Raw)
	}
	path := filepath.Join(t.TempDir(), "pg_hba.conf")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := p.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Lines) != len(f.Lines) || g.Lines[0].Raw != want || len(g.Rules) != len(f.Rules) {
		t.Fatalf("ParseFile: %d lines, first %q", len(g.Lines), g.Lines[0].Raw)
	}
}

// TestParseKeywords: parseConnType and parseMethod read every name of
// connTypeNames and methodNames, and nothing else (not a prefix, another
// case or the empty string).
func TestParseKeywords(t *testing.T) {
	for i, n := range connTypeNames {
		if i == 0 {
			continue
		}
		if got := parseConnType(n); got != ConnType(i) {
			t.Errorf("parseConnType(%q) = %d, want %d", n, got, i)
		}
		for _, bad := range []string{strings.ToUpper(n), n[:len(n)-1], n + "x"} {
			if got := parseConnType(bad); got != 0 {
				t.Errorf("parseConnType(%q) = %d, want 0", bad, got)
			}
		}
	}
	for i, n := range methodNames {
		if i == 0 {
			continue
		}
		if got := parseMethod(n); got != Method(i) {
			t.Errorf("parseMethod(%q) = %d, want %d", n, got, i)
		}
		for _, bad := range []string{strings.ToUpper(n), n[:len(n)-1], n + "x"} {
			if got := parseMethod(bad); got != 0 {
				t.Errorf("parseMethod(%q) = %d, want 0", bad, got)
			}
		}
	}
	if parseConnType("") != 0 || parseMethod("") != 0 {
		t.Error("the empty string parsed")
	}
}

// TestAuthMemo: rules without options, of every type and method and in an
// order that makes the memo of each type change keyword, get what
// parseAuth gives each of them alone, and the same errors.
func TestAuthMemo(t *testing.T) {
	types := []string{"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
	methods := []string{"trust", "peer", "ident", "md5", "cert", "gss", "scram-sha-256", "reject",
		"ldap", "pam", "password", "sspi", "bsd", "radius", "oauth", "nosuch"}
	var sb strings.Builder
	for round := 0; round < 3; round++ {
		for i, m := range methods {
			for j, ty := range types {
				m2 := methods[(i+j*round)%len(methods)]
				for _, mm := range []string{m, m2, m} {
					addr := " 10.0.0.0/8 "
					if ty == "local" {
						addr = " "
					}
					sb.WriteString(ty + " all all" + addr + mm + "\n")
				}
			}
		}
	}
	for _, v := range []int{13, 15, 18} {
		p := Parser{Version: v, SSL: true}
		f := p.ParseBytes("/x/pg_hba.conf", []byte(sb.String()))
		var nrules, nerrs int
		for _, ln := range f.Lines {
			tl := ln.Raw
			fs := strings.Fields(tl)
			fresh := &Rule{typ: parseConnType(fs[0])}
			e := p.parseAuth(fresh, fs[len(fs)-1], nil)
			if (e == nil) != (ln.Rule != nil) {
				t.Fatalf("%d: %q: parseAuth error %v, loaded rule %v (err %v)", v, tl, e, ln.Rule != nil, ln.Err)
			}
			if e != nil {
				nerrs++
				if !strings.Contains(ln.Err.Error(), e.Msg) {
					t.Fatalf("%d: %q: error %q, want %q", v, tl, ln.Err.Error(), e.Msg)
				}
				continue
			}
			nrules++
			if ln.Rule.method != fresh.method || !reflect.DeepEqual(*ln.Rule.opts, *fresh.opts) {
				t.Fatalf("%d: %q: method %v options %+v, want %v %+v", v, tl, ln.Rule.method, *ln.Rule.opts, fresh.method, *fresh.opts)
			}
		}
		if nrules == 0 || nerrs == 0 {
			t.Fatalf("%d: %d rules, %d errors: the file tests too little", v, nrules, nerrs)
		}
	}
}
