package identconf

import (
	"fmt"
	"testing"

	"github.com/pghba/pghba/internal/testkit"
)

// Environment (the harness skeleton is testkit.Env; the variables it reads itself are
// described there):
//
//	PGHBA_IDENT_SEED          replay a run (every run prints its seed)
//	PGHBA_IDENT_FILES         view files per version (default 300; long mode 3000)
//	PGHBA_IDENT_CHECKS        certificate checks per version (default 240; long mode 2000)
//	PGHBA_IDENT_PEER_CHECKS   peer checks per version (default 48)
//	PGHBA_CONFORMANCE_LONG=1  long mode: more cases, every installed major 15–18 (view) and
//	                          13–18 (certificates)
//	PGHBA_IDENT_VERSIONS      comma-separated majors (overrides the defaults)
//	PGHBA_IDENT_NONASCII=1    also generate patterns with bytes above 127 for the view test
//	                          (known divergence: the view decodes them as UTF-8)
//	PGHBA_IDENT_SAVE          directory for regression files of divergent cases (default: a
//	                          new directory under $TMPDIR, printed)
//
// Without CI=true a missing server skips the version; with CI=true it fails.
var env = &testkit.Env{Prefix: "PGHBA_IDENT"}

// save writes a regression file for a divergent case.
func save(t *testing.T, name string, a *archive) {
	env.Save(t, fmt.Sprintf("%s-%d", name, env.Seq()), a.format())
}
