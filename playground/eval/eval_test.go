package eval

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// sample is the page's default state (playground/site/app.js SAMPLE).
const sample = `{"version":18,"ssl":false,"missing":"bsd,sspi","files":{"pg_hba.conf":"# TYPE  DATABASE        USER            ADDRESS                 METHOD\nlocal   all             postgres                                peer\nlocal   all             all                                     peer map=local\nhost    all             all             127.0.0.1/32            scram-sha-256\nhost    sales           +sales_team     10.0.0.0/8              scram-sha-256\nhost    all             /^admin         192.168.0.0/16          md5\nhostssl replication     replicator      10.0.0.0/8              scram-sha-256\nhost    all             all             0.0.0.0/0               reject\n","pg_ident.conf":"# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\nlocal      /^(.*)$          \\1\n"},"roles":{"alice":["sales_team"]},"conn":{"type":"host","addr":"10.1.2.3","ssl":false,"gss":false,"db":"sales","user":"alice","replication":""}}`

func decode(t *testing.T, s string) *State {
	t.Helper()
	var st State
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestSampleAudit(t *testing.T) {
	r := Audit(decode(t, sample))
	b, _ := json.MarshalIndent(r, "", " ")
	t.Logf("%s", b)
}

func BenchmarkEvaluate1000(b *testing.B) {
	st := thousand()
	b.ReportAllocs()
	for b.Loop() {
		out, err := json.Marshal(Evaluate(st))
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
}

// thousand is a 1,000-rule file and a connection decided by its last rule.
func thousand() *State {
	var sb strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "host db%d user%d 10.%d.%d.0/24 scram-sha-256\n", i, i%50, i/256, i%256)
	}
	return &State{Version: 18, Files: map[string]string{MainFile: sb.String()},
		Conn: Conn{Type: "host", Addr: "10.3.231.9", DB: "db999", User: "user49"}}
}
