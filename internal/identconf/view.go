package identconf

import (
	"fmt"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgtest"
)

// A view row as text: the columns the major's view has, NULL spelled NULL, the
// configuration directory replaced by $DIR so that rows from different directories compare.
func rowString(major int, num, file *string, line int, mapName, sys, pg, errText *string, dir string) string {
	col := func(p *string) string {
		if p == nil {
			return "NULL"
		}
		return fmt.Sprintf("%q", strings.ReplaceAll(*p, dir, "$DIR"))
	}
	s := fmt.Sprintf("line=%d", line)
	if major >= 16 {
		s = fmt.Sprintf("num=%s file=%s %s", strings.Trim(col(num), `"`), col(file), s)
	}
	return s + fmt.Sprintf(" map=%s sys=%s pg=%s err=%s", col(mapName), col(sys), col(pg), col(errText))
}

func ptr(s string) *string { return &s }

// serverRows formats rows read from pg_ident_file_mappings.
func serverRows(major int, rows []pgtest.IdentRow, dir string) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var num *string
		if r.MapNumber != nil {
			num = ptr(fmt.Sprint(*r.MapNumber))
		}
		line := 0
		if r.LineNumber != nil {
			line = *r.LineNumber
		}
		out = append(out, rowString(major, num, r.FileName, line, r.MapName, r.SysName, r.PGUsername, r.Error, dir))
	}
	return out
}

// libView reads the pg_ident.conf at path as hba does for major and returns its view rows
// and whether CompileIdent takes it.
func libView(major, minor int, path, dir string) (rows []string, loaded bool, err error) {
	p := &hba.Parser{Version: major, Minor: minor}
	f, err := p.ParseIdentFile(path)
	if err != nil {
		return nil, false, err
	}
	for _, r := range f.ViewRows() {
		var num, m, sys, pg, e *string
		if r.Error != "" {
			e = ptr(r.Error)
		} else {
			num, m, sys, pg = ptr(fmt.Sprint(r.MapNumber)), ptr(r.MapName), ptr(r.SysName), ptr(r.PGUsername)
		}
		rows = append(rows, rowString(major, num, ptr(r.FileName), r.LineNumber, m, sys, pg, e, dir))
	}
	_, cerr := p.CompileIdent(f)
	return rows, cerr == nil, nil
}
