package fuzz

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cliProc is one long-running `pghba check --batch -` that fuzz inputs are
// piped through, as a conformance suite drives it.
type cliProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

var (
	cliOnce sync.Once
	cli     *cliProc
	cliErr  error
)

func startCLI(dir string) (*cliProc, error) {
	bin := filepath.Join(dir, "pghba")
	build := exec.Command("go", "build", "-o", bin, "../cmd/pghba")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, &buildError{string(out)}
	}
	conf := filepath.Join(dir, "pg_hba.conf")
	rules := "local all +staff trust\nhost samerole all 10.0.0.0/8 md5\nhost all all db.example.com trust\n" +
		"hostssl all all samenet reject\nhost all all ::/0 scram-sha-256\nhost replication all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(conf, []byte(rules), 0o644); err != nil {
		return nil, err
	}
	hosts := filepath.Join(dir, "hosts.json")
	if err := os.WriteFile(hosts, []byte(`{"reverse":{"10.0.0.5":["db.example.com"]},"forward":{"db.example.com":["10.0.0.5"]}}`), 0o644); err != nil {
		return nil, err
	}
	roles := filepath.Join(dir, "roles.json")
	if err := os.WriteFile(roles, []byte(`{"alice":["staff"],"staff":[]}`), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "check", "-f", conf, "--hosts", hosts, "--roles", roles,
		"--server-addrs", "127.0.0.1/8,::1/128", "--server-ssl", "on", "--batch", "-")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &cliProc{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

type buildError struct{ out string }

func (e *buildError) Error() string { return "building pghba: " + e.out }

// FuzzCLIBatch feeds arbitrary lines to `pghba check --batch -`. Every
// non-blank input line must give exactly one JSON object: a result of a
// known kind, or an error naming the line; the process must never die.
func FuzzCLIBatch(f *testing.F) {
	for _, s := range []string{
		`{"type":"local","user":"alice"}`,
		`{"type":"host","addr":"10.1.2.3","user":"a","db":"d","ssl":true}`,
		`{"type":"host","addr":"10.0.0.5","user":"bob","db":"bob"}`,
		`{"type":"host","addr":"::1","user":"a","replication":"physical"}`,
		`{"type":"host","addr":"127.0.0.1","user":"a","replication":"logical","db":"x"}`,
		`{"type":"host","addr":"fe80::1%eth0","user":"a","gss":true}`,
		`{"type":"local","user":null,"db":7}`,
		"[]", "null", `"x"`, "{", "{}\n{\"type\":\"local\",\"user\":\"a\"}",
	} {
		f.Add([]byte(s))
	}
	dir, err := os.MkdirTemp("", "pghba-fuzz-cli")
	if err != nil {
		f.Fatal(err)
	}
	cliOnce.Do(func() { cli, cliErr = startCLI(dir) })
	if cliErr != nil {
		f.Fatal(cliErr)
	}
	f.Cleanup(func() {
		cli.in.Close()
		cli.cmd.Process.Kill()
		cli.cmd.Wait()
		os.RemoveAll(dir)
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 4095 {
			return // one write stays atomic on the pipe (PIPE_BUF)
		}
		var want int
		for _, l := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				want++
			}
		}
		if want == 0 {
			return
		}
		in := append(bytes.Clone(data), '\n')
		go cli.in.Write(in)
		for i := 0; i < want; i++ {
			out, err := cli.out.ReadBytes('\n')
			if err != nil {
				t.Fatalf("pghba died after %q: %v (%v)", data, err, cli.cmd.Wait())
			}
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("input %q: output %q is not a JSON object: %v", data, out, err)
			}
			if e, ok := m["error"].(string); ok {
				if !strings.HasPrefix(e, "line ") {
					t.Fatalf("input %q: error %q does not name the line", data, e)
				}
				continue
			}
			switch m["result"] {
			case "match", "reject", "no-match", "unresolved":
			default:
				t.Fatalf("input %q: output %q has no known result", data, out)
			}
		}
	})
}
