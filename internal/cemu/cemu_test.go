package cemu

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"reflect"
	"syscall"
	"testing"
)

func TestInetAton(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		aton, exact string // "" = fails
	}{
		{"dotted", "127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"two-parts", "127.1", "127.0.0.1", "127.0.0.1"},
		{"three-parts", "1.2.65535", "1.2.255.255", "1.2.255.255"},
		{"three-parts-over", "1.2.65536", "", ""},
		{"hex-whole", "0x7f000001", "127.0.0.1", "127.0.0.1"},
		{"octal", "010.0.0.1", "8.0.0.1", "8.0.0.1"},
		{"octal-bad-digit", "08", "", ""},
		{"part-over-255", "256.1.1.1", "", ""},
		{"five-parts", "1.2.3.4.5", "", ""},
		{"letters", "a.b", "", ""},
		{"empty-part", "1..2", "", ""},
		{"empty", "", "", ""},
		// strtoul reads only the 0 of a bare 0x; the x is junk.
		{"bare-0x", "0x", "", ""},
		{"bare-0x-first", "0x.1", "", ""},
		{"bare-0x-last", "1.0x", "", ""},
		{"hex-then-junk", "0x1g", "", ""},
		// inet_aton stops at white space; the exact form does not.
		{"trailing-space", "1.2.3.4 ", "1.2.3.4", ""},
		{"trailing-junk-after-space", "1.2.3.4 junk", "1.2.3.4", ""},
		{"trailing-tab-short-form", "127.1\tx", "127.0.0.1", ""},
		{"leading-space", " 1.2.3.4", "", ""},
		{"nul", "1.2.3.4\x00", "", ""},
		{"non-ascii-after", "1.2.3.4\u00a0", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []struct {
				name string
				fn   func(string) (string, bool)
				want string
			}{
				{"InetAton", str(InetAton), tc.aton},
				{"InetAtonExact", str(InetAtonExact), tc.exact},
				{"NumericHost", str(NumericHost), tc.exact},
			} {
				got, ok := f.fn(tc.in)
				if ok != (f.want != "") || got != f.want {
					t.Errorf("%s(%q) = %q, %v; want %q", f.name, tc.in, got, ok, f.want)
				}
			}
		})
	}
}

func str[T fmt.Stringer](f func(string) (T, bool)) func(string) (string, bool) {
	return func(s string) (string, bool) {
		a, ok := f(s)
		if !ok {
			return "", false
		}
		return a.String(), true
	}
}

func TestNumericHostIPv6(t *testing.T) {
	_, loErr := net.InterfaceByName("lo")
	for _, tc := range []struct {
		in       string
		want     string // "" = not numeric
		badScope bool
		needLo   bool
	}{
		{in: "::1", want: "::1"},
		{in: "::ffff:1.2.3.4", want: "::ffff:1.2.3.4"},
		{in: "1:2:3:4:5:6:7::", want: "1:2:3:4:5:6:7:0"},
		{in: "1:2:3:4:5:6:7:8::"},
		{in: "::01.2.3.4"},
		{in: "[::1]"},
		{in: "::1 "},
		{in: "fe80::1%1", want: "fe80::1"},
		{in: "2001:db8::1%4294967295", want: "2001:db8::1"},
		{in: "2001:db8::1%4294967296", badScope: true},
		{in: "fe80::1%", badScope: true},
		{in: "fe80::1%+1", badScope: true},
		{in: "fe80::1%bogus-interface", badScope: true},
		{in: "fe80::1%lo", want: "fe80::1", needLo: true},
		{in: "ff01::1%lo", want: "ff01::1", needLo: true},    // node-local multicast takes names too
		{in: "ff05::1%lo", badScope: true, needLo: true},     // site-local multicast does not
		{in: "2001:db8::1%lo", badScope: true, needLo: true}, // nor a global address
		{in: "1.2.3.4%1"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if tc.needLo && loErr != nil {
				t.Skip("no interface lo")
			}
			a, ok := NumericHost(tc.in)
			got := ""
			if ok {
				got = a.String()
			}
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("NumericHost(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			}
			if b := BadScope(tc.in); b != tc.badScope {
				t.Errorf("BadScope(%q) = %v, want %v", tc.in, b, tc.badScope)
			}
		})
	}
}

func TestAtoi(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"389", 389}, {"389x", 389}, {" \t+7", 7}, {"-1", -1}, {"abc", 0}, {"", 0}, {"- 1", 0},
		{"2147483648", -2147483648}, {"4294967296", 0}, {"99999999999999999999", -1}, {"-99999999999999999999", 0},
		// 2^63 followed by a digit: the product wraps 64 bits, so a check
		// made only after the multiply would miss the overflow.
		{"92233720368547758080", -1},
	} {
		if got := Atoi(tc.in); got != tc.want {
			t.Errorf("Atoi(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestStrtolFull(t *testing.T) {
	for _, tc := range []struct {
		in           string
		n            int64
		digits, full bool
	}{
		{"", 0, false, true}, {" ", 0, false, false}, {"+", 0, false, false}, {"12", 12, true, true},
		{" -12", -12, true, true}, {"12 ", 12, true, false}, {"-0", 0, true, true},
		{"9223372036854775807", 1<<63 - 1, true, true}, {"9223372036854775808", 1<<63 - 1, true, true},
		{"-9223372036854775808", -1 << 63, true, true}, {"-9223372036854775809", -1 << 63, true, true},
		{"1\x00", 1, true, false},
	} {
		n, digits, full := StrtolFull(tc.in)
		if n != tc.n || digits != tc.digits || full != tc.full {
			t.Errorf("StrtolFull(%q) = %d, %v, %v; want %d, %v, %v", tc.in, n, digits, full, tc.n, tc.digits, tc.full)
		}
		if got := Strtol(tc.in); got != tc.n {
			t.Errorf("Strtol(%q) = %d, want %d", tc.in, got, tc.n)
		}
	}
}

type splitCase struct {
	in   string
	want []string
	ok   bool
}

func testSplit(t *testing.T, name string, f func(string, byte) ([]string, bool), cases []splitCase) {
	t.Helper()
	for _, tc := range cases {
		got, ok := f(tc.in, ',')
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s(%q) = %q, %v; want %q, %v", name, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// listSyntax are the cases on which the three splitters agree.
var listSyntax = []splitCase{
	{"", nil, true},
	{" \t ", nil, true},
	{"a", []string{"a"}, true},
	{" a , b ", []string{"a", "b"}, true},
	{`"a b","c""d"`, []string{"a b", `c"d`}, true},
	{`""`, []string{""}, true},
	{"a,", nil, false},
	{"a, ", nil, false},
	{",a", nil, false},
	{"a,,b", nil, false},
	{`"a`, nil, false},
	{`"a"b`, nil, false},
	{"a\vb", []string{"a\vb"}, true}, // \v is not a scanner blank
}

func TestSplitGUCList(t *testing.T) {
	testSplit(t, "SplitGUCList", SplitGUCList, append([]splitCase{
		{"a b", nil, false},
		{"A", []string{"A"}, true},
		{"a;b", []string{"a;b"}, true},
	}, listSyntax...))
	got, ok := SplitGUCList("a;b ; c", ';')
	if !ok || !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("SplitGUCList with ';' = %q, %v", got, ok)
	}
}

func TestSplitIdentifierString(t *testing.T) {
	long := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_ABCDEF"
	testSplit(t, "SplitIdentifierString", SplitIdentifierString, append([]splitCase{
		{"a b", nil, false},
		{`Ab, "Ab"`, []string{"ab", "Ab"}, true},
		{"\xc9t\xe9", []string{"\xc9t\xe9"}, true}, // bytes >= 0x80 keep their case
		{long, []string{"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789_"}, true},
		{`"` + long + `"`, []string{long[:63]}, true},
	}, listSyntax...))
}

func TestSplitDirectoriesString(t *testing.T) {
	testSplit(t, "SplitDirectoriesString", SplitDirectoriesString, append([]splitCase{
		{"a b , c", []string{"a b", "c"}, true},
		{"/x/../y/, ./z", []string{"/y", "z"}, true},
		{`"q,r"`, []string{"q,r"}, true},
		{"A", []string{"A"}, true},
	}, listSyntax...))
	long := make([]byte, 1100)
	for i := range long {
		long[i] = 'a'
	}
	got, ok := SplitDirectoriesString(string(long), ',')
	if !ok || len(got) != 1 || len(got[0]) != 1023 {
		t.Errorf("SplitDirectoriesString(1100 bytes) kept %d bytes, want 1023 (MAXPGPATH-1)", len(got[0]))
	}
}

func TestCanonicalizePath(t *testing.T) {
	for _, tc := range []struct{ in, want, old string }{
		{"", "", ""},
		{"/", "/", "/"},
		{"//", "/", "/"},
		{"/a/b/", "/a/b", "/a/b"},
		{"/a//b", "/a/b", "/a/b"},
		{"a/./b", "a/b", "a/./b"},
		{"a/b/.", "a/b", "a/b"},
		{"/a/../b", "/b", "/a/../b"},
		{"/a/b/..", "/a", "/a"},
		{"/..", "/", "/"},
		{"/../a", "/a", "/../a"},
		{"..", "..", ".."},
		{"../a/..", "..", ".."},
		{"a/../..", "..", ".."}, // trailing ".." each remove one component
		{"a/..", ".", "."},
		{".", ".", "."},
		{"./", ".", "."},
		{"a/b/../../..", "..", ".."},
		{"x/..//../y", "../y", "x/../../y"},
		{"/x/y/./", "/x/y", "/x/y"},
	} {
		if got := CanonicalizePath(tc.in); got != tc.want {
			t.Errorf("CanonicalizePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := CanonicalizePathOld(tc.in); got != tc.old {
			t.Errorf("CanonicalizePathOld(%q) = %q, want %q", tc.in, got, tc.old)
		}
	}
}

func TestTrimDirectory(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "/": "/", "/a": "/", "/a/b": "/a", "/a//b": "/a", "a": "", "a/b/": "a", "//a": "/",
	} {
		if got := TrimDirectory(in); got != want {
			t.Errorf("TrimDirectory(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStrerror(t *testing.T) {
	_, openErr := os.Open("/nonexistent/pghba-cemu-test")
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"os-open", openErr, "No such file or directory"},
		{"errno-wrapped", fmt.Errorf("x: %w", syscall.EACCES), "Permission denied"},
		{"errno-other", syscall.ENOSPC, "No space left on device"},
		{"errno-unknown", syscall.Errno(41), "Unknown error 41"},
		{"fs-not-exist", fmt.Errorf("open x: %w", fs.ErrNotExist), "No such file or directory"},
		{"fs-permission", &fs.PathError{Op: "open", Path: "x", Err: fs.ErrPermission}, "Permission denied"},
		{"plain", errors.New("some text"), "some text"},
	} {
		if got := Strerror(tc.err); got != tc.want {
			t.Errorf("%s: Strerror(%v) = %q, want %q", tc.name, tc.err, got, tc.want)
		}
	}
}
