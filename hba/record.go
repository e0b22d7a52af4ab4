package hba

import (
	"net"
	"net/netip"
	"strings"
)

// parseRule is PostgreSQL's parse_hba_line: it checks the fields of one
// tokenized line in PostgreSQL's order and stops at the first problem. The
// rule is built in *r, which must be zero; r is returned on success.
func (p *Parser) parseRule(tl *tokLine, r *Rule, a *nameArena) (*Rule, *Error) {
	r.raw, r.line = tl.raw, int32(tl.pos.Line)
	fail := func(msg string, cat error) (*Rule, *Error) {
		return nil, &Error{Pos: tl.pos, Msg: msg, Err: cat}
	}
	hint := func(e *Error, h string) *Error { e.Hint = h; return e }
	fields := tl.fields

	// TYPE
	if len(fields[0]) > 1 {
		_, e := fail("multiple values specified for connection type", ErrMultiple)
		return nil, hint(e, "Specify exactly one connection type per line.")
	}
	r.typ = parseConnType(fields[0][0].s)
	if !r.typ.IsValid() {
		return fail(`invalid connection type "`+fields[0][0].s+`"`, ErrConnType)
	}
	switch r.typ {
	case HostSSL:
		if !p.Features.Has(FeatureSSL) {
			r.warn, r.never = warnSSLNotSupported, true
		} else if !p.SSL {
			r.warn, r.never = warnSSLDisabled, true
		}
	case HostGSSEnc:
		if !p.Features.Has(FeatureGSSAPI) {
			r.warn, r.never = warnGSSNotSupported, true
		}
	}
	fields = fields[1:]

	// DATABASE
	if len(fields) == 0 {
		return fail("end-of-line before database specification", ErrMissingField)
	}
	// The database and user columns share one slice of names, from an
	// arena.
	nd, nu := len(fields[0]), 0
	if len(fields) > 1 {
		nu = len(fields[1])
	}
	names := a.take(nd + nu)
	var e *Error
	if names, e = p.compileNames(tl, r, fields[0], true, names); e != nil {
		return nil, e
	}
	r.names, r.ndb = names, int32(nd)
	fields = fields[1:]

	// USER
	if len(fields) == 0 {
		return fail("end-of-line before role specification", ErrMissingField)
	}
	if names, e = p.compileNames(tl, r, fields[0], false, names); e != nil {
		return nil, e
	}
	r.names = names[:len(names):len(names)]
	fields = fields[1:]

	// ADDRESS
	if r.typ != Local {
		if len(fields) == 0 {
			return fail("end-of-line before IP address specification", ErrMissingField)
		}
		if len(fields[0]) > 1 {
			_, e := fail("multiple values specified for host address", ErrMultiple)
			return nil, hint(e, "Specify one address range per line.")
		}
		t := fields[0][0]
		fields = fields[1:]
		r.atext = r.spanOf(t)
		switch {
		case !t.quoted && t.s == "all":
			r.akind = AddrAll
		case !t.quoted && t.s == "samehost":
			r.akind = AddrSameHost
		case !t.quoted && t.s == "samenet":
			r.akind = AddrSameNet
		default:
			str, bits, hasBits := strings.Cut(t.s, "/")
			ip, ok := parseNumericHost(str)
			if !ok {
				if hasBits {
					return fail(`specifying both host name and CIDR mask is invalid: "`+t.s+`"`, ErrBadAddress)
				}
				r.akind = AddrHostName
				break
			}
			r.akind = AddrIP
			r.ip = ip
			if hasBits {
				n, ok := cidrBits(bits, ip.Is4())
				if !ok {
					return fail(`invalid CIDR mask in address "`+t.s+`"`, ErrBadAddress)
				}
				r.bits = uint8(n)
				break
			}
			if len(fields) == 0 {
				_, e := fail("end-of-line before netmask specification", ErrMissingField)
				return nil, hint(e, "Specify an address range in CIDR notation, or provide a separate netmask.")
			}
			if len(fields[0]) > 1 {
				return fail("multiple values specified for netmask", ErrMultiple)
			}
			mt := fields[0][0]
			fields = fields[1:]
			m, ok := parseNumericHost(mt.s)
			if !ok {
				return fail(`invalid IP mask "`+mt.s+`": Name or service not known`, ErrBadAddress)
			}
			if m.Is4() != ip.Is4() {
				return fail("IP address and mask do not match", ErrBadAddress)
			}
			r.setMask(m.WithZone(""))
		}
	}

	// METHOD
	if len(fields) == 0 {
		return fail("end-of-line before authentication method", ErrMissingField)
	}
	if len(fields[0]) > 1 {
		_, e := fail("multiple values specified for authentication type", ErrMultiple)
		return nil, hint(e, "Specify exactly one authentication type per line.")
	}
	method := fields[0][0].s
	var opts []string
	for _, f := range fields[1:] {
		for _, t := range f {
			opts = append(opts, t.s)
		}
	}
	if e := p.parseAuth(r, method, opts); e != nil {
		e.Pos = tl.pos
		if e.LogOnly && r.warn != warnNone {
			// The view shows the earlier warning text on such a line.
			e.Msg, e.Log, e.LogOnly = r.Warning(), e.LogText(), false
		}
		return nil, e
	}
	return r, nil
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

// extra returns the rule's side record, making it when needed.
func (r *Rule) extra() *ruleExt {
	if r.ext == nil {
		r.ext = new(ruleExt)
	}
	return r.ext
}

// nameArena hands out the name slices of rules from shared chunks, so that
// a large file does not cost an allocation per rule. A nil arena allocates
// each time.
type nameArena struct {
	names []name
}

// take returns an empty slice with room for n names.
func (a *nameArena) take(n int) []name {
	if a == nil || n > 64 {
		return make([]name, 0, n)
	}
	if len(a.names)+n > cap(a.names) {
		a.names = make([]name, 0, 4096)
	}
	m := a.names[len(a.names) : len(a.names) : len(a.names)+n]
	a.names = a.names[:len(a.names)+n]
	return m
}

// compileNames classifies the tokens of a database or user column,
// appending to out; the regular expressions go to r's side record.
func (p *Parser) compileNames(tl *tokLine, r *Rule, toks []token, db bool, out []name) ([]name, *Error) {
	regexOK := p.version() >= 16
	for _, t := range toks {
		m := name{sp: r.spanOf(t), kind: nameLiteral, quoted: t.quoted}
		switch {
		case regexOK && strings.HasPrefix(t.s, "/"):
			re, err := p.compileRegex(t.s[1:])
			if err != nil {
				return nil, &Error{Pos: tl.pos, Msg: `invalid regular expression "` + t.s[1:] + `": ` + err.Error(), Err: ErrRegex}
			}
			m.kind = nameRegex
			x := r.extra()
			for len(x.res) < len(out) {
				x.res = append(x.res, nil)
			}
			x.res = append(x.res, re)
		case t.quoted:
		case t.s == "all":
			m.kind = nameAll
		case db && t.s == "sameuser":
			m.kind = nameSameUser
		case db && (t.s == "samerole" || t.s == "samegroup"):
			m.kind = nameSameRole
		case db && t.s == "replication":
			m.kind = nameReplication
		case !db && strings.HasPrefix(t.s, "+"):
			m.kind = nameRole
		}
		out = append(out, m)
	}
	return out, nil
}

// cidrBits parses the bits after the slash as C's strtol does (leading
// white space, a sign, decimal digits, nothing after) and returns the prefix
// length.
func cidrBits(s string, v4 bool) (int, bool) {
	if s == "" {
		return 0, false
	}
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\v' || s[i] == '\f' || s[i] == '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	n := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if n < 1000 {
			n = n*10 + int(s[i]-'0')
		}
		i++
	}
	if i == start || i != len(s) {
		return 0, false
	}
	if neg && n != 0 {
		return 0, false
	}
	max := 128
	if v4 {
		max = 32
	}
	if n > max {
		return 0, false
	}
	return n, true
}

// parseNumericHost is getaddrinfo with AI_NUMERICHOST on glibc: IPv4 in
// inet_aton's forms (the whole string), or IPv6 with an optional scope that
// glibc accepts. The scope is dropped, as matching ignores it.
func parseNumericHost(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if strings.IndexByte(s, ':') >= 0 {
		addr, zone, hasZone := strings.Cut(s, "%")
		a, err := netip.ParseAddr(addr)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false
		}
		if hasZone && !scopeOK(a, zone) {
			return netip.Addr{}, false
		}
		return a, true
	}
	return inetAton(s)
}

// scopeOK reports whether glibc accepts the scope id: an interface name for
// link-local addresses, else a decimal number that fits 32 bits.
func scopeOK(a netip.Addr, zone string) bool {
	if zone == "" {
		return false
	}
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		if _, err := net.InterfaceByName(zone); err == nil {
			return true
		}
	}
	var n uint64
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + uint64(c-'0')
		if n > 0xffffffff {
			return false
		}
	}
	return true
}

// inetAton parses IPv4 text as glibc's inet_aton (exact form): one to four
// parts, each decimal, octal (leading 0) or hex (0x), the last part filling
// the remaining bytes.
func inetAton(s string) (netip.Addr, bool) {
	var parts [4]uint64
	np := 0
	i := 0
	for {
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return netip.Addr{}, false
		}
		var val uint64
		base := uint64(10)
		digit := false
		if s[i] == '0' {
			i++
			if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
				base = 16
				i++
			} else {
				base = 8
				digit = true
			}
		}
		for i < len(s) {
			c := s[i]
			var d uint64
			switch {
			case c >= '0' && c <= '9':
				if base == 8 && c >= '8' {
					return netip.Addr{}, false
				}
				d = uint64(c - '0')
			case base == 16 && c >= 'a' && c <= 'f':
				d = uint64(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				d = uint64(c-'A') + 10
			default:
				goto endPart
			}
			val = val*base + d
			if val > 0xffffffff {
				return netip.Addr{}, false
			}
			digit = true
			i++
		}
	endPart:
		if !digit {
			return netip.Addr{}, false
		}
		if i < len(s) && s[i] == '.' {
			if np > 2 || val > 0xff {
				return netip.Addr{}, false
			}
			parts[np] = val
			np++
			i++
			continue
		}
		if i != len(s) {
			return netip.Addr{}, false
		}
		var v uint64
		switch np {
		case 0:
			v = val
		case 1:
			if val > 0xffffff {
				return netip.Addr{}, false
			}
			v = parts[0]<<24 | val
		case 2:
			if val > 0xffff {
				return netip.Addr{}, false
			}
			v = parts[0]<<24 | parts[1]<<16 | val
		case 3:
			if val > 0xff {
				return netip.Addr{}, false
			}
			v = parts[0]<<24 | parts[1]<<16 | parts[2]<<8 | val
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
	}
}
