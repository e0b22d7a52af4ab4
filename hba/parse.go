package hba

// Parsing one record: a scanned line to a Rule, column by column, as
// PostgreSQL's parse_hba_line does (the method and its options are in
// options.go).

import (
	"context"
	"net/netip"
	"strings"

	"github.com/pghba/pghba/internal/cemu"
	"github.com/pghba/pghba/internal/pgre"
)

// parseRule is PostgreSQL's parse_hba_line (hba.c): it checks the fields
// of one tokenized line in PostgreSQL's order and stops at the first
// problem (the address in parseAddress, the method and options in
// parseMethodColumn). The rule is built in
// *r, which must be zero; r is returned on success. An error is placed on
// the token or field at fault; a missing field has no column.
//
// memo, when not nil, remembers the options of option-less rules (see
// authMemo).
func (p *Parser) parseRule(ctx context.Context, tl *tokLine, r *Rule, a *nameArena, memo *authMemo) (*Rule, *Error) {
	r.setRaw(tl.raw)
	r.line = int32(tl.pos.Line)
	fail := func(pos Position, msg string, cat error) (*Rule, *Error) {
		return nil, &Error{Pos: pos, Msg: msg, Err: cat}
	}
	hint := func(e *Error, h string) *Error { e.Hint = h; return e }
	fields := tl.fields

	// TYPE
	if len(fields[0]) > 1 {
		_, e := fail(tl.fieldPos(fields[0]), "multiple values specified for connection type", ErrMultiple)
		return nil, hint(e, "Specify exactly one connection type per line.")
	}
	r.typ = parseConnType(fields[0][0].s)
	if !r.typ.IsValid() {
		return fail(tl.tokPos(fields[0][0]), `invalid connection type "`+fields[0][0].s+`"`, ErrConnType)
	}
	switch r.typ {
	case HostSSL:
		if !p.Features.Has(FeatureSSL) {
			r.warn, r.fl = warnSSLNotSupported, r.fl|flNever
		} else if !p.SSL {
			r.warn, r.fl = warnSSLDisabled, r.fl|flNever
		}
	case HostGSSEnc:
		if !p.Features.Has(FeatureGSSAPI) {
			r.warn, r.fl = warnGSSNotSupported, r.fl|flNever
		}
	}
	fields = fields[1:]

	// DATABASE
	if len(fields) == 0 {
		return fail(tl.pos, "end-of-line before database specification", ErrMissingField)
	}
	var e *Error
	if e = p.compileNames(tl, r, fields[0], true, a, tl.lazy[0] != [2]int32{}); e != nil {
		return nil, e
	}
	fields = fields[1:]

	// USER
	if len(fields) == 0 {
		return fail(tl.pos, "end-of-line before role specification", ErrMissingField)
	}
	if e = p.compileNames(tl, r, fields[0], false, a, tl.lazy[1] != [2]int32{}); e != nil {
		return nil, e
	}
	fields = fields[1:]

	// ADDRESS
	if r.typ != Local {
		if fields, e = parseAddress(tl, r, fields); e != nil {
			return nil, e
		}
	}

	// METHOD
	if e := p.parseMethodColumn(ctx, tl, r, fields, memo); e != nil {
		return nil, e
	}
	return r, nil
}

// parseAddress reads the ADDRESS column of a host rule, and its netmask
// column when the address has no CIDR length; it returns the fields after
// them.
func parseAddress(tl *tokLine, r *Rule, fields [][]token) ([][]token, *Error) {
	fail := func(pos Position, msg string, cat error) ([][]token, *Error) {
		return nil, &Error{Pos: pos, Msg: msg, Err: cat}
	}
	if len(fields) == 0 {
		return fail(tl.pos, "end-of-line before IP address specification", ErrMissingField)
	}
	if len(fields[0]) > 1 {
		_, e := fail(tl.fieldPos(fields[0]), "multiple values specified for host address", ErrMultiple)
		e.Hint = "Specify one address range per line."
		return nil, e
	}
	t := fields[0][0]
	fields = fields[1:]
	r.setAddrText(t)
	switch {
	case !t.quoted && t.s == "all":
		r.akind = AddrAll
		return fields, nil
	case !t.quoted && t.s == "samehost":
		r.akind = AddrSameHost
		return fields, nil
	case !t.quoted && t.s == "samenet":
		r.akind = AddrSameNet
		return fields, nil
	}
	if ip, n, hasBits, ok := ipv4CIDR(t.s); ok && hasBits {
		r.akind, r.bits = AddrIP, uint8(n)
		r.setAddr(ip)
		return fields, nil
	}
	str, bits, hasBits := strings.Cut(t.s, "/")
	ip, ok := numericHost(str)
	if !ok {
		if hasBits {
			return fail(tl.tokPos(t), `specifying both host name and CIDR mask is invalid: "`+t.s+`"`, ErrBadAddress)
		}
		r.akind = AddrHostName
		return fields, nil
	}
	r.akind = AddrIP
	r.setAddr(ip)
	if hasBits {
		n, ok := cidrBits(bits, ip.Is4())
		if !ok {
			return fail(tl.tokPos(t), `invalid CIDR mask in address "`+t.s+`"`, ErrBadAddress)
		}
		r.bits = uint8(n)
		return fields, nil
	}
	if len(fields) == 0 {
		_, e := fail(tl.pos, "end-of-line before netmask specification", ErrMissingField)
		e.Hint = "Specify an address range in CIDR notation, or provide a separate netmask."
		return nil, e
	}
	if len(fields[0]) > 1 {
		return fail(tl.fieldPos(fields[0]), "multiple values specified for netmask", ErrMultiple)
	}
	mt := fields[0][0]
	m, ok := numericHost(mt.s)
	if !ok {
		return fail(tl.tokPos(mt), `invalid IP mask "`+mt.s+`": Name or service not known`, ErrBadAddress)
	}
	if m.Is4() != ip.Is4() {
		return fail(tl.tokPos(mt), "IP address and mask do not match", ErrBadAddress)
	}
	r.setMask(m.WithZone(""))
	return fields[1:], nil
}

// parseMethodColumn reads the METHOD column and the options after it
// (options.go), and places an error on the token it is about.
func (p *Parser) parseMethodColumn(ctx context.Context, tl *tokLine, r *Rule, fields [][]token, memo *authMemo) *Error {
	if len(fields) == 0 {
		return &Error{Pos: tl.pos, Msg: "end-of-line before authentication method", Err: ErrMissingField}
	}
	if len(fields[0]) > 1 {
		return &Error{Pos: tl.fieldPos(fields[0]), Msg: "multiple values specified for authentication type", Err: ErrMultiple,
			Hint: "Specify exactly one authentication type per line."}
	}
	mtok := fields[0][0]
	var slot *authMemoEntry
	var kw Method // the method keyword's, when it is one
	if memo != nil && len(fields) == 1 && int(r.typ) < len(memo.byType) {
		slot = &memo.byType[r.typ]
		if slot.opts != nil && slot.method == mtok.s {
			r.method, r.opts = slot.m, slot.opts
			return nil
		}
		if kw = parseMethod(mtok.s); kw != 0 && int(kw) < len(methodNames) {
			if k := memo.byMethod[r.typ][kw]; k.opts != nil {
				r.method, r.opts = k.m, k.opts
				*slot = authMemoEntry{method: mtok.s, m: k.m, opts: k.opts}
				return nil
			}
		}
	}
	var key optsKey
	keyed := false
	if memo != nil && len(fields) > 1 {
		if key, keyed = optionsKey(tl, r.typ, mtok, fields[1:]); keyed {
			for c := memo.byText[key]; c != nil; c = c.next {
				if c.method == mtok.s && sameOptions(c.opts.Raw, fields[1:]) {
					r.method, r.opts, r.warn = c.m, c.opts, c.warn
					return nil
				}
			}
		}
	}
	var opts []string
	if memo != nil {
		opts = memo.opts[:0]
	}
	for _, f := range fields[1:] {
		for _, t := range f {
			opts = append(opts, t.s)
		}
	}
	if memo != nil {
		memo.opts = opts
	}
	at, e := p.parseAuthAt(ctx, r, mtok.s, opts)
	if e == nil {
		switch {
		case slot != nil:
			r.opts = memo.l.shareOptions(r.method, r.opts)
			*slot = authMemoEntry{method: mtok.s, m: r.method, opts: r.opts}
			if kw != 0 && int(kw) < len(methodNames) {
				memo.byMethod[r.typ][kw] = methodMemo{m: r.method, opts: r.opts}
			}
		case keyed && !(r.method == RADIUS && p.RADIUSResolver != nil):
			// A RADIUS line with a resolver is looked up again each
			// time, as PostgreSQL does.
			r.opts = memo.l.shareOptions(r.method, r.opts)
			memo.remember(key, mtok.s, r)
		}
		return nil
	}
	switch {
	case at < 0 || len(opts) == 0:
		e.Pos = tl.tokPos(mtok)
	case at < len(opts):
		e.Pos = tl.tokPos(optionToken(fields[1:], at))
	default: // the options together: the method to the last option
		e.Pos = tl.fieldPos([]token{mtok, optionToken(fields[1:], len(opts)-1)})
	}
	if e.LogOnly && r.warn != warnNone {
		// The view shows the earlier warning text on such a line.
		e.Msg, e.Log, e.LogOnly = r.Warning(), e.LogText(), false
	}
	return e
}

// authMemo remembers, per connection type, the last method keyword read
// without options and what parseAuthAt made of it, so that the next such
// rule skips parseAuthAt; and the same for every method keyword of the
// type (byMethod, which one keyword's Method indexes: only successes are
// remembered, and an error is all that the keyword's spelling changes).
// Without options, what parseAuthAt gives depends only on the parser,
// the connection type and the keyword, and touches only r.method and
// r.opts. The options are the load's shared ones (loader.shareOptions),
// which the builder would give the rule anyway.
type authMemo struct {
	l        *loader
	byType   [HostNoGSSEnc + 1]authMemoEntry
	byMethod [HostNoGSSEnc + 1][len(methodNames)]methodMemo
	// byText are the rules with options (optsKey); entries is the slab
	// their entries are carved from.
	byText  map[optsKey]*optsEntry
	entries []optsEntry
	// opts is parseMethodColumn's buffer of option texts.
	opts []string
}

type authMemoEntry struct {
	method string // the keyword as written
	m      Method
	opts   *AuthOptions // nil: nothing remembered
}

// methodMemo is what parseAuthAt made of a method keyword without options.
type methodMemo struct {
	m    Method
	opts *AuthOptions // nil: nothing remembered
}

// The memo of rules with option tokens. What parseAuthAt gives a rule
// depends only on the parser, the connection type, the method keyword and
// the option tokens' texts (and, for RADIUS, on what the resolver says,
// which is asked again each time): it sets r.method, r.opts and r.warn,
// whose value before depends only on the parser and the connection type.
// Its successes are remembered by connection type and by the text of the
// line from the method token to the last option token, which costs one
// string hash a rule to find; the tokens themselves are then compared with
// the remembered options' Raw, so that a match is exact (an @file in the
// column, or equal text read differently, only misses).
type optsKey struct {
	text string
	typ  ConnType
}

// optsEntry is what parseAuthAt made of one method keyword and option
// tokens; next is another entry with the same key.
type optsEntry struct {
	method string
	m      Method
	warn   ruleWarning
	opts   *AuthOptions // the load's shared ones; Raw are the tokens
	next   *optsEntry
}

// maxOptsChain bounds the entries kept under one key (equal text that is
// not equal tokens, through @file names).
const maxOptsChain = 4

// optionsKey returns the key of the method token mtok and the option
// fields of line tl, false when the tokens have no place in the line.
func optionsKey(tl *tokLine, typ ConnType, mtok token, fields [][]token) (optsKey, bool) {
	last := fields[len(fields)-1]
	if len(last) == 0 {
		return optsKey{}, false
	}
	from, to := int(mtok.col)-1, int(last[len(last)-1].end)-1
	if from < 0 || to < from || to > len(tl.raw) {
		return optsKey{}, false
	}
	return optsKey{text: tl.raw[from:to], typ: typ}, true
}

// sameOptions reports whether the option tokens of fields are exactly raw:
// each token is its option's Name, "=" and Value (Name, cut at the first
// "=", has none).
func sameOptions(raw []Option, fields [][]token) bool {
	i := 0
	for _, f := range fields {
		for _, t := range f {
			if i == len(raw) {
				return false
			}
			o := &raw[i]
			i++
			n := len(o.Name)
			if len(t.s) != n+1+len(o.Value) || t.s[n] != '=' || t.s[:n] != o.Name || t.s[n+1:] != o.Value {
				return false
			}
		}
	}
	return i == len(raw)
}

// remember files rule r, just read with the method keyword method and the
// options of key, whose r.opts are shared.
func (m *authMemo) remember(key optsKey, method string, r *Rule) {
	head := m.byText[key]
	n := 0
	for c := head; c != nil; c = c.next {
		n++
	}
	if n >= maxOptsChain {
		return
	}
	if len(m.entries) == 0 {
		m.entries = make([]optsEntry, 64)
	}
	c := &m.entries[0]
	m.entries = m.entries[1:]
	*c = optsEntry{method: method, m: r.method, warn: r.warn, opts: r.opts, next: head}
	if m.byText == nil {
		m.byText = map[optsKey]*optsEntry{}
	}
	m.byText[key] = c
}

// optionToken returns the i-th option token of the option fields.
func optionToken(fields [][]token, i int) token {
	for _, f := range fields {
		if i < len(f) {
			return f[i]
		}
		i -= len(f)
	}
	return token{}
}

// setMask stores the mask of an AddrIP rule: as a prefix length when it is
// contiguous, in the side record otherwise.
func (r *Rule) setMask(m netip.Addr) {
	if n, ok := maskBits(m); ok {
		r.bits = uint8(n)
		return
	}
	r.bits = noBits
	r.extra().mask = m
}

// extra returns the rule's side record, making it when needed (it takes
// the address over from r.ip). The pointer is valid until the next
// record of the load is made.
func (r *Rule) extra() *ruleExt {
	tab := r.file.strs
	if !r.hasExt() {
		var e ruleExt
		if r.akind == AddrIP {
			e.ip = r.ip16()
		}
		tab.exts = append(tab.exts, e)
		r.ip, r.fl = uint32(len(tab.exts)-1), r.fl|flExt
	}
	return &tab.exts[r.ip]
}

// nameArena keeps the columns made only of @file names, so that rules
// naming the same file share them (as offsets into the load's name slab,
// strTable.names), and keeps the /regex names compiled in the load, so
// that rules with the same pattern share one compiled expression (a
// *pgre.Regexp is immutable and safe for concurrent use). A nil arena
// shares nothing and compiles each time. One arena serves one builder,
// whose rules all have the same loader's table.
type nameArena struct {
	cols map[colKey]colRef
	// lazyCols are the columns that are one cached @file expansion
	// (tokLine.lazy), by the expansion's tokens themselves.
	lazyCols map[lazyKey]colRef
	res      map[string]compiledRegex
}

// colRef is a column in the name slab: names [off, off+n).
type colRef struct{ off, n uint32 }

// lazyKey names a lazy column: the first of the cached expansion's
// tokens (which no other expansion holds), and whether it is the database
// column.
type lazyKey struct {
	first *token
	db    bool
}

// colKey names a column whose tokens all sit in the load's string table
// (token.at < 0): the table index of its first token, its length, and
// whether it is the database column (which gives keywords other kinds).
type colKey struct {
	first int32
	n     int
	db    bool
}

// compiledRegex is the result of compiling one pattern.
type compiledRegex struct {
	re  *pgre.Regexp
	err error
}

// regex compiles pattern for p, once per load.
func (a *nameArena) regex(p *Parser, pattern string) (*pgre.Regexp, error) {
	if a == nil {
		return p.compileRegex(pattern)
	}
	if c, ok := a.res[pattern]; ok {
		return c.re, c.err
	}
	re, err := p.compileRegex(pattern)
	if a.res == nil {
		a.res = map[string]compiledRegex{}
	}
	a.res[pattern] = compiledRegex{re, err}
	return re, err
}

// shared returns the column made before from exactly toks, all of them in
// the load's string table (ok), and the key to keep it under when there
// is none yet (share false when toks cannot be shared).
func (a *nameArena) shared(tab *strTable, toks []token, db bool) (c colRef, ok bool, k colKey, share bool) {
	if a == nil || len(toks) == 0 {
		return c, false, k, false
	}
	for _, t := range toks {
		if t.at >= 0 {
			return c, false, k, false
		}
	}
	k = colKey{first: toks[0].at, n: len(toks), db: db}
	c, ok = a.cols[k]
	if !ok {
		return c, false, k, true
	}
	ns := tab.names[c.off : c.off+c.n]
	for j, t := range toks {
		if ns[j].sp.off() != uint32(-t.at-1) || ns[j].quoted != t.quoted {
			return c, false, k, false
		}
	}
	return c, true, k, true
}

// compileNames classifies the tokens of the database (db) or user column
// and sets the column in r, its names appended to the load's name slab
// (or shared with an earlier rule's); the regular expressions go to r's
// side record. lazy says that toks are a cached @file expansion itself
// (tokLine.lazy).
func (p *Parser) compileNames(tl *tokLine, r *Rule, toks []token, db bool, a *nameArena, lazy bool) *Error {
	base := 0
	if !db {
		base = int(r.nDB())
	}
	tab := r.file.strs
	var c colRef
	found := false
	var key colKey
	share := false
	lk := lazyKey{db: db}
	if lazy && a != nil {
		lk.first = &toks[0]
		c, found = a.lazyCols[lk]
	} else if len(toks) > 0 && toks[0].at < 0 {
		c, found, key, share = a.shared(tab, toks, db)
	}
	if found {
		// The names are shared; the regular expressions are the rule's.
		for j, n := range tab.names[c.off : c.off+c.n] {
			if n.kind == nameRegex {
				if e := p.ruleRegex(tl, r, toks[j], base+j, a); e != nil {
					return e
				}
			}
		}
	} else {
		c.off = uint32(len(tab.names))
		regexOK := p.version() >= 16
		for _, t := range toks {
			m := name{sp: r.spanOf(t), quoted: t.quoted}
			if len(t.s) > 0 && !t.quoted {
				m.kind = keywordKind(t.s, db)
			}
			if regexOK && len(t.s) > 0 && t.s[0] == '/' {
				m.kind = nameRegex
			}
			tab.names = append(tab.names, m)
		}
		c.n = uint32(len(toks))
		// The regular expressions, once the names are in (ruleRegex may
		// move the slab's side records, not the names).
		if regexOK {
			for j, t := range toks {
				if len(t.s) > 0 && t.s[0] == '/' {
					if e := p.ruleRegex(tl, r, t, base+j, a); e != nil {
						return e
					}
				}
			}
		}
		if lk.first != nil {
			if a.lazyCols == nil {
				a.lazyCols = map[lazyKey]colRef{}
			}
			a.lazyCols[lk] = c
		} else if share {
			if a.cols == nil {
				a.cols = map[colKey]colRef{}
			}
			a.cols[key] = c
		}
	}
	r.setColumn(db, c.off, c.n)
	return nil
}

// keywordKind is the kind of the unquoted token s of the database (db) or
// user column that does not start with a slash in 16+: a keyword's, a
// +role's, or nameLiteral.
func keywordKind(s string, db bool) nameKind {
	switch s[0] {
	case 'a':
		if s == "all" {
			return nameAll
		}
	case 's':
		if db {
			switch s {
			case "sameuser":
				return nameSameUser
			case "samerole", "samegroup":
				return nameSameRole
			}
		}
	case 'r':
		if db && s == "replication" {
			return nameReplication
		}
	case '+':
		if !db {
			return nameRole
		}
	}
	return nameLiteral
}

// ruleRegex compiles the /regex token t, name i of r (database names
// first), into r's side record.
func (p *Parser) ruleRegex(tl *tokLine, r *Rule, t token, i int, a *nameArena) *Error {
	re, err := a.regex(p, t.s[1:])
	if err != nil {
		return &Error{Pos: tl.tokPos(t), Msg: `invalid regular expression "` + t.s[1:] + `": ` + err.Error(), Err: ErrRegex}
	}
	x := r.extra()
	for len(x.res) < i {
		x.res = append(x.res, nil)
	}
	x.res = append(x.res, re)
	return nil
}

// cidrBits parses the bits after the slash as PostgreSQL's
// pg_sockaddr_cidr_mask does, with C's strtol (leading white space, a sign,
// decimal digits, nothing after), and returns the prefix length.
func cidrBits(s string, v4 bool) (int, bool) {
	n, digits, full := cemu.StrtolFull(s)
	max := int64(128)
	if v4 {
		max = 32
	}
	if !digits || !full || n < 0 || n > max {
		return 0, false
	}
	return int(n), true
}

// numericHost is cemu.NumericHost, with ipv4CIDR's fast path for a plain
// dotted quad.
func numericHost(s string) (netip.Addr, bool) {
	if ip, _, hasBits, ok := ipv4CIDR(s); ok && !hasBits {
		return ip, true
	}
	return cemu.NumericHost(s)
}

// ipv4CIDR is the fast path of the address column for its common form: a
// dotted quad of four decimal parts of at most 255 without leading zeros,
// and optionally a slash and a prefix length of one to three decimal
// digits, at most 32. For such text, it gives what cemu.NumericHost and
// cidrBits give; ok is false for any other text, which the exact path
// reads.
func ipv4CIDR(s string) (ip netip.Addr, bits int, hasBits, ok bool) {
	var a [4]byte
	i := 0
	for k := range a {
		if k > 0 {
			if i >= len(s) || s[i] != '.' {
				return
			}
			i++
		}
		if i >= len(s) || s[i]-'0' > 9 {
			return
		}
		v := uint(s[i] - '0')
		i++
		// A leading 0 is a part of its own (or octal: the next byte is
		// then not a separator, and the exact path reads it).
		for n := 1; v != 0 && n < 3 && i < len(s) && s[i]-'0' <= 9; n++ {
			v = v*10 + uint(s[i]-'0')
			i++
		}
		if v > 255 {
			return
		}
		a[k] = byte(v)
	}
	if i < len(s) {
		if s[i] != '/' {
			return
		}
		i++
		start := i
		for i < len(s) && i-start < 4 && s[i]-'0' <= 9 {
			bits = bits*10 + int(s[i]-'0')
			i++
		}
		if n := i - start; n == 0 || n > 3 || i < len(s) || bits > 32 {
			return
		}
		hasBits = true
	}
	return netip.AddrFrom4(a), bits, hasBits, true
}
