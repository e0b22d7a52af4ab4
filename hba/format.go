package hba

// Formatting: a Rule back to one pg_hba.conf line in canonical form.

import (
	"io"
	"strings"
)

// String returns the rule as one pg_hba.conf line in a canonical form:
// @files expanded, one space between columns, tokens quoted where the
// server would otherwise read them differently. Loading the line gives the
// same rule (at another position).
func (r *Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Type().String())
	writeList := func(toks []Token) {
		b.WriteByte(' ')
		for i, t := range toks {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(t.String())
		}
	}
	writeList(r.Databases())
	writeList(r.Users())
	if r.Type() != Local {
		b.WriteByte(' ')
		b.WriteString(r.Address().String())
	}
	b.WriteByte(' ')
	b.WriteString(r.Method().String())
	for _, o := range r.Options().Raw {
		b.WriteByte(' ')
		b.WriteString(Token{Value: o.Name + "=" + o.Value}.String())
	}
	s := b.String()
	if strings.HasSuffix(s, `\`) {
		// A final backslash would join the next line (14+).
		s += " "
	}
	return s
}

// String returns the address column as it can be written back: the
// keyword, the host name, "ip/bits" for contiguous masks or "ip mask".
func (a Address) String() string {
	switch a.Kind {
	case AddrAll:
		return "all"
	case AddrSameHost:
		return "samehost"
	case AddrSameNet:
		return "samenet"
	case AddrHostName:
		q := a.Host == "all" || a.Host == "samehost" || a.Host == "samenet"
		return Token{Value: a.Host, Quoted: q}.String()
	case AddrIP:
		ip := a.IP.WithZone("")
		if bits, ok := maskBits(a.Mask); ok {
			return ip.String() + "/" + itoa(bits)
		}
		return ip.String() + " " + a.Mask.String()
	}
	return ""
}

// Format writes the rules in canonical form (see Rule.String), one per
// line.
func Format(w io.Writer, rules []*Rule) error {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
