// Package live reads a running PostgreSQL server's facts for pghba --dsn:
// its version, the settings pghba uses, the roles with their memberships
// and, where the session may, the rules it reads. It is the only package
// of pghba that uses a database driver (github.com/jackc/pgx/v5), and it
// lives in the command's own module, so the library never depends on it.
//
// Privileges: server_version_num, ssl, password_encryption,
// listen_addresses, db_user_namespace, krb_caseins_users, the roles
// (pg_roles) and memberships (pg_auth_members) are readable by any role.
// hba_file, ident_file, ssl_ca_file and oauth_validator_libraries need
// superuser or pg_read_all_settings; pg_hba_file_rules and
// pg_ident_file_mappings need superuser (or an explicit GRANT). What the
// session may not read is listed in Facts.Unreadable, never guessed.
package live

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultConnectTimeout is used when the DSN sets no connect_timeout.
const DefaultConnectTimeout = 10 * time.Second

// Settings are the settings read, by name; those pghba uses.
var Settings = []string{"ssl", "ssl_ca_file", "listen_addresses", "password_encryption",
	"db_user_namespace", "krb_caseins_users", "oauth_validator_libraries", "hba_file", "ident_file"}

// Facts are what a server told.
type Facts struct {
	Host       string // the server connected to, for messages
	VersionNum int    // server_version_num, e.g. 180003
	// Settings holds each of Settings the session could read.
	Settings map[string]string
	// Unreadable names what could not be read and why (privilege, or the
	// setting does not exist in the version).
	Unreadable []string
	// Roles maps every role to the roles it is directly a member of.
	Roles map[string][]string
	// Superusers are the roles with rolsuper.
	Superusers map[string]bool
	// HBARules and IdentMappings are the rows of pg_hba_file_rules and
	// pg_ident_file_mappings (15+) as text, NULL as nil, with their column
	// names; nil when the session may not read them.
	HBAColumns, IdentColumns []string
	HBARules, IdentMappings  [][]*string
	// HBAArrays and IdentArrays mark the text[] columns.
	HBAArrays, IdentArrays []bool
}

// Version is the major version.
func (f *Facts) Version() int { return f.VersionNum / 10000 }

// Read connects to dsn (a libpq URL or key=value string; password from
// it, PGPASSWORD or ~/.pgpass; TLS per its sslmode) and reads the facts.
// withViews also reads pg_hba_file_rules and pg_ident_file_mappings.
func Read(ctx context.Context, dsn string, withViews bool) (*Facts, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("--dsn: %v", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	host := cfg.Host
	if cfg.Port != 0 && !strings.HasPrefix(host, "/") {
		host += ":" + strconv.Itoa(int(cfg.Port))
	}
	f := &Facts{Host: host, Settings: map[string]string{}, Superusers: map[string]bool{}}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("--dsn: cannot connect to %s: %v", host, errText(err))
	}
	defer conn.Close(context.Background())

	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&f.VersionNum); err != nil {
		return nil, fmt.Errorf("--dsn: %s: server_version_num: %v", host, errText(err))
	}
	if f.VersionNum < 130000 {
		return nil, fmt.Errorf("--dsn: %s: PostgreSQL %d.%d: pghba reads PostgreSQL 13 and later", host, f.VersionNum/10000, f.VersionNum%10000)
	}
	for _, name := range Settings {
		if name == "db_user_namespace" && f.Version() >= 17 || name == "oauth_validator_libraries" && f.Version() < 18 {
			continue // not a setting of this version
		}
		var v *string
		// current_setting(name, true) is NULL for a setting that does not
		// exist; a setting the role may not see is an error.
		err := conn.QueryRow(ctx, "SELECT current_setting($1, true)", name).Scan(&v)
		switch {
		case err != nil:
			f.Unreadable = append(f.Unreadable, name+" ("+errText(err)+")")
		case v == nil:
			f.Unreadable = append(f.Unreadable, name+" (not a setting of this server)")
		default:
			f.Settings[name] = *v
		}
	}
	rows, err := conn.Query(ctx, `SELECT r.rolname, r.rolsuper,
		coalesce(array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
			WHERE m.member = r.oid ORDER BY 1), '{}')
		FROM pg_roles r ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("--dsn: %s: reading the roles: %v", host, errText(err))
	}
	f.Roles = map[string][]string{}
	for rows.Next() {
		var name string
		var super bool
		var groups []string
		if err := rows.Scan(&name, &super, &groups); err != nil {
			return nil, fmt.Errorf("--dsn: %s: reading the roles: %v", host, errText(err))
		}
		f.Roles[name] = groups
		if super {
			f.Superusers[name] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("--dsn: %s: reading the roles: %v", host, errText(err))
	}
	if withViews {
		f.HBAColumns, f.HBAArrays, f.HBARules, err = textRows(ctx, conn, "SELECT * FROM pg_hba_file_rules")
		if err != nil {
			f.Unreadable = append(f.Unreadable, "pg_hba_file_rules ("+errText(err)+")")
		}
		if f.Version() >= 15 {
			f.IdentColumns, f.IdentArrays, f.IdentMappings, err = textRows(ctx, conn, "SELECT * FROM pg_ident_file_mappings")
			if err != nil {
				f.Unreadable = append(f.Unreadable, "pg_ident_file_mappings ("+errText(err)+")")
			}
		}
	}
	return f, nil
}

// textRows runs sql and returns its columns, which of them are text[],
// and the rows in text form.
func textRows(ctx context.Context, conn *pgx.Conn, sql string) ([]string, []bool, [][]*string, error) {
	res := conn.PgConn().ExecParams(ctx, sql, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, nil, nil, res.Err
	}
	var cols []string
	var arrays []bool
	for _, fd := range res.FieldDescriptions {
		cols = append(cols, fd.Name)
		arrays = append(arrays, fd.DataTypeOID == textArrayOID)
	}
	out := [][]*string{}
	for _, r := range res.Rows {
		row := make([]*string, len(r))
		for i, v := range r {
			if v != nil {
				s := string(v)
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	return cols, arrays, out, nil
}

const textArrayOID = 1009

// ParseArray reads PostgreSQL's text form of a one-dimensional text[]
// ({a,"b c","x\"y"}); ok is false for anything else (NULL elements
// included, which the views never hold).
func ParseArray(s string) (elems []string, ok bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	body := s[1 : len(s)-1]
	elems = []string{}
	if body == "" {
		return elems, true
	}
	for i := 0; ; {
		var b strings.Builder
		if i < len(body) && body[i] == '"' {
			i++
			for ; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				b.WriteByte(body[i])
			}
			if i >= len(body) {
				return nil, false
			}
			i++
		} else {
			start := i
			for i < len(body) && body[i] != ',' {
				if body[i] == '"' || body[i] == '{' || body[i] == '\\' {
					return nil, false
				}
				i++
			}
			if body[start:i] == "NULL" || i == start {
				return nil, false
			}
			b.WriteString(body[start:i])
		}
		elems = append(elems, b.String())
		if i == len(body) {
			return elems, true
		}
		if body[i] != ',' {
			return nil, false
		}
		i++
	}
}

// errText is the server's message (with its SQLSTATE) or the error.
func errText(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	return err.Error()
}
