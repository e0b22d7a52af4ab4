package live

import (
	"reflect"
	"testing"
)

func TestParseArray(t *testing.T) {
	for in, want := range map[string][]string{
		`{}`:                  {},
		`{all}`:               {"all"},
		`{a,"b c","x\"y\\z"}`: {"a", "b c", `x"y\z`},
		`{"",","}`:            {"", ","},
		`{+admins,@f}`:        {"+admins", "@f"},
	} {
		got, ok := ParseArray(in)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseArray(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{``, `{`, `a`, `{NULL}`, `{"a}`, `{a,}`, `{{a}}`, `{a"b}`} {
		if got, ok := ParseArray(in); ok {
			t.Errorf("ParseArray(%q) = %q, want not ok", in, got)
		}
	}
}
