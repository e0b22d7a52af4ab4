package hba

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// Hostile input: every case ends with a clear error or a normal load, in
// bounded memory and without deep recursion.

func TestHostileLongLine(t *testing.T) {
	line := "host " + strings.Repeat("d", 100<<20) + " all 127.0.0.1/32 trust\n"
	p := &Parser{}
	f := p.ParseBytes("/x/pg_hba.conf", []byte(line))
	if len(f.Errors) != 0 || len(f.Rules) != 1 {
		t.Fatalf("18: %d errors, %d rules", len(f.Errors), len(f.Rules))
	}
	p = &Parser{Version: 15}
	f = p.ParseBytes("/x/pg_hba.conf", []byte(line))
	if len(f.Errors) != 1 || f.Errors[0].Msg != "authentication file token too long" {
		t.Fatalf("15: %v", f.Errors)
	}
}

func TestHostileMillionEntryFile(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 1_000_000; i++ {
		b.WriteString("db")
		b.WriteString(itoa(i))
		b.WriteByte('\n')
	}
	p := &Parser{FS: fstest.MapFS{"pg_hba.conf": {Data: []byte("host @dbs all 127.0.0.1/32 trust\n")}, "dbs": {Data: []byte(b.String())}}}
	rs, err := p.Load("pg_hba.conf")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rs.Rules()[0].Databases()); n != 1_000_000 {
		t.Fatalf("%d databases", n)
	}
}

func TestHostileNestedQuotes(t *testing.T) {
	p := &Parser{}
	f := p.ParseBytes("/x/pg_hba.conf", []byte("host "+strings.Repeat(`"`, 1<<20)+" all 127.0.0.1/32 trust\n"))
	if len(f.Errors) != 0 {
		t.Fatalf("%v", f.Errors)
	}
}

func TestHostileCycles(t *testing.T) {
	for _, v := range []int{13, 15, 16, 18} {
		fsys := fstest.MapFS{
			"pg_hba.conf": {Data: []byte("host @a all 127.0.0.1/32 trust\nlocal all all trust\n")},
			"a":           {Data: []byte("x @b\n")},
			"b":           {Data: []byte("y @a @a @a @a\n")},
		}
		p := &Parser{FS: fsys, Version: v}
		f, _ := p.ParseFile("pg_hba.conf")
		if len(f.Errors) != 1 || !errors.Is(f.Errors[0], ErrIncludeDepth) || f.Errors[0].Pos.Line != 1 {
			t.Fatalf("%d: %v", v, f.Errors)
		}
	}
	// 16+: a directory that includes itself through a file in it.
	fsys := fstest.MapFS{
		"pg_hba.conf": {Data: []byte("include_dir d\nlocal all all trust\n")},
		"d/a.conf":    {Data: []byte("include_dir .\n")},
		"d/b.conf":    {Data: []byte("host all all 127.0.0.1/32 trust\n")},
	}
	p := &Parser{FS: fsys}
	f, _ := p.ParseFile("pg_hba.conf")
	if len(f.Errors) == 0 || !errors.Is(f.Errors[0], ErrIncludeDepth) {
		t.Fatalf("include_dir cycle: %v", f.Errors)
	}
}

func TestHostileFanOut(t *testing.T) {
	// Ten levels of files each naming the next a hundred times: 100^9
	// tokens if expanded; the expansion budget stops it with an error.
	fsys := fstest.MapFS{"pg_hba.conf": {Data: []byte("host @f0 all 127.0.0.1/32 trust\n")}}
	for i := 0; i < 9; i++ {
		fsys["f"+itoa(i)] = &fstest.MapFile{Data: []byte(strings.Repeat("@f"+itoa(i+1)+" ", 100))}
	}
	fsys["f9"] = &fstest.MapFile{Data: []byte("leaf\n")}
	p := &Parser{FS: fsys}
	f, _ := p.ParseFile("pg_hba.conf")
	if len(f.Errors) != 1 || !strings.Contains(f.Errors[0].Msg, "limit") {
		t.Fatalf("%v", f.Errors)
	}
}
