package pgconf

import (
	"sort"
	"strings"
)

// hiddenNames are settings pg_settings does not list (GUC_NO_SHOW_ALL) but
// a configuration file may name, with the first major that has them.
var hiddenNames = map[string]int{
	"default_with_oids": 13, "is_superuser": 13, "role": 13, "seed": 13,
	"session_authorization": 13, "ssl_renegotiation_limit": 13,
	"recovery_init_sync_method": 14,
}

// buildNames are settings only some builds have (LOCK_DEBUG, WAL_DEBUG,
// BTREE_BUILD_STATS, DEBUG_BOUNDED_SORT, TRACE_SYNCSCAN, plan-tree
// debugging): accepted on every major, since pghba cannot know the build.
var buildNames = map[string]bool{
	"debug_copy_parse_plan_trees": true, "debug_deadlocks": true, "debug_raw_expression_coverage_test": true,
	"debug_write_read_parse_plan_trees": true, "log_btree_build_stats": true, "optimize_bounded_sort": true,
	"trace_lock_oidmin": true, "trace_lock_table": true, "trace_locks": true, "trace_lwlocks": true,
	"trace_sort": true, "trace_syncscan": true, "trace_userlocks": true, "wal_debug": true,
}

// KnownName reports whether a PostgreSQL server of the major version
// defines the setting name (compared case-insensitively): the settings its
// pg_settings lists (on the builds internal/gucconf runs), those it hides,
// and those only some builds have. Custom names (with a dot) are not in
// the table: a configuration file may use any of them. A version outside
// 13 to 18 knows every name.
func KnownName(version int, name string) bool {
	if version < 13 || version > 18 {
		return true
	}
	n := strings.ToLower(name)
	if shownNames[n]&(1<<(version-13)) != 0 || buildNames[n] {
		return true
	}
	first, ok := hiddenNames[n]
	return ok && version >= first
}

// ShownNames returns the settings pg_settings lists on the major version,
// sorted (for tests against a server).
func ShownNames(version int) []string {
	var out []string
	if version < 13 || version > 18 {
		return nil
	}
	for n, bits := range shownNames {
		if bits&(1<<(version-13)) != 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
