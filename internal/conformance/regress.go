package conformance

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/testkit"
)

// Regression is a case kept with the answers a real server gave, replayed
// against package hba alone. Its text form is a txtar archive whose comment
// holds "key: value" lines (lines starting with # are free text) and whose
// files are the case's original files.
type Regression struct {
	Note     string // free text (the # lines)
	Version  int
	Minor    int
	Features hba.Features
	Hosts    bool   // host names resolve through HostsFile
	NoSSL    bool   // the server ran with ssl = off
	DBUserNS bool   // the server ran with db_user_namespace = on
	OAuth    string // the server's oauth_validator_libraries
	Seed     uint64
	Index    int
	Files    []File // original variant only
	Conns    []Conn
	Want     Outcome
}

// Parser returns the hba dialect the regression was recorded with.
func (r *Regression) Parser(superuser string) *hba.Parser {
	p := NewParser(r.Version, r.Minor, r.Features, r.Hosts, superuser)
	p.SSL = !r.NoSSL
	p.DBUserNamespace = r.DBUserNS
	p.OAuthValidatorLibraries = r.OAuth
	return p
}

// NewParser returns the Parser matching a test cluster: ssl on, the
// build's features, the fixture's roles, and with hosts the HostsFile
// table for host names and RADIUS servers.
func NewParser(version, minor int, f hba.Features, hosts bool, superuser string) *hba.Parser {
	p := &hba.Parser{Version: version, Minor: minor, SSL: true, Features: f}
	p.Env.Roles = FixtureGraph(superuser)
	if hosts {
		t := HostTable(HostsFile)
		p.Env.Resolver = t
		p.RADIUSResolver = t
	}
	return p
}

// Marshal renders the regression as a txtar archive.
func (r *Regression) Marshal() []byte {
	var c bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(r.Note, "\n"), "\n") {
		if l != "" {
			fmt.Fprintf(&c, "# %s\n", l)
		}
	}
	fmt.Fprintf(&c, "version: %d\nminor: %d\nfeatures: %s\nhosts: %v\nseed: %d\nindex: %d\nloaded: %v\n",
		r.Version, r.Minor, r.Features, r.Hosts, r.Seed, r.Index, r.Want.Loaded)
	if r.NoSSL {
		c.WriteString("ssl: off\n")
	}
	if r.DBUserNS {
		c.WriteString("db_user_namespace: on\n")
	}
	if r.OAuth != "" {
		fmt.Fprintf(&c, "oauth_validator_libraries: %s\n", r.OAuth)
	}
	for _, s := range r.Want.Rows {
		fmt.Fprintf(&c, "row: %s\n", s)
	}
	for _, s := range r.Want.Errors {
		fmt.Fprintf(&c, "error: %s\n", s)
	}
	for i, cn := range r.Conns {
		d := "-"
		if i < len(r.Want.Decisions) {
			d = r.Want.Decisions[i]
		}
		fmt.Fprintf(&c, "conn: %s => %s\n", cn, d)
	}
	a := &testkit.Archive{Comment: c.Bytes()}
	for _, f := range r.Files {
		if f.Dir {
			a.Files = append(a.Files, testkit.File{Name: f.Path + "/"})
			continue
		}
		a.Files = append(a.Files, testkit.File{Name: f.Path, Data: []byte(f.Data)})
	}
	return a.Format()
}

// ParseRegression reads the text form.
func ParseRegression(data []byte) (*Regression, error) {
	a, err := testkit.Parse(data)
	if err != nil {
		return nil, err
	}
	r := &Regression{}
	for _, line := range strings.Split(string(a.Comment), "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			r.Note += strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ") + "\n"
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("regression: bad line %q", line)
		}
		switch k {
		case "version":
			r.Version, err = strconv.Atoi(v)
		case "minor":
			r.Minor, err = strconv.Atoi(v)
		case "features":
			r.Features, err = parseFeatures(v)
		case "hosts":
			r.Hosts, err = strconv.ParseBool(v)
		case "seed":
			r.Seed, err = strconv.ParseUint(v, 10, 64)
		case "index":
			r.Index, err = strconv.Atoi(v)
		case "ssl":
			r.NoSSL = v == "off"
		case "db_user_namespace":
			r.DBUserNS = v == "on"
		case "oauth_validator_libraries":
			r.OAuth = v
		case "loaded":
			r.Want.Loaded, err = strconv.ParseBool(v)
		case "row":
			r.Want.Rows = append(r.Want.Rows, v)
		case "error":
			r.Want.Errors = append(r.Want.Errors, v)
		case "conn":
			cs, d, ok := strings.Cut(v, " => ")
			if !ok {
				return nil, fmt.Errorf("regression: bad conn line %q", line)
			}
			var c Conn
			if c, err = ParseConn(cs); err == nil {
				r.Conns = append(r.Conns, c)
				if d != "-" {
					r.Want.Decisions = append(r.Want.Decisions, d)
				}
			}
		default:
			err = fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("regression: %q: %v", line, err)
		}
	}
	for _, f := range a.Files {
		if strings.HasSuffix(f.Name, "/") {
			r.Files = append(r.Files, File{Path: strings.TrimSuffix(f.Name, "/"), Dir: true})
			continue
		}
		r.Files = append(r.Files, File{Path: f.Name, Data: string(f.Data), PW: string(f.Data)})
	}
	return r, nil
}

func parseFeatures(s string) (hba.Features, error) {
	var f hba.Features
	for _, n := range strings.Split(s, ",") {
		switch strings.TrimSpace(n) {
		case "":
		case "ssl":
			f |= hba.FeatureSSL
		case "gssapi":
			f |= hba.FeatureGSSAPI
		case "ldap":
			f |= hba.FeatureLDAP
		case "pam":
			f |= hba.FeaturePAM
		case "bsd":
			f |= hba.FeatureBSD
		case "sspi":
			f |= hba.FeatureSSPI
		default:
			return 0, fmt.Errorf("unknown feature %q", n)
		}
	}
	if f == 0 {
		f = hba.NoFeatures
	}
	return f, nil
}
