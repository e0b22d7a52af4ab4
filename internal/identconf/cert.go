package identconf

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/internal/pgtest"
)

// certHBA is the pg_hba.conf of a certificate case: the bootstrap line, then the rule.
func certHBA(rule string) string { return "local all all trust\n" + rule + "\n" }

// certOutcome is a decision about one connection: whether the user name check let the
// certificate's name in, and the messages logged for the connection.
type certOutcome struct {
	Allowed bool     `json:"allowed"`
	Log     []string `json:"log,omitempty"`
}

// outcomeOf keeps the messages a probe's backend logged, without the connection bookkeeping
// (which names ports and temporary paths).
func outcomeOf(pr pgtest.ProbeResult) certOutcome {
	o := certOutcome{Allowed: pr.Authenticated}
	for _, e := range pr.Log {
		m := e.Message
		if strings.HasPrefix(m, "connection received:") || strings.HasPrefix(m, "connection authorized:") ||
			strings.HasPrefix(m, "connection authenticated:") {
			continue
		}
		o.Log = append(o.Log, m)
	}
	return o
}

// libCert is hba's decision for one check of c, with the files placed in dir. identLoaded is
// false when CompileIdent refuses the file (the check then runs with no maps).
func libCert(major, minor int, dir string, c certCase, chk certCheck) (res hba.IdentResult, identLoaded bool, err error) {
	p := &hba.Parser{Version: major, Minor: minor, SSL: true, Features: hba.FeatureSSL, Env: hba.Env{Roles: certRoles}}
	hf := p.ParseBytes(filepath.Join(dir, "pg_hba.conf"), []byte(certHBA(c.HBA)))
	if err := hf.Errors.Err(); err != nil {
		return res, false, fmt.Errorf("hba refuses the rule: %v", err)
	}
	var rule *hba.Rule
	for _, r := range hf.Rules {
		if r.Pos().Line == 2 {
			rule = r
		}
	}
	if rule == nil {
		return res, false, fmt.Errorf("no rule on line 2")
	}
	maps, ierr := p.CompileIdent(p.ParseIdentBytes(filepath.Join(dir, "pg_ident.conf"), []byte(c.Ident)))
	name := chk.CN
	if c.DN {
		name = subjectDN(chk.CN)
	}
	res = maps.CheckRule(context.Background(), rule, name, chk.User, hba.IdentOptions{Roles: certRoles})
	return res, ierr == nil, nil
}

// compareCert returns "" when hba's result agrees with the server's outcome: the same
// decision and, for a refusal, hba's messages among those the server logged.
func compareCert(lib hba.IdentResult, srv certOutcome) string {
	if lib.Outcome == hba.IdentUnresolved || lib.Outcome == hba.IdentNotApplicable {
		return fmt.Sprintf("hba outcome %s: %s", lib.Outcome, lib.Message)
	}
	if lib.Allowed != srv.Allowed {
		return fmt.Sprintf("allowed: server %v, hba %v (hba: %q)", srv.Allowed, lib.Allowed, lib.Message)
	}
	if lib.Allowed {
		return ""
	}
	for _, want := range []string{lib.Message, lib.CertMessage} {
		if want == "" {
			continue
		}
		found := false
		for _, m := range srv.Log {
			if m == want {
				found = true
			}
		}
		if !found {
			return fmt.Sprintf("message: hba %q not in the server's log %q", want, srv.Log)
		}
	}
	return ""
}

// libPeer is libCert for a case whose rule is a peer rule on line 2 (chk.CN is the OS user).
func libPeer(major, minor int, dir string, c certCase, chk certCheck) (hba.IdentResult, bool, error) {
	p := &hba.Parser{Version: major, Minor: minor, Env: hba.Env{Roles: certRoles}}
	hf := p.ParseBytes(filepath.Join(dir, "pg_hba.conf"), []byte("local all postgres trust\n"+c.HBA+"\n"))
	if err := hf.Errors.Err(); err != nil || len(hf.Rules) != 2 {
		return hba.IdentResult{}, false, fmt.Errorf("hba refuses the rule: %v", err)
	}
	maps, ierr := p.CompileIdent(p.ParseIdentBytes(filepath.Join(dir, "pg_ident.conf"), []byte(c.Ident)))
	res := maps.CheckRule(context.Background(), hf.Rules[1], chk.CN, chk.User, hba.IdentOptions{Roles: certRoles})
	return res, ierr == nil, nil
}
