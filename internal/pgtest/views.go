package pgtest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// HBARow is one row of pg_hba_file_rules. Pointers and slices are nil for NULL.
type HBARow struct {
	RuleNumber *int    // 16+
	FileName   *string // 16+
	LineNumber *int
	Type       *string
	Database   []string
	UserName   []string
	Address    *string
	Netmask    *string
	AuthMethod *string
	Options    []string
	Error      *string
}

// IdentRow is one row of pg_ident_file_mappings (15+). Pointers are nil for NULL.
type IdentRow struct {
	MapNumber  *int    // 16+
	FileName   *string // 16+
	LineNumber *int
	MapName    *string
	SysName    *string
	PGUsername *string
	Error      *string
}

// HBARules reads pg_hba_file_rules (the files on disk now, not what is loaded).
func (c *Cluster) HBARules() ([]HBARow, error) {
	head := "rule_number, file_name"
	if c.Install.Major < 16 {
		head = "NULL::int, NULL::text"
	}
	rows, err := c.Query("SELECT " + head + ", line_number, type, to_json(database), to_json(user_name)," +
		" address, netmask, auth_method, to_json(options), error FROM pg_hba_file_rules")
	if err != nil {
		return nil, err
	}
	out := make([]HBARow, 0, len(rows))
	for _, r := range rows {
		if len(r) != 11 {
			return nil, fmt.Errorf("pgtest: pg_hba_file_rules: %d columns", len(r))
		}
		var row HBARow
		var errs []error
		row.RuleNumber, errs = intCol(r[0], errs)
		row.FileName = r[1]
		row.LineNumber, errs = intCol(r[2], errs)
		row.Type = r[3]
		row.Database, errs = arrayCol(r[4], errs)
		row.UserName, errs = arrayCol(r[5], errs)
		row.Address, row.Netmask, row.AuthMethod = r[6], r[7], r[8]
		row.Options, errs = arrayCol(r[9], errs)
		row.Error = r[10]
		if len(errs) > 0 {
			return nil, fmt.Errorf("pgtest: pg_hba_file_rules: %v", errs[0])
		}
		out = append(out, row)
	}
	return out, nil
}

// IdentMappings reads pg_ident_file_mappings (PostgreSQL 15+).
func (c *Cluster) IdentMappings() ([]IdentRow, error) {
	if c.Install.Major < 15 {
		return nil, fmt.Errorf("pgtest: pg_ident_file_mappings needs PostgreSQL 15+, have %d", c.Install.Major)
	}
	head := "map_number, file_name"
	if c.Install.Major < 16 {
		head = "NULL::int, NULL::text"
	}
	rows, err := c.Query("SELECT " + head + ", line_number, map_name, sys_name, pg_username, error FROM pg_ident_file_mappings")
	if err != nil {
		return nil, err
	}
	out := make([]IdentRow, 0, len(rows))
	for _, r := range rows {
		if len(r) != 7 {
			return nil, fmt.Errorf("pgtest: pg_ident_file_mappings: %d columns", len(r))
		}
		var row IdentRow
		var errs []error
		row.MapNumber, errs = intCol(r[0], errs)
		row.FileName = r[1]
		row.LineNumber, errs = intCol(r[2], errs)
		row.MapName, row.SysName, row.PGUsername, row.Error = r[3], r[4], r[5], r[6]
		if len(errs) > 0 {
			return nil, fmt.Errorf("pgtest: pg_ident_file_mappings: %v", errs[0])
		}
		out = append(out, row)
	}
	return out, nil
}

func intCol(s *string, errs []error) (*int, []error) {
	if s == nil {
		return nil, errs
	}
	n, err := strconv.Atoi(*s)
	if err != nil {
		return nil, append(errs, err)
	}
	return &n, errs
}

func arrayCol(s *string, errs []error) ([]string, []error) {
	if s == nil {
		return nil, errs
	}
	out := []string{}
	if err := json.Unmarshal([]byte(*s), &out); err != nil {
		return nil, append(errs, err)
	}
	return out, errs
}
