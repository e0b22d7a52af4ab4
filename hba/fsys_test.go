package hba

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// Regression tests for issue 12 F3: only regular files are read, and a
// read is bounded before it happens (FIFOs, devices, pipes).

func TestLoadRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skip("mkfifo:", err)
	}
	fifoConf := filepath.Join(dir, "d", "p.conf")
	if err := os.MkdirAll(filepath.Dir(fifoConf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(fifoConf); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"inc.conf":   "include fifo\n",
		"at.conf":    "host @fifo all 0.0.0.0/0 trust\n",
		"dir.conf":   "include_dir d\n",
		"ident.conf": "include fifo\n",
	})
	want := `could not open file "` + fifo + `": not a regular file (a named pipe)`
	for _, v := range []int{13, 15, 16, 18} {
		p := &Parser{Version: v}
		mainErr, _ := loadErrors(t, p, fifo)
		var e *Error
		if !errors.As(mainErr, &e) || !errors.Is(mainErr, ErrFile) || !strings.HasSuffix(e.Msg, `"`+fifo+`": not a regular file (a named pipe)`) {
			t.Errorf("%d: main FIFO: %v", v, mainErr)
		}
		if v <= 15 {
			mainErr, lines := loadErrors(t, p, filepath.Join(dir, "at.conf"))
			wantOneError(t, "@fifo", mainErr, lines, `as "`+fifo+`": not a regular file (a named pipe)`)
			continue
		}
		for _, c := range []struct{ main, want string }{
			{"inc.conf", want},
			{"at.conf", want},
			{"dir.conf", `could not open file "` + fifoConf + `": not a regular file (a named pipe)`},
		} {
			mainErr, lines := loadErrors(t, p, filepath.Join(dir, c.main))
			wantOneError(t, c.main, mainErr, lines, c.want)
		}
		var f *IdentFile
		var err error
		noHang(t, "ident", func() { f, err = p.ParseIdentFile(filepath.Join(dir, "ident.conf")) })
		if err != nil || len(f.Errors) != 1 || f.Errors[0].Msg != want {
			t.Errorf("%d: ident include of a FIFO: %v %v", v, err, f.Errors)
		}
	}
}

func TestLoadDevZeroBounded(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"inc.conf": "include /dev/zero\n",
		"at.conf":  "host @/dev/zero all 0.0.0.0/0 trust\n",
		"dir.conf": "include_dir d\n",
	})
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "d", "zero.conf")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	p := &Parser{}
	mainErr, _ := loadErrors(t, p, "/dev/zero")
	if mainErr == nil || mainErr.Error() != `/dev/zero: could not open file "/dev/zero": not a regular file (a character device)` {
		t.Errorf("-f /dev/zero: %v", mainErr)
	}
	const want = `could not open file "/dev/zero": not a regular file (a character device)`
	for _, c := range []struct{ main, want string }{
		{"inc.conf", want},
		{"at.conf", want},
		{"dir.conf", `could not open file "` + link + `": not a regular file (a character device)`},
	} {
		mainErr, lines := loadErrors(t, p, filepath.Join(dir, c.main))
		wantOneError(t, c.main, mainErr, lines, c.want)
	}
	if _, err := p.LoadIdent("/dev/zero"); err == nil || !strings.Contains(err.Error(), "a character device") {
		t.Errorf("ident /dev/zero: %v", err)
	}
}

// TestLoadRefusesPipeAsStdin is `@/dev/stdin` fed by `yes`: the name leads
// (through /proc) to a pipe, which is refused without a read.
func TestLoadRefusesPipeAsStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	name := "/proc/self/fd/" + itoa(int(r.Fd()))
	if _, err := os.Stat(name); err != nil {
		t.Skip("no /proc/self/fd")
	}
	go func() {
		for {
			if _, err := w.Write([]byte("y\ny\ny\ny\n")); err != nil {
				return
			}
		}
	}()
	p := &Parser{}
	f := p.ParseBytes(filepath.Join(t.TempDir(), "pg_hba.conf"), []byte("host @"+name+" all 0.0.0.0/0 trust\n"))
	if len(f.Errors) != 1 || !strings.HasSuffix(f.Errors[0].Msg, ": not a regular file (a named pipe)") || !errors.Is(f.Errors[0], ErrFile) {
		t.Fatalf("%v", f.Errors)
	}
}

func TestFSSpecialFilesRefused(t *testing.T) {
	for _, c := range []struct {
		mode fs.FileMode
		kind string
	}{
		{fs.ModeNamedPipe, "a named pipe"},
		{fs.ModeDevice | fs.ModeCharDevice, "a character device"},
		{fs.ModeDevice, "a block device"},
		{fs.ModeSocket, "a socket"},
		{fs.ModeIrregular, "a special file"},
	} {
		fsys := fstest.MapFS{
			"pg_hba.conf": {Data: []byte("include s\nhost @s all 0.0.0.0/0 trust\n")},
			"s":           {Data: []byte("local all all trust\n"), Mode: c.mode},
		}
		p := &Parser{FS: fsys}
		f, err := p.ParseFile("pg_hba.conf")
		want := `could not open file "/s": not a regular file (` + c.kind + `)`
		if err != nil || len(f.Errors) != 2 || f.Errors[0].Msg != want || f.Errors[1].Msg != want {
			t.Errorf("%v: %v %v", c.mode, err, f.Errors)
		}
		if _, err := p.ParseFile("s"); err == nil || !strings.HasSuffix(err.Error(), want[len("could not open file"):]) {
			t.Errorf("%v main: %v", c.mode, err)
		}
	}
}
