package hba

// Parser: the server a load reads for (major and minor version, ssl, build
// features, settings) and the outside sources its Ruleset will match with.
// Every load starts from a Parser.

import (
	"io/fs"
	"strings"
)

// Features is the set of optional features a PostgreSQL build was compiled
// with. Methods and connection types that need a missing feature are refused
// ("not supported by this build") or can never match, as in PostgreSQL.
type Features uint16

// Build features.
const (
	FeatureSSL    Features = 1 << iota // OpenSSL: hostssl, cert
	FeatureGSSAPI                      // gss, hostgssenc
	FeatureLDAP                        // ldap (OpenLDAP)
	FeaturePAM                         // pam
	FeatureBSD                         // bsd (OpenBSD only)
	FeatureSSPI                        // sspi (Windows only)

	// NoFeatures stands for a build with none of the optional features. It
	// exists because the zero Features value means DefaultFeatures.
	NoFeatures Features = 1 << 15
)

// DefaultFeatures is a typical Linux build: SSL, GSSAPI, LDAP and PAM, but
// neither BSD authentication nor SSPI.
const DefaultFeatures = FeatureSSL | FeatureGSSAPI | FeatureLDAP | FeaturePAM

// AllFeatures is every optional feature.
const AllFeatures = FeatureSSL | FeatureGSSAPI | FeatureLDAP | FeaturePAM | FeatureBSD | FeatureSSPI

var featureNames = []struct {
	f    Features
	name string
}{{FeatureSSL, "ssl"}, {FeatureGSSAPI, "gssapi"}, {FeatureLDAP, "ldap"}, {FeaturePAM, "pam"}, {FeatureBSD, "bsd"}, {FeatureSSPI, "sspi"}}

// Has reports whether every feature in g is in f. The zero value of f means
// DefaultFeatures.
func (f Features) Has(g Features) bool {
	return f.effective()&g == g
}

func (f Features) effective() Features {
	if f == 0 {
		return DefaultFeatures
	}
	return f &^ NoFeatures
}

// String lists the features, comma-separated, in a fixed order.
func (f Features) String() string {
	var names []string
	for _, n := range featureNames {
		if f.Has(n.f) {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}

// ParseMissing returns AllFeatures less the comma-separated features in s
// (ssl, gssapi, ldap, pam, bsd, sspi), the form of pghba's --missing flag.
func ParseMissing(s string) (Features, error) {
	f := AllFeatures
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, n := range featureNames {
			if n.name == name || (name == "gss" && n.f == FeatureGSSAPI) {
				f &^= n.f
				found = true
			}
		}
		if !found {
			return 0, &unknownFeatureError{name}
		}
	}
	if f == 0 {
		f = NoFeatures
	}
	return f, nil
}

type unknownFeatureError struct{ name string }

func (e *unknownFeatureError) Error() string {
	return "unknown build feature " + quote(e.name) + " (want ssl, gssapi, ldap, pam, bsd, sspi)"
}

// Supported major versions.
const (
	MinVersion     = 13
	MaxVersion     = 18
	DefaultVersion = 18
)

// Parser loads pg_hba.conf files. The zero value loads as a default
// PostgreSQL 18 server on Linux would: ssl off, DefaultFeatures, files read
// from the operating system.
//
// A Parser is not modified by loading and may be shared by goroutines.
type Parser struct {
	// FS, if non-nil, is where files are read from. Paths are made absolute
	// and cleaned as PostgreSQL does, then opened in FS without the leading
	// slash: the main file "pg_hba.conf" is "/pg_hba.conf", opened as
	// "pg_hba.conf". Nil means the operating system's files.
	FS fs.FS

	// Version is the PostgreSQL major version whose dialect is read, 13 to 18.
	// Zero means DefaultVersion.
	Version int

	// Minor is the minor release (the 4 of 15.4). It matters only for
	// behaviour PostgreSQL changed within a major version: the token length
	// limit (13.12, 14.9, 15.4), the line limit (13.12), the cert clientcert
	// default (13.6) and the hostgssenc method restriction (13.1). Zero means
	// the newest minor release.
	Minor int

	// SSL is the server's ssl setting. PostgreSQL's default is off, and a
	// hostssl rule then loads with a warning and never matches.
	SSL bool

	// Features is the build's feature set; zero means DefaultFeatures.
	Features Features

	// DBUserNamespace is the db_user_namespace setting (13–16 only).
	DBUserNamespace bool

	// OAuthValidatorLibraries is the oauth_validator_libraries setting (18).
	OAuthValidatorLibraries string

	// Env holds the outside-world sources the loaded Ruleset matches with.
	Env Env

	// Limits bound the work of one load; the zero value is DefaultLimits.
	// See [Limits].
	Limits Limits

	// RADIUSResolver, if non-nil, resolves radiusservers names at load time,
	// as PostgreSQL does; a name it cannot resolve fails the line. Numeric
	// addresses, in the forms glibc's getaddrinfo reads itself (IPv4 as
	// inet_aton reads it, such as 127.1 or 0x7f000001, but not 0x or 1.0x;
	// IPv6 with a valid scope), are never looked up, and an IPv6 address
	// with a scope glibc rejects fails as "Name or service not known". Nil
	// skips the lookups and accepts every name (a documented divergence:
	// loading then never touches DNS).
	//
	// A lookup is passed the load's context: the one given to
	// ParseFileContext or LoadContext, context.Background() for the other
	// loading functions (ParseFile, ParseBytes, Load, LoadBytes), which
	// then wait for each lookup as long as the resolver takes. A lookup that
	// fails because that context ended stops the load with the context's
	// error (see [Parser.ParseFileContext]) instead of failing the line.
	RADIUSResolver Resolver
}

func (p *Parser) version() int {
	if p == nil || p.Version == 0 {
		return DefaultVersion
	}
	return p.Version
}

// atLeast reports whether the dialect is major.minor or later.
func (p *Parser) atLeast(major, minor int) bool {
	v := p.version()
	if v != major {
		return v > major
	}
	return p.Minor == 0 || p.Minor >= minor
}

func quote(s string) string { return `"` + s + `"` }
