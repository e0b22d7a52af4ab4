package testkit

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	in := "comment\n-- a --\nA\n-- b/c --\n\n--  spaced  --\n-- a --\nno newline"
	a, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Archive{Comment: []byte("comment\n"), Files: []File{
		{"a", []byte("A\n")}, {"b/c", []byte("\n")}, {"spaced", []byte{}}, {"a", []byte("no newline")},
	}}
	if d := cmp.Diff(want, a); d != "" {
		t.Fatalf("Parse (-want +got):\n%s", d)
	}
	if d, _ := a.Get("a"); string(d) != "A\n" {
		t.Errorf("Get(a) = %q, want the first file's data", d)
	}
}

// TestRoundTrip: every byte string survives Format then Parse, and plain text
// stays plain.
func TestRoundTrip(t *testing.T) {
	datas := []string{"", "x\n", "no newline", "a\r\nb\n", "-- marker --\n", "\x00\x7f\n", "\xc3\n", "café\n", "tab\there\n", "\n\n"}
	a := &Archive{Comment: []byte("no final newline")}
	for i, d := range datas {
		a.Files = append(a.Files, File{Name: string(rune('a' + i)), Data: []byte(d)})
	}
	out := a.Format()
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	a.Comment = append(a.Comment, '\n')
	if d := cmp.Diff(a, back); d != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", d, out)
	}
	for _, d := range datas {
		plain := d == "" || d == "x\n" || d == "café\n" || d == "tab\there\n" || d == "\n\n"
		if NeedsQuoting([]byte(d)) == plain {
			t.Errorf("NeedsQuoting(%q) = %v", d, !plain)
		}
	}
}

func TestParseBadQuoted(t *testing.T) {
	if _, err := Parse([]byte("-- f (quoted) --\nnot quoted\n")); err == nil {
		t.Fatal("a bad quoted line parsed")
	}
}
