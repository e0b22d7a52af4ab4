package audit

// This file is the lint checks that need the server's settings
// (postgresql.conf, or a live server): LintOptions.Settings.

import "github.com/pghba/pghba/hba"

// Lint checks that need LintOptions.Settings.
const (
	// CheckPasswordEncryption: a scram-sha-256 rule while the server has
	// password_encryption = md5. Passwords set from then on are stored as
	// MD5, and scram-sha-256 refuses MD5 secrets. Warning.
	CheckPasswordEncryption CheckID = "password-encryption"
	// CheckNoSSLCA: a cert rule, or a clientcert= option, while the server
	// has no ssl_ca_file. PostgreSQL 13–18 load the line, and every
	// connection it matches fails with "client certificates can only be
	// checked if a root certificate store is available". Warning.
	CheckNoSSLCA CheckID = "no-ssl-ca"
)

// Settings are server settings Lint uses, with where they were set.
type Settings struct {
	// SSL is the ssl setting and SSLFrom where it was set ("" for the
	// default, off). With Settings given, a hostssl rule's never-matches
	// finding says that ssl is off and where.
	SSL     bool
	SSLFrom string
	// SSLCAFile is ssl_ca_file ("" for none), SSLCAFileFrom where it was
	// set.
	SSLCAFile     string
	SSLCAFileFrom string
	// SSLCAFileUnknown says ssl_ca_file could not be read (a live server
	// shows it only to privileged roles): the no-ssl-ca check is skipped.
	SSLCAFileUnknown bool
	// PasswordEncryption is "md5" or "scram-sha-256"; "" means unknown,
	// and the password-encryption check is skipped.
	PasswordEncryption     string
	PasswordEncryptionFrom string
}

// from says where a setting came from: " (set at FROM)", or " (the
// default)".
func from(where string) string {
	if where == "" {
		return " (the default)"
	}
	return " (set at " + where + ")"
}

// neverMessage is the never-matches text of r: PostgreSQL's warning, and
// for a hostssl rule with the server's ssl known to be off, that fact.
func (l *linter) neverMessage(r *hba.Rule) string {
	s := l.opts.Settings
	if s == nil || s.SSL || r.Type() != hba.HostSSL {
		return r.Warning()
	}
	return r.Warning() + ": the server has ssl = off" + from(s.SSLFrom) +
		", so no connection can use this line; set ssl = on, or remove the line"
}

// settingsRule runs the settings checks on the rule at index i, which
// can match.
func (l *linter) settingsRule(i int) {
	s := l.opts.Settings
	if s == nil {
		return
	}
	r := l.f.Rules[i]
	if r.Method() == hba.ScramSHA256 && s.PasswordEncryption == "md5" {
		l.add(r, SeverityWarning, CheckPasswordEncryption,
			"scram-sha-256, but the server has password_encryption = md5"+from(s.PasswordEncryptionFrom)+
				": passwords set from now on are stored as MD5, which scram-sha-256 refuses; set password_encryption = scram-sha-256",
			nil, nil)
	}
	cert := r.Method() == hba.Cert
	if o := r.Options(); o != nil && o.ClientCert != hba.ClientCertOff {
		cert = true
	}
	if cert && s.SSLCAFile == "" && !s.SSLCAFileUnknown {
		what := "clientcert"
		if r.Method() == hba.Cert {
			what = "cert"
		}
		l.add(r, SeverityWarning, CheckNoSSLCA,
			what+", but the server has no ssl_ca_file"+from(s.SSLCAFileFrom)+
				": every connection this line matches fails with \"client certificates can only be checked if a root certificate store is available\"; set ssl_ca_file",
			nil, nil)
	}
}
