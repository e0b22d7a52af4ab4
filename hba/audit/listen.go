package audit

// Listen: a listen_addresses value, which clients can reach the server at all.

import (
	"net/netip"
	"strings"
)

// Listen is a listen_addresses value: which clients can open a TCP
// connection to the server at all.
type Listen struct {
	// Text is the value as given.
	Text string
	// Remote4 and Remote6: clients of the family from any address may
	// connect (the server listens on a non-loopback address, a wildcard or
	// a host name of that family).
	Remote4, Remote6 bool
	// Loop4 and Loop6: loopback clients of the family may connect.
	Loop4, Loop6 bool
}

// ParseListen reads a listen_addresses value: a comma-separated list of
// "*" (every address of both families), "0.0.0.0" (every IPv4 address),
// "::" (every IPv6 address), "localhost" (127.0.0.1 and ::1), IP addresses
// and host names. An empty value means no TCP at all. A loopback IP admits
// loopback clients of its family; any other IP admits clients of its family
// from anywhere (and loopback ones); any other host name is taken to admit
// clients of both families from anywhere.
func ParseListen(s string) (*Listen, error) {
	l := &Listen{Text: s}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "*":
			l.Remote4, l.Remote6 = true, true
		case strings.EqualFold(item, "localhost"):
			l.Loop4, l.Loop6 = true, true
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				if strings.ContainsAny(item, " \t/") {
					return nil, &listenError{item}
				}
				l.Remote4, l.Remote6 = true, true
				continue
			}
			switch {
			case a.Is4() && a.IsLoopback():
				l.Loop4 = true
			case a.Is4():
				l.Remote4 = true
			case a.IsLoopback():
				l.Loop6 = true
			default:
				l.Remote6 = true
			}
		}
	}
	l.Loop4 = l.Loop4 || l.Remote4
	l.Loop6 = l.Loop6 || l.Remote6
	return l, nil
}

type listenError struct{ item string }

func (e *listenError) Error() string {
	return "listen address \"" + e.item + "\" is neither an IP address nor a host name"
}

var (
	loop4 = netip.MustParsePrefix("127.0.0.0/8")
	loop6 = netip.MustParsePrefix("::1/128")
)

// reach returns the client addresses that can connect: prefixes per family.
func (l *Listen) reach() []netip.Prefix {
	var out []netip.Prefix
	switch {
	case l.Remote4:
		out = append(out, all4)
	case l.Loop4:
		out = append(out, loop4)
	}
	switch {
	case l.Remote6:
		out = append(out, all6)
	case l.Loop6:
		out = append(out, loop6)
	}
	return out
}

// String describes the listen setting for messages.
func (l *Listen) String() string { return "listen_addresses '" + l.Text + "'" }
