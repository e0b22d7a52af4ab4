package hba

// The pg_hba_file_rules view: ViewRow and File.ViewRows, and the
// column names of both views.

import (
	"net/netip"
	"strconv"
	"strings"
)

// ViewRow is one row of PostgreSQL's pg_hba_file_rules view. The zero value
// of each nullable column stands for SQL NULL: no column the server fills
// can hold that value. (A quoted empty address token, "", is the one
// exception: the server shows an empty string and this row shows "" with
// HasAddress set.)
//
// PostgreSQL 13–15 have no RuleNumber and FileName columns; see
// ViewColumns.
type ViewRow struct {
	// RuleNumber (16+) counts the rows without an error text, from 1; 0 is
	// NULL, on rows with an error or a warning text.
	RuleNumber int
	// FileName is the file the line is in (16+), LineNumber the first
	// physical line of the logical line in that file.
	FileName   string
	LineNumber int
	// Type, Database, UserName, Address, Netmask, AuthMethod and Options
	// are the parsed rule; all NULL when the line failed.
	Type       string   // "" is NULL
	Database   []string // nil is NULL
	UserName   []string // nil is NULL
	Address    string   // NULL unless HasAddress
	HasAddress bool
	Netmask    string   // "" is NULL
	AuthMethod string   // "" is NULL
	Options    []string // nil is NULL
	Error      string   // "" is NULL
	// Line is the line the row is made from.
	Line *Line
}

// ViewColumns returns the column names of pg_hba_file_rules for a major
// version, in order.
func ViewColumns(version int) []string {
	cols := []string{"line_number", "type", "database", "user_name", "address", "netmask", "auth_method", "options", "error"}
	if version >= 16 {
		cols = append([]string{"rule_number", "file_name"}, cols...)
	}
	return cols
}

// ViewRows returns the rows PostgreSQL's pg_hba_file_rules view shows for
// the file, one per line, in order (SEMANTICS §7.1):
//   - a rule: its columns, Error NULL, the next RuleNumber;
//   - a rule with a warning (hostssl with ssl off, …): its columns, the
//     warning as Error, RuleNumber NULL;
//   - a line with an error: only FileName, LineNumber and Error;
//   - a line whose failure the server only logs (an invalid clientcert
//     value, RADIUS list problems): every data column and Error NULL, yet
//     the next RuleNumber, as the server shows it.
func (f *File) ViewRows() []ViewRow {
	rows := make([]ViewRow, 0, len(f.Lines))
	n := 0
	for _, l := range f.Lines {
		row := ViewRow{FileName: l.Pos.Filename, LineNumber: l.Pos.Line, Line: l}
		switch {
		case l.Err != nil:
			row.Error = l.Err.viewText()
		case l.Rule != nil:
			row.fill(l.Rule)
			row.Error = l.Rule.Warning()
		}
		if row.Error == "" {
			n++
			row.RuleNumber = n
		}
		rows = append(rows, row)
	}
	return rows
}

func (row *ViewRow) fill(r *Rule) {
	row.Type = r.Type().String()
	row.Database = tokenValues(r.Databases())
	row.UserName = tokenValues(r.Users())
	a := r.Address()
	switch a.Kind {
	case AddrNone:
	case AddrIP:
		row.Address, row.HasAddress = formatIP(a.IP), true
		row.Netmask = formatIP(a.Mask)
	default:
		row.Address, row.HasAddress = a.Text, true
	}
	row.AuthMethod = r.Method().String()
	if v := r.ViewOptions(); v != nil {
		row.Options = append([]string(nil), v...)
	}
}

func tokenValues(ts []Token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Value
	}
	return out
}

// formatIP prints an address as the server's numeric getnameinfo does with
// glibc: no zone, and IPv6 in inet_ntop's form, which differs from
// netip's in one case (::1.2.3.4 for IPv4-compatible addresses).
func formatIP(ip netip.Addr) string {
	ip = ip.WithZone("")
	if ip.Is4() || !ip.IsValid() {
		return ip.String()
	}
	b := ip.As16()
	var w [8]uint16
	for i := range w {
		w[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	// The longest run of zero words (the first of equal runs), if 2 or more.
	best, bestLen, cur, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if cur < 0 {
				cur, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if cur >= 0 {
			if best < 0 || curLen > bestLen {
				best, bestLen = cur, curLen
			}
			cur = -1
		}
	}
	if cur >= 0 && (best < 0 || curLen > bestLen) {
		best, bestLen = cur, curLen
	}
	if best >= 0 && bestLen < 2 {
		best = -1
	}
	var s strings.Builder
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				s.WriteByte(':')
			}
			continue
		}
		if i != 0 {
			s.WriteByte(':')
		}
		if i == 6 && best == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			s.WriteString(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}).String())
			return s.String()
		}
		s.WriteString(strconv.FormatUint(uint64(w[i]), 16))
	}
	if best >= 0 && best+bestLen == 8 {
		s.WriteByte(':')
	}
	return s.String()
}

// IdentViewColumns returns the column names of pg_ident_file_mappings for a
// major version (15 and later; the view does not exist before).
func IdentViewColumns(version int) []string {
	cols := []string{"line_number", "map_name", "sys_name", "pg_username", "error"}
	if version >= 16 {
		cols = append([]string{"map_number", "file_name"}, cols...)
	}
	return cols
}
