package edit

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/gen"
)

const sample = "# TYPE  DATABASE        USER            ADDRESS                 METHOD\r\n" +
	"\n" +
	"# local connections\n" +
	"local   all             all                                     peer\n" +
	"host all   all 127.0.0.1/32 scram-sha-256   # loopback\n" +
	"host\tsameuser  +staff,\"bob\" 10.0.0.0 255.0.0.0 md5\n" +
	"host replication all \\\n" +
	"   ::1/128 trust\n" +
	"hostssl all all 0.0.0.0/0 cert clientcert=verify-full # certs\n" +
	"host all all 10.0.0.256/32 trust\n" +
	"    # indented comment\n" +
	"local all all reject"

func parse(t *testing.T, data string) *File {
	t.Helper()
	return Parse(&hba.Parser{Version: 18}, "/etc/pg_hba.conf", []byte(data))
}

func kinds(f *File) string {
	var s []string
	for _, l := range f.Lines {
		s = append(s, l.Kind.String())
	}
	return strings.Join(s, " ")
}

func TestParseLines(t *testing.T) {
	f := parse(t, sample)
	if got := string(f.Bytes()); got != sample {
		t.Fatalf("Bytes differ from input")
	}
	want := "comment blank comment rule rule rule rule rule invalid comment rule"
	if got := kinds(f); got != want {
		t.Errorf("kinds = %s\nwant    %s", got, want)
	}
	l, _, err := f.Find(7)
	if err != nil || l.Lines != 2 || l.Rule() == nil || l.Rule().Pos().Line != 7 {
		t.Errorf("Find(7) = %+v, %v", l, err)
	}
	if _, _, err := f.Find(8); !errors.Is(err, ErrContinuation) {
		t.Errorf("Find(8) error = %v, want ErrContinuation", err)
	}
	if _, _, err := f.Find(14); !errors.Is(err, ErrNoLine) {
		t.Errorf("Find(14) error = %v, want ErrNoLine", err)
	}
	if l, _, _ := f.Find(5); l.Comment != "# loopback" {
		t.Errorf("comment of line 5 = %q", l.Comment)
	}
}

// TestRoundTrip: parsing and writing back any bytes gives the same bytes,
// for every version.
func TestRoundTrip(t *testing.T) {
	inputs := []string{sample, "", "\n", "\\", "a\\\n\\\n", "local all all trust\x00junk\nlocal all all peer\n",
		"include_dir conf.d\ninclude missing\n", string(gen.MultiTenant(200, 1).Data)}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("local host all \"#,\\\n\r\t 10.0.0.1/8 trust md5 x\x00")
	for range 300 {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, v := range []int{13, 14, 16, 18} {
		for _, in := range inputs {
			f := Parse(&hba.Parser{Version: v}, "/x/pg_hba.conf", []byte(in))
			var joined []byte
			for _, l := range f.Lines {
				joined = append(joined, l.Text...)
			}
			if string(f.Bytes()) != in || string(joined) != in {
				t.Fatalf("v%d: round trip of %q gave %q", v, in, joined)
			}
			// Every record the parser read is a line's record, at its line.
			held := map[*hba.Line]int{}
			for _, l := range f.Lines {
				if l.Record != nil {
					held[l.Record] = l.Line
				}
			}
			for _, r := range f.Loaded().Lines {
				if n, ok := held[r]; len(r.IncludedFrom) == 0 && (!ok || n != r.Pos.Line) {
					t.Fatalf("v%d: %q: record at line %d is not held (%v)", v, in, r.Pos.Line, ok)
				}
			}
		}
	}
}

// physical splits b into its physical lines.
func physical(b []byte) []string { return strings.SplitAfter(string(b), "\n") }

// onlyDiffer reports whether old and new differ only by the lines of old
// in [i, j) replaced by the lines of new in [i, k).
func sameOutside(t *testing.T, old, new []byte, i, j, k int) {
	t.Helper()
	o, n := physical(old), physical(new)
	if len(o)-(j-i) != len(n)-(k-i) {
		t.Fatalf("line counts: old %d new %d", len(o), len(n))
	}
	if strings.Join(o[:i], "") != strings.Join(n[:i], "") || strings.Join(o[j:], "") != strings.Join(n[k:], "") {
		t.Fatalf("bytes outside the edit changed:\nold %q\nnew %q", old, new)
	}
}

func TestEdits(t *testing.T) {
	rule := "host app alice 192.0.2.0/24 scram-sha-256"
	t.Run("insert-before", func(t *testing.T) {
		f := parse(t, sample)
		l, err := f.InsertBefore(5, rule)
		if err != nil {
			t.Fatal(err)
		}
		if l.Line != 5 || l.Rule() == nil || string(l.Text) != rule+"\n" {
			t.Errorf("new line = %+v", l)
		}
		sameOutside(t, []byte(sample), f.Bytes(), 4, 4, 5)
		if n, _, _ := f.Find(6); n.Comment != "# loopback" {
			t.Errorf("line 6 is not the old line 5")
		}
	})
	t.Run("insert-after-continued", func(t *testing.T) {
		f := parse(t, sample)
		l, err := f.InsertAfter(7, rule)
		if err != nil || l.Line != 9 {
			t.Fatalf("InsertAfter(7) = %+v, %v", l, err)
		}
		sameOutside(t, []byte(sample), f.Bytes(), 8, 8, 9)
	})
	t.Run("insert-first-crlf", func(t *testing.T) {
		f := parse(t, sample)
		if _, err := f.InsertBefore(1, rule); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(f.Bytes(), []byte(rule+"\r\n# TYPE")) {
			t.Errorf("got %q", f.Bytes()[:60])
		}
	})
	t.Run("append-no-final-newline", func(t *testing.T) {
		f := parse(t, sample)
		l, err := f.Append(rule)
		if err != nil || l.Line != 13 {
			t.Fatalf("Append = %+v, %v", l, err)
		}
		if want := sample + "\n" + rule + "\n"; string(f.Bytes()) != want {
			t.Errorf("got %q", f.Bytes())
		}
		if r := f.Loaded().Rules; r[len(r)-1].Pos().Line != 13 {
			t.Errorf("last rule at line %d", r[len(r)-1].Pos().Line)
		}
	})
	t.Run("remove-continued", func(t *testing.T) {
		f := parse(t, sample)
		if err := f.Remove(7); err != nil {
			t.Fatal(err)
		}
		sameOutside(t, []byte(sample), f.Bytes(), 6, 8, 6)
		old, new := f.Change()
		if string(old) != sample || bytes.Equal(old, new) || !f.Changed() {
			t.Errorf("Change does not tell the edit")
		}
	})
	t.Run("replace", func(t *testing.T) {
		f := parse(t, sample)
		if _, err := f.Replace(10, rule); err != nil {
			t.Fatal(err)
		}
		sameOutside(t, []byte(sample), f.Bytes(), 9, 10, 10)
		if err := f.Loaded().Errors.Err(); err != nil {
			t.Errorf("file still has errors after replacing the bad line: %v", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, bad := range []string{"host all all 10.0.0.256/32 trust", "local all all trust\nlocal all all trust",
			"local all all trust \\", "# comment", "", "include foo", "local all all trust\x00", "local all all bogus"} {
			f := parse(t, sample)
			if _, err := f.Append(bad); !errors.Is(err, ErrBadRule) {
				t.Errorf("Append(%q) error = %v, want ErrBadRule", bad, err)
			}
			if string(f.Bytes()) != sample {
				t.Errorf("Append(%q) changed the file", bad)
			}
		}
		f := parse(t, sample)
		_, err := f.Append("host all all 10.0.0.256/32 trust")
		var he *hba.Error
		if !errors.As(err, &he) || !errors.Is(err, hba.ErrBadAddress) {
			t.Errorf("the parser's error is not kept: %v", err)
		}
	})
	t.Run("built", func(t *testing.T) {
		p := &hba.Parser{Version: 18}
		text, err := p.BuildRule(hba.RuleSpec{Type: hba.Host, Databases: []hba.Name{hba.Lit("all")},
			Users: []hba.Name{hba.Kw("all")}, Host: "samenet", Method: hba.Trust})
		if err != nil {
			t.Fatal(err)
		}
		f := Parse(p, "/etc/pg_hba.conf", []byte(sample))
		l, err := f.InsertAfter(1, text)
		if err != nil || l.Rule().Databases()[0].Quoted != true {
			t.Fatalf("inserted %q: %+v %v", text, l, err)
		}
	})
}

func TestFormat(t *testing.T) {
	f := parse(t, sample)
	before := rowKeys(f.Loaded())
	if err := f.Format(); err != nil {
		t.Fatal(err)
	}
	want := "# TYPE  DATABASE        USER            ADDRESS                 METHOD\r\n" +
		"\n" +
		"# local connections\n" +
		"local   all             all                                     peer\n" +
		"host    all             all             127.0.0.1/32            scram-sha-256 # loopback\n" +
		"host    sameuser        +staff,\"bob\"    10.0.0.0 255.0.0.0      md5\n" +
		"host replication all \\\n" +
		"   ::1/128 trust\n" +
		"hostssl all             all             0.0.0.0/0               cert clientcert=verify-full # certs\n" +
		"host all all 10.0.0.256/32 trust\n" +
		"    # indented comment\n" +
		"local   all             all                                     reject"
	if got := string(f.Bytes()); got != want {
		t.Errorf("Format:\n%s\nwant\n%s", got, want)
	}
	if len(physical(f.Bytes())) != len(physical([]byte(sample))) {
		t.Errorf("line count changed")
	}
	if after := rowKeys(f.Loaded()); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("view rows changed")
	}
	once := bytes.Clone(f.Bytes())
	if err := f.Format(); err != nil || !bytes.Equal(once, f.Bytes()) {
		t.Errorf("Format is not idempotent")
	}
	// Idempotent and meaning-keeping on generated files, every version.
	for _, v := range []int{13, 15, 18} {
		for seed := range uint64(5) {
			in := string(gen.MultiTenant(50, seed).Data)
			g := Parse(&hba.Parser{Version: v}, "/x/pg_hba.conf", []byte(in))
			rows := rowKeys(g.Loaded())
			if err := g.Format(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(rowKeys(g.Loaded()), "\n") != strings.Join(rows, "\n") {
				t.Fatalf("v%d seed %d: rows changed", v, seed)
			}
			once := bytes.Clone(g.Bytes())
			h := Parse(&hba.Parser{Version: v}, "/x/pg_hba.conf", once)
			if err := h.Format(); err != nil || !bytes.Equal(once, h.Bytes()) {
				t.Fatalf("v%d seed %d: not idempotent", v, seed)
			}
		}
	}
}

func FuzzEdit(f *testing.F) {
	f.Add([]byte(sample), 3, "local all all trust")
	f.Add(gen.MultiTenant(10, 1).Data, 5, "host all all ::1/128 md5")
	f.Fuzz(func(t *testing.T, data []byte, n int, rule string) {
		e := Parse(&hba.Parser{Version: 17}, "/x/pg_hba.conf", data)
		if !bytes.Equal(e.Bytes(), data) {
			t.Fatal("round trip")
		}
		rows := rowKeys(e.Loaded())
		if e.Format() == nil && strings.Join(rowKeys(e.Loaded()), "\n") != strings.Join(rows, "\n") {
			t.Fatal("format changed rows")
		}
		e = Parse(&hba.Parser{Version: 17}, "/x/pg_hba.conf", data)
		if l, err := e.InsertBefore(n, rule); err == nil {
			if l.Rule() == nil || l.Line != n {
				t.Fatalf("inserted line %+v", l)
			}
		}
	})
}
