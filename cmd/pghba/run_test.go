package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pghba/pghba/internal/testkit"
)

// The transcripts in testdata/*.txtar run pghba in-process. An archive's
// comment says what it covers. Its files are written to a fresh directory,
// which becomes the working directory, except for the step sections:
//
//	-- args --     starts a step: one line, "NAME=value" words first set
//	               environment variables, the rest are the arguments;
//	               words split at spaces, and '…' quotes a word
//	-- stdin --    the step's standard input (optional)
//	-- stdout --   the expected standard output (absent: empty)
//	-- stderr --   the expected standard error (absent: empty)
//	-- exit --     the expected exit status
//
// $WORK in args stands for the directory and $ROOT for the repository's
// root; in the output their paths are shown as $WORK and $ROOT.
// go test -update (internal/testkit) rewrites stdout, stderr and exit of every step.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txtar")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runTranscript(t, file)
		})
	}
}

// step is one invocation in a transcript.
type step struct {
	args                 string
	stdin                []byte
	stdout, stderr, exit []byte
	hasStdin             bool
}

func runTranscript(t *testing.T, file string) {
	file, err := filepath.Abs(file) // the test changes directory
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := testkit.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	// Resolve symbolic links so that the paths pghba prints, which are
	// made absolute from the working directory, start with work.
	if w, err := filepath.EvalSymlinks(work); err == nil {
		work = w
	}
	var steps []*step
	var cur *step
	for _, f := range ar.Files {
		switch f.Name {
		case "args":
			cur = &step{args: strings.TrimSpace(string(f.Data))}
			steps = append(steps, cur)
		case "stdin", "stdout", "stderr", "exit":
			if cur == nil {
				t.Fatalf("%s: section %q before the first args", file, f.Name)
			}
			switch f.Name {
			case "stdin":
				cur.stdin, cur.hasStdin = f.Data, true
			case "stdout":
				cur.stdout = f.Data
			case "stderr":
				cur.stderr = f.Data
			case "exit":
				cur.exit = f.Data
			}
		default:
			if cur != nil {
				t.Fatalf("%s: file %q after the first args", file, f.Name)
			}
			name := filepath.Join(work, filepath.FromSlash(f.Name))
			if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, f.Data, 0o666); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(steps) == 0 {
		t.Fatalf("%s: no args section", file)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	t.Setenv("PGDATA", "")

	changed := false
	for i, s := range steps {
		words := splitArgs(strings.NewReplacer("$WORK", work, "$ROOT", root).Replace(s.args))
		for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
			k, v, _ := strings.Cut(words[0], "=")
			t.Setenv(k, v)
			words = words[1:]
		}
		var stdout, stderr bytes.Buffer
		code := run(words, bytes.NewReader(s.stdin), &stdout, &stderr)
		hide := strings.NewReplacer(work, "$WORK", root, "$ROOT")
		gotOut := []byte(hide.Replace(stdout.String()))
		gotErr := []byte(hide.Replace(stderr.String()))
		gotExit := []byte(strconv.Itoa(code) + "\n")
		if testkit.Update() {
			if !bytes.Equal(gotOut, s.stdout) || !bytes.Equal(gotErr, s.stderr) || !bytes.Equal(gotExit, s.exit) {
				changed = true
			}
			s.stdout, s.stderr, s.exit = gotOut, gotErr, gotExit
			continue
		}
		if !bytes.Equal(gotOut, s.stdout) {
			t.Errorf("step %d: pghba %s\nstdout:\n%s\nwant:\n%s", i+1, s.args, gotOut, s.stdout)
		}
		if !bytes.Equal(gotErr, s.stderr) {
			t.Errorf("step %d: pghba %s\nstderr:\n%s\nwant:\n%s", i+1, s.args, gotErr, s.stderr)
		}
		if !bytes.Equal(gotExit, s.exit) {
			t.Errorf("step %d: pghba %s\nexit status %s, want %s", i+1, s.args, bytes.TrimSpace(gotExit), bytes.TrimSpace(s.exit))
		}
	}
	if testkit.Update() && changed {
		// Rebuild the archive: the input files as they were, then each
		// step with its new output.
		out := &testkit.Archive{Comment: ar.Comment}
		for _, f := range ar.Files {
			switch f.Name {
			case "args", "stdin", "stdout", "stderr", "exit":
				continue
			}
			out.Files = append(out.Files, f)
		}
		for _, s := range steps {
			out.Files = append(out.Files, testkit.File{Name: "args", Data: []byte(s.args + "\n")})
			if s.hasStdin {
				out.Files = append(out.Files, testkit.File{Name: "stdin", Data: s.stdin})
			}
			if len(s.stdout) > 0 {
				out.Files = append(out.Files, testkit.File{Name: "stdout", Data: s.stdout})
			}
			if len(s.stderr) > 0 {
				out.Files = append(out.Files, testkit.File{Name: "stderr", Data: s.stderr})
			}
			out.Files = append(out.Files, testkit.File{Name: "exit", Data: s.exit})
		}
		if err := os.WriteFile(file, out.Format(), 0o666); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", file)
	}
}

// splitArgs splits at spaces; '…' quotes a word, possibly empty.
func splitArgs(s string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			inWord = true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

func TestSplitArgs(t *testing.T) {
	got := splitArgs(`check  --db 'my db' --user '' -f x`)
	want := []string{"check", "--db", "my db", "--user", "", "-f", "x"}
	if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
		t.Fatalf("splitArgs = %q, want %q", got, want)
	}
}
