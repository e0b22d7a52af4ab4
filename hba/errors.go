package hba

// Errors: the positioned *Error of a load, its categories (the Err*
// sentinels) and ErrorList.

import (
	"cmp"
	"errors"
	"slices"
	"strings"
)

// Error categories, for errors.Is on an *Error or an ErrorList.
var (
	ErrSyntax       = errors.New("syntax error")               // tokeniser: token or line too long
	ErrFile         = errors.New("file error")                 // @file or include could not be read
	ErrIncludeDepth = errors.New("nesting depth exceeded")     // @file/include nesting or cycle
	ErrConnType     = errors.New("invalid connection type")    // TYPE column
	ErrMissingField = errors.New("missing field")              // end-of-line before …
	ErrMultiple     = errors.New("multiple values")            // a single-valued column holds a list
	ErrBadAddress   = errors.New("invalid address")            // ADDRESS / mask columns
	ErrMethod       = errors.New("invalid method")             // METHOD column
	ErrOption       = errors.New("invalid option")             // options after the method
	ErrRegex        = errors.New("invalid regular expression") // /regex tokens
	ErrNoEntries    = errors.New("no entries")                 // file without rules
	ErrIdent        = errors.New("invalid ident line")         // pg_ident.conf record errors
)

// Error is one load error, positioned on the logical line PostgreSQL reports
// it on.
type Error struct {
	Pos Position
	// Msg is the text PostgreSQL stores for the line (the error column of
	// pg_hba_file_rules), or, when LogOnly is set, the text it only logs.
	Msg string
	// Log is the server-log text when it differs from Msg; empty otherwise.
	Log string
	// LogOnly reports a failure PostgreSQL only logs: the file does not load
	// but the view shows no error text for the line.
	LogOnly bool
	// Hint is PostgreSQL's HINT for the message, if any.
	Hint string
	// Err is the category (one of the Err* sentinels).
	Err error

	// cause is, for a file that could not be read, the error reading it
	// gave (the file system's *fs.PathError, say), nil otherwise.
	cause error
}

// Error returns "file:line: message". The column (Pos.Column) is left out,
// so that the text is the place and message PostgreSQL logs.
func (e *Error) Error() string {
	return e.Pos.lineString() + ": " + e.Msg
}

// Unwrap returns the category and, when the error is a file that could not
// be read, the error reading it gave, so that errors.Is(err,
// fs.ErrNotExist) and errors.As with an *fs.PathError see it.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.cause}
}

// LogText returns the message as the server log shows it.
func (e *Error) LogText() string {
	if e.Log != "" {
		return e.Log
	}
	return e.Msg
}

// viewText returns the text the pg_hba_file_rules error column shows for the
// line: "" for log-only failures.
func (e *Error) viewText() string {
	if e.LogOnly {
		return ""
	}
	return e.Msg
}

// ErrorList is a list of load errors. The zero value is an empty list.
type ErrorList []*Error

// Add appends an error.
func (l *ErrorList) Add(pos Position, msg string, cat error) {
	*l = append(*l, &Error{Pos: pos, Msg: msg, Err: cat})
}

// Sort sorts the list by position (file, then line), keeping the order of
// errors on one line.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(x, y *Error) int {
		a, b := x.Pos, y.Pos
		if c := strings.Compare(a.Filename, b.Filename); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
}

// Error returns the first error and a count of the others.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	b.WriteString(l[0].Error())
	b.WriteString(" (and ")
	b.WriteString(itoa(len(l) - 1))
	b.WriteString(" more errors)")
	return b.String()
}

// Err returns nil when the list is empty, and the list otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Unwrap returns every error in the list, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
