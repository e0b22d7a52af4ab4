package audit

// Columns: where on its line a finding about a rule points (the token at
// fault, or the whole rule).

import (
	"strings"

	"github.com/pghba/pghba/hba"
)

// findingPos is the position of a finding of check about rule r: the
// rule's line with Column and EndColumn on the token at fault, as listed
// in the Check* constants' order:
//
//	never-matches                     the TYPE column
//	duplicate, unreachable,
//	incomplete                        the whole rule, TYPE to its last option
//	unreachable-listen, trust-remote,
//	wide-open, replication-wide,
//	host-name                         the ADDRESS column (with its netmask)
//	password-cleartext, md5,
//	ident-tcp, password-encryption    the METHOD column
//	missing-map                       the map= option
//	no-ssl-ca                         the clientcert= option, else METHOD
//
// When the place cannot be found (a rule built without its text), the
// line without a column is returned.
func findingPos(r *hba.Rule, check CheckID) hba.Position {
	p := r.Pos()
	var c, e int
	switch check {
	case CheckNeverMatches:
		q := r.ColumnPos(hba.ColumnType)
		c, e = q.Column, q.EndColumn
	case CheckUnreachableListen, CheckTrustRemote, CheckWideOpen, CheckReplicationWide, CheckHostName:
		q := r.ColumnPos(hba.ColumnAddress)
		c, e = q.Column, q.EndColumn
	case CheckPasswordCleartext, CheckMD5, CheckIdentTCP, CheckPasswordEncryption:
		if fs := tailFields(r); len(fs) > 0 {
			c, e = fs[0][0], fs[0][1]
		}
	case CheckMissingMap, CheckNoSSLCA:
		fs := tailFields(r)
		name := "map="
		if check == CheckNoSSLCA {
			name = "clientcert="
		}
		for k, f := range fs {
			if k > 0 && strings.HasPrefix(strings.TrimLeft(r.Raw()[f[0]-1:f[1]-1], `"`), name) {
				c, e = f[0], f[1]
				break
			}
		}
		if c == 0 && len(fs) > 0 && check == CheckNoSSLCA {
			c, e = fs[0][0], fs[0][1] // method cert
		}
	default: // duplicate, unreachable, incomplete: the whole rule
		t := r.ColumnPos(hba.ColumnType)
		c, e = t.Column, t.EndColumn
		if fs := tailFields(r); len(fs) > 0 {
			e = fs[len(fs)-1][1]
		}
	}
	if c > 0 && e > c {
		p.Column, p.EndColumn = c, e
	}
	return p
}

// tailFields returns the [Column, EndColumn) of the fields of r's logical
// line after its ADDRESS column (USER for a local rule): the method, then
// each option. It reads the line as PostgreSQL's tokenizer does for
// these fields: white space separates fields, double quotes hold white
// space, a comma outside quotes joins the next token to the field, and a
// '#' outside quotes starts the comment.
func tailFields(r *hba.Rule) [][2]int {
	before := r.ColumnPos(hba.ColumnAddress)
	if before.Column == 0 {
		before = r.ColumnPos(hba.ColumnUser)
	}
	if before.EndColumn == 0 {
		return nil
	}
	return scanFields(r.Raw(), before.EndColumn-1)
}

// scanFields returns the fields of s from byte offset i on, as 1-based
// [Column, EndColumn) spans.
func scanFields(s string, i int) [][2]int {
	var out [][2]int
	space := func(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\f' || b == '\v' }
	for {
		for i < len(s) && space(s[i]) {
			i++
		}
		if i >= len(s) || s[i] == '#' {
			return out
		}
		start := i
		for {
			quoted, comma := false, false
			for i < len(s) && (quoted || !space(s[i]) && s[i] != '#') {
				if s[i] == '"' {
					quoted = !quoted
				}
				comma = !quoted && s[i] == ','
				i++
			}
			if !comma {
				break
			}
			j := i
			for j < len(s) && space(s[j]) {
				j++
			}
			if j >= len(s) || s[j] == '#' {
				break
			}
			i = j
		}
		out = append(out, [2]int{start + 1, i + 1})
	}
}
