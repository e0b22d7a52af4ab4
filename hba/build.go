package hba

import (
	"net/netip"
	"strings"
)

// A RuleSpec's names are Names (names.go), the seam the analyses read rules
// through: BuildRule writes the token each kind reads back as, and TokenName
// is its inverse. A keyword kind's Value is the keyword as written (empty
// means its usual spelling; samegroup is NameSameRole's other spelling), a
// NameRole's Value is the role without its "+", and a NameRegex's Value is
// the expression with its leading slash (one is added when it is missing).

// Lit returns a literal Name.
func Lit(s string) Name { return Name{Kind: NameLiteral, Value: s} }

// Kw returns the keyword Name written s, such as Kw("all") or
// Kw("samegroup"). A word that is no keyword gives a Name BuildRule refuses.
func Kw(s string) Name {
	switch s {
	case "all":
		return Name{Kind: NameAll, Value: s}
	case "sameuser":
		return Name{Kind: NameSameUser, Value: s}
	case "samerole", "samegroup":
		return Name{Kind: NameSameRole, Value: s}
	case "replication":
		return Name{Kind: NameReplication, Value: s}
	}
	return Name{Kind: nameKindInvalid, Value: s}
}

// nameKindInvalid marks a Kw of a word that is no keyword.
const nameKindInvalid NameKind = 255

// keywordOf returns the token a keyword Name is written as, or "" when n
// is no keyword of its kind.
func keywordOf(n Name) string {
	spell := map[NameKind][]string{
		NameAll:         {"all"},
		NameSameUser:    {"sameuser"},
		NameSameRole:    {"samerole", "samegroup"},
		NameReplication: {"replication"},
	}[n.Kind]
	if len(spell) == 0 {
		return ""
	}
	if n.Value == "" {
		return spell[0]
	}
	for _, w := range spell {
		if n.Value == w {
			return w
		}
	}
	return ""
}

// RuleSpec is a pg_hba.conf rule given as values, for Parser.BuildRule.
type RuleSpec struct {
	Type      ConnType
	Databases []Name
	Users     []Name
	// The address of a host rule: exactly one of Prefix and Host. Prefix
	// is written ip/bits with its own bit count, so a single address a is
	// netip.PrefixFrom(a, a.BitLen()) (/32 or /128 by family); host bits
	// are kept as written. An IPv4-mapped IPv6 prefix stays IPv6, and
	// matches only IPv6 clients, as in the server. Host is a host name,
	// a .suffix, or one of the keywords all, samehost and samenet.
	Prefix netip.Prefix
	Host   string
	Method Method
	// Options are written name=value, in order.
	Options []Option
}

var dbKeywords = []string{"all", "sameuser", "samerole", "samegroup", "replication"}

func isKeyword(s string, col Column) bool {
	if col == ColumnUser {
		return s == "all"
	}
	for _, k := range dbKeywords {
		if s == k {
			return true
		}
	}
	return false
}

// quoteTok returns s as one token that reads back as s: bare when that is
// safe and quoted otherwise ("" inside).
func quoteTok(s string, bare bool) string {
	if bare && s != "" && !strings.ContainsAny(s, " \t\r,\"#") && !strings.HasSuffix(s, `\`) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// buildError is a refusal of BuildRule.
type buildError struct {
	msg string
	err error // the parser's *Error, if it refused the line
}

func (e *buildError) Error() string { return e.msg }
func (e *buildError) Unwrap() error { return e.err }

func refuse(msg string) error { return &buildError{msg: "hba: cannot build rule: " + msg} }

func (p *Parser) nameToken(n Name, col Column, i int) (string, error) {
	where := col.String() + "[" + itoa(i) + "] "
	if strings.ContainsAny(n.Value, "\n\x00") {
		return "", refuse(where + quoteGo(n.Value) + ": a name cannot contain a newline or a NUL byte")
	}
	ver := p.version()
	switch n.Kind {
	case NameLiteral:
		if ver >= 16 && strings.HasPrefix(n.Value, "/") {
			return "", refuse(where + quoteGo(n.Value) + ": from PostgreSQL 16 a name starting with / is read as a regular expression, quoted or not")
		}
		special := isKeyword(n.Value, ColumnDatabase) || isKeyword(n.Value, ColumnUser) ||
			strings.HasPrefix(n.Value, "@") || strings.HasPrefix(n.Value, "+") || strings.HasPrefix(n.Value, "/")
		return quoteTok(n.Value, !special), nil
	case NameAll, NameSameUser, NameSameRole, NameReplication, nameKindInvalid:
		kw := keywordOf(n)
		if kw == "" || !isKeyword(kw, col) {
			v := n.Value
			if kw != "" {
				v = kw
			}
			return "", refuse(where + quoteGo(v) + ": not a keyword of the " + col.String() + " column")
		}
		return kw, nil
	case NameRole:
		if col != ColumnUser {
			return "", refuse(where + quoteGo(n.Value) + ": role membership (+role) is a user column test")
		}
		if n.Value == "" {
			return "", refuse(where + "membership of an empty role name")
		}
		if !strings.ContainsAny(n.Value, " \t\r,\"#") && !strings.HasSuffix(n.Value, `\`) {
			return "+" + n.Value, nil
		}
		return "+" + quoteTok(n.Value, false), nil
	case NameRegex:
		if ver < 16 {
			return "", refuse(where + "regular expressions need PostgreSQL 16 or later")
		}
		v := n.Value
		if !strings.HasPrefix(v, "/") {
			v = "/" + v
		}
		return quoteTok(v, true), nil
	}
	return "", refuse(where + "invalid NameKind")
}

func quoteGo(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == 0:
			b.WriteString(`\x00`)
		case r < ' ':
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// BuildRule returns the pg_hba.conf line (without a line terminator) that
// p's version reads back as spec: the same type, the same database and user
// elements of the same kinds, the same address, method and options. Columns
// are separated by one space.
//
// A literal name is quoted when it is a keyword of either column, contains
// a blank, a comma, a double quote or #, starts with @, + or /, or ends in a
// backslash; a quote inside becomes "". Option values are quoted on the same
// grounds. The line is then checked by the parser: its error (an *Error,
// through errors.As) is returned if the server would refuse the line, such
// as an option the method does not take, or a missing required option;
// and the columns read back are compared with spec.
//
// BuildRule refuses, with an error saying why, what the file cannot express:
// a newline or NUL byte in any value, an empty list, a literal name starting
// with / from 16 (read as a regular expression even when quoted), /regex
// before 16, a keyword that is not one of its column, +role outside the user
// column, an address on a local rule or none on a host rule, an option name
// that is not a bare word. An include directive or @file cannot be built.
func (p *Parser) BuildRule(spec RuleSpec) (string, error) {
	if !spec.Type.IsValid() {
		return "", refuse("invalid connection type")
	}
	if !spec.Method.IsValid() {
		return "", refuse("invalid method")
	}
	var b strings.Builder
	b.WriteString(spec.Type.String())
	for _, col := range []struct {
		c     Column
		names []Name
	}{{ColumnDatabase, spec.Databases}, {ColumnUser, spec.Users}} {
		if len(col.names) == 0 {
			return "", refuse("no " + col.c.String() + " given")
		}
		b.WriteByte(' ')
		for i, n := range col.names {
			tok, err := p.nameToken(n, col.c, i)
			if err != nil {
				return "", err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(tok)
		}
	}
	hasAddr := spec.Prefix.IsValid() || spec.Host != ""
	switch {
	case spec.Type == Local && hasAddr:
		return "", refuse("a local rule has no address")
	case spec.Type != Local && !hasAddr:
		return "", refuse("a " + spec.Type.String() + " rule needs an address: Prefix or Host")
	case spec.Prefix.IsValid() && spec.Host != "":
		return "", refuse("both Prefix and Host given")
	case spec.Prefix.IsValid():
		if spec.Prefix.Addr().Zone() != "" {
			return "", refuse("address " + spec.Prefix.String() + ": an IPv6 zone cannot be written")
		}
		b.WriteByte(' ')
		b.WriteString(spec.Prefix.Addr().String() + "/" + itoa(spec.Prefix.Bits()))
	case spec.Host != "":
		if strings.ContainsAny(spec.Host, " \t\r\n,\"#\x00") || strings.HasPrefix(spec.Host, "@") || strings.HasSuffix(spec.Host, `\`) {
			return "", refuse("host " + quoteGo(spec.Host) + ": not a host name")
		}
		if _, err := netip.ParseAddr(spec.Host); err == nil {
			return "", refuse("host " + quoteGo(spec.Host) + ": an IP address goes in Prefix, with its bits")
		}
		b.WriteByte(' ')
		b.WriteString(spec.Host)
	}
	b.WriteByte(' ')
	b.WriteString(spec.Method.String())
	for i, o := range spec.Options {
		if o.Name == "" || strings.ContainsAny(o.Name, " \t\r\n,\"#=\x00\\") {
			return "", refuse("option[" + itoa(i) + "] name " + quoteGo(o.Name) + ": not an option name")
		}
		if strings.ContainsAny(o.Value, "\n\x00") {
			return "", refuse("option " + o.Name + ": a value cannot contain a newline or a NUL byte")
		}
		b.WriteByte(' ')
		b.WriteString(o.Name + "=" + quoteTok(o.Value, true))
	}
	line := b.String()
	q := *p
	q.FS = refuseFS{}
	f := q.ParseBytes("/pg_hba.conf", []byte(line+"\n"))
	if len(f.Errors) > 0 {
		e := f.Errors[0]
		return "", &buildError{msg: "hba: cannot build rule: " + e.Msg, err: e}
	}
	if len(f.Rules) != 1 {
		return "", refuse("the line " + quoteGo(line) + " does not read back as one rule")
	}
	if why := p.sameRule(f.Rules[0], spec); why != "" {
		return "", refuse("the line " + quoteGo(line) + " reads back with a different " + why)
	}
	return line, nil
}

// TokenName returns the Name a database or user token of a loaded rule
// stands for in p's version, the inverse of what BuildRule writes.
func (p *Parser) TokenName(t Token, col Column) Name {
	switch {
	case p.version() >= 16 && strings.HasPrefix(t.Value, "/"):
		return Name{Value: t.Value, Kind: NameRegex}
	case t.Quoted:
		return Name{Value: t.Value}
	case isKeyword(t.Value, col):
		return Kw(t.Value)
	case col == ColumnUser && strings.HasPrefix(t.Value, "+"):
		return Name{Value: t.Value[1:], Kind: NameRole}
	}
	return Name{Value: t.Value}
}

// specName returns n as TokenName gives it back once BuildRule has written
// it: a NameRegex's Value with its leading slash, a keyword with its usual
// spelling when Value is empty.
func specName(n Name) Name {
	switch {
	case n.Kind == NameRegex && !strings.HasPrefix(n.Value, "/"):
		n.Value = "/" + n.Value
	case keywordOf(n) != "":
		n.Value = keywordOf(n)
	}
	n.re = nil
	return n
}

// sameRule returns the first column in which r differs from spec, or "".
func (p *Parser) sameRule(r *Rule, spec RuleSpec) string {
	if r.Type() != spec.Type {
		return "type"
	}
	for _, col := range []struct {
		c     Column
		toks  []Token
		names []Name
	}{{ColumnDatabase, r.Databases(), spec.Databases}, {ColumnUser, r.Users(), spec.Users}} {
		if len(col.toks) != len(col.names) {
			return col.c.String() + " column"
		}
		for i, t := range col.toks {
			if p.TokenName(t, col.c) != specName(col.names[i]) {
				return col.c.String() + " column"
			}
		}
	}
	a := r.Address()
	switch {
	case spec.Prefix.IsValid():
		pr, ok := a.Prefix()
		if a.Kind != AddrIP || !ok || a.IP != spec.Prefix.Addr() || pr.Bits() != spec.Prefix.Bits() {
			return "address"
		}
	case spec.Host != "":
		want := map[string]AddrKind{"all": AddrAll, "samehost": AddrSameHost, "samenet": AddrSameNet}[spec.Host]
		if want == AddrNone {
			if a.Kind != AddrHostName || a.Host != spec.Host {
				return "address"
			}
		} else if a.Kind != want {
			return "address"
		}
	default:
		if a.Kind != AddrNone {
			return "address"
		}
	}
	if r.Method() != spec.Method {
		return "method"
	}
	raw := r.Options().Raw
	if len(raw) != len(spec.Options) {
		return "options"
	}
	for i, o := range raw {
		if o != spec.Options[i] {
			return "option " + o.Name
		}
	}
	return ""
}
