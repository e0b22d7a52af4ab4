package audit

// The checks of single rules: listen reach, and the settings that expose the
// server (trust, cleartext passwords, md5, wide ranges, ident, host names).

import (
	"math/bits"
	"net/netip"

	"github.com/pghba/pghba/hba"
)

// listenDead reports host rule i when no client its address admits can
// connect under opts.Listen.
func (l *linter) listenDead(i int) bool {
	r := l.f.Rules[i]
	lis := l.opts.Listen
	reach := lis.reach()
	sp := &l.spaces[i]
	if len(sp.boxes) == 0 {
		return false
	}
	live := false
	a := &sp.boxes[0].addr
	for _, p := range a.pfx {
		for _, q := range reach {
			if p.Overlaps(q) {
				live = true
			}
		}
	}
	for _, at := range a.atoms {
		for _, q := range reach {
			if at.kind == hba.AddrIP && maskOverlaps(&at.ip, q) || at.kind != hba.AddrIP && at.fam&famOf(q.Addr()) != 0 {
				live = true
			}
		}
	}
	if live {
		return false
	}
	var msg string
	if len(reach) == 0 {
		msg = lineWord(r.Pos()) + " can never match: " + lis.String() + " opens no TCP socket"
	} else {
		msg = lineWord(r.Pos()) + " can never match: with " + lis.String() + " only " + prefixWords(reach) +
			" clients can connect, and its address " + r.Address().Text + " admits none of them"
	}
	l.add(r, SeverityInfo, CheckUnreachableListen, msg, nil, nil)
	return true
}

func prefixWords(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		switch p {
		case all4:
			s = append(s, "IPv4")
		case all6:
			s = append(s, "IPv6")
		default:
			s = append(s, p.String())
		}
	}
	return joinAnd(s)
}

// remote returns the address set of rule i that clients other than
// loopback ones can use, under opts.Listen: IP prefixes outside loopback
// and the host-name/samenet atoms; samehost is the server itself.
func (l *linter) remote(i int) (pfx []netip.Prefix, atoms []addrAtom) {
	sp := &l.spaces[i]
	if len(sp.boxes) == 0 || l.f.Rules[i].Type() == hba.Local {
		return nil, nil
	}
	a := sp.boxes[0].addr
	fams := fam4 | fam6
	if lis := l.opts.Listen; lis != nil {
		fams = 0
		if lis.Remote4 {
			fams |= fam4
		}
		if lis.Remote6 {
			fams |= fam6
		}
	}
	for _, p := range subtractPrefix(subtractPrefix(a.pfx, loop4), loop6) {
		if famOf(p.Addr())&fams != 0 {
			pfx = append(pfx, p)
		}
	}
	for _, at := range a.atoms {
		if at.kind == hba.AddrSameHost || at.kind == hba.AddrHostName && at.host == "localhost" ||
			at.kind == hba.AddrIP && (prefixHoldsMask(loop4, &at.ip) || prefixHoldsMask(loop6, &at.ip)) {
			continue
		}
		if at.fam&fams != 0 {
			atoms = append(atoms, at)
		}
	}
	return pfx, atoms
}

// fixedBits returns the number of one bits of an IP rule's mask.
func fixedBits(a *hba.Address) int {
	n := 0
	for _, x := range a.Mask.AsSlice() {
		n += bits.OnesCount8(x)
	}
	return n
}

// wide reports whether the rule's address is all, or an IP range with fewer
// fixed bits than the family's threshold.
func wide(r *hba.Rule, b4, b6 int) bool {
	switch r.Address().Kind {
	case hba.AddrAll:
		return true
	case hba.AddrIP:
		if r.Address().IP.Is4() {
			a := r.Address()
			return fixedBits(&a) < b4
		}
		a := r.Address()
		return fixedBits(&a) < b6
	}
	return false
}

func (l *linter) exposure(i int) {
	r := l.f.Rules[i]
	if r.Type() == hba.Local {
		return
	}
	pfx, atoms := l.remote(i)
	if len(pfx) == 0 && len(atoms) == 0 {
		return // only loopback clients (or none) can use it
	}
	addr := r.Address().Text
	db, repl := namesOf(r.Names(hba.ColumnDatabase))
	user, _ := namesOf(r.Names(hba.ColumnUser))
	if r.Method() == hba.Trust {
		l.add(r, SeverityWarning, CheckTrustRemote, "trust lets clients from "+addr+" in without any password; only loopback or a Unix socket should be trusted", nil, nil)
	}
	if r.Method() == hba.Password && typeClasses(r.Type())&clsPlain != 0 {
		l.add(r, SeverityWarning, CheckPasswordCleartext, "password sends the password in clear text, and "+r.Type().String()+" admits unencrypted connections; use hostssl, or scram-sha-256", nil, nil)
	}
	if r.Method() != hba.Reject && db.all && user.all && wide(r, WideOpenBits4, WideOpenBits6) {
		l.add(r, SeverityWarning, CheckWideOpen, "every database and every user are open to "+addrWords(r)+" ("+r.Method().String()+")", nil, nil)
	}
	if r.Method() != hba.Reject && repl && wide(r, ReplicationBits4, ReplicationBits6) {
		l.add(r, SeverityWarning, CheckReplicationWide, "replication connections are open to "+addrWords(r)+"; list the standby servers' addresses instead", nil, nil)
	}
	if r.Method() == hba.Ident {
		l.add(r, SeverityWarning, CheckIdentTCP, "ident over TCP believes whatever the ident server on the client machine says; use it only for machines you control, or use peer over a Unix socket", nil, nil)
	}
	if r.Address().Kind == hba.AddrHostName {
		l.add(r, SeverityInfo, CheckHostName, "the address "+addr+" is a host name: access depends on reverse DNS of the client address (confirmed by a forward lookup)", nil, nil)
	}
}

func addrWords(r *hba.Rule) string {
	if r.Address().Kind == hba.AddrAll {
		return "every address (all)"
	}
	return r.Address().Text
}
