package hba

// names.go: the database and user columns as the matcher reads them, for the
// analyses in package hba/audit (the seam between hba and hba/audit).

import "github.com/pghba/pghba/internal/pgre"

// NameKind tells how one element of a database or user column matches.
// The zero value is NameLiteral.
type NameKind uint8

// Kinds of names. A quoted keyword ("all", "+x") is a NameLiteral; @file
// references are expanded when the file is read, so no kind stands for them.
const (
	NameLiteral     = NameKind(nameLiteral)     // compared byte for byte with the name
	NameAll         = NameKind(nameAll)         // all
	NameSameUser    = NameKind(nameSameUser)    // sameuser (database column)
	NameSameRole    = NameKind(nameSameRole)    // samerole or samegroup (database column)
	NameReplication = NameKind(nameReplication) // replication (database column)
	NameRole        = NameKind(nameRole)        // +role (user column)
	NameRegex       = NameKind(nameRegex)       // /regex (PostgreSQL 16+)
)

var nameKindNames = [...]string{"literal", "all", "sameuser", "samerole", "replication", "+role", "regex"}

// String returns a short word for the kind ("literal", "all", "+role", ...).
func (k NameKind) String() string {
	if int(k) < len(nameKindNames) {
		return nameKindNames[k]
	}
	return ""
}

// Name is one element of a rule's database or user column, as the matcher
// reads it.
//
// Value is the name for NameLiteral (not cut to NAMEDATALEN-1 bytes: a longer
// literal matches no connection), the role without its "+" for NameRole, the
// token with its leading slash for NameRegex, and the keyword as written for
// the other kinds.
type Name struct {
	Kind  NameKind
	Value string
	re    *pgre.Regexp
}

// MatchRegex reports whether the regular expression of a NameRegex name
// matches s, as PostgreSQL's matcher would. A non-nil error means the
// match was not decided: the pattern uses back-references and ran out of
// the work budget of the regular-expression engine, where PostgreSQL, which
// has no budget, would decide it one way or the other. For the other kinds
// MatchRegex reports false and no error.
func (n Name) MatchRegex(s string) (bool, error) {
	if n.Kind != NameRegex || n.re == nil {
		return false, nil
	}
	m, err := n.re.Exec(s)
	return m != nil && err == nil, err
}

// Names returns the database (c is ColumnDatabase) or user (ColumnUser)
// column of r in the order written, after @file expansion; nil for any other
// column. The slice is new on each call.
func (r *Rule) Names(c Column) []Name {
	if c != ColumnDatabase && c != ColumnUser {
		return nil
	}
	ms := r.matchers(c == ColumnDatabase)
	out := make([]Name, len(ms))
	for i, m := range ms {
		out[i] = Name{Kind: NameKind(m.kind), Value: m.s, re: m.re}
	}
	return out
}
