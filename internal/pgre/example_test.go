package pgre_test

import (
	"errors"
	"fmt"

	"github.com/pghba/pghba/internal/pgre"
)

// A pg_ident.conf line "m /^(.*)@example\.com$ \1" maps a certificate name
// to a database user: group 1 replaces the first \1.
func ExampleRegexp_FindSubmatchIndex() {
	re, err := pgre.Compile(`^(.*)@example\.com$`)
	if err != nil {
		panic(err)
	}
	m := re.FindSubmatchIndex("alice@example.com")
	fmt.Println(m, "alice@example.com"[m[2]:m[3]])
	// Output: [0 17 0 5] alice
}

// ARE captures are not RE2's: the first quantifier's preference decides.
func ExampleRegexp_FindSubmatchIndex_preference() {
	re := pgre.MustCompile(`(a*?)(a*)`)
	fmt.Println(re.FindSubmatchIndex("aaa"))
	// Output: [0 0 0 0 0 0]
}

func ExampleCompile_errors() {
	_, err := pgre.Compile(`a{2,1}`)
	fmt.Println(err)
	_, err = pgre.Compile(`(?:a*\y){5}`)
	fmt.Println(errors.Is(err, pgre.ErrUnsupported))
	// Output:
	// invalid repetition count(s)
	// true
}
