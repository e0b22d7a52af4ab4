package main

// This file is what pghba fmt, add and remove share: reading the file to
// edit, refusing what must not be edited, reporting the change and writing
// the new bytes atomically.

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/edit"
)

// rename is os.Rename; tests replace it to interrupt a write.
var rename = os.Rename

// editTarget is a file being edited: the path named, the file that is
// written (a symbolic link's target), and what was read.
type editTarget struct {
	name   string // as given
	target string // the regular file written: name with symbolic links resolved
	info   fs.FileInfo
	data   []byte
	file   *edit.File
	p      *hba.Parser // the parser the file is read with
	abs    string      // its absolute name, as the parser reads it
}

// editFlags are the flags fmt -w, add and remove share.
type editFlags struct {
	dryRun bool
	force  bool
}

func (ef *editFlags) register(inv *invocation, dryRun bool) {
	if dryRun {
		inv.flags.BoolVar(&ef.dryRun, "dry-run", false, "")
	}
	inv.flags.BoolVar(&ef.force, "force", false, "")
}

// checkEditFlags refuses the loading flags that name another input: the
// file to edit is the command's argument.
func checkEditFlags(inv *invocation) error {
	for _, f := range []string{"f", "lines", "pgdata", "config-file", "dsn"} {
		if inv.given[f] {
			return badUsage("--%s: the file to edit is given as an argument", f)
		}
	}
	return nil
}

// openEdit reads the file name for editing with p.
func openEdit(p *hba.Parser, name string) (*editTarget, error) {
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	max := p.Limits.MaxBytes
	if max == 0 {
		max = hba.DefaultLimits.MaxBytes
	} else if max < 0 {
		max = 1<<63 - 1
	}
	data, err := readFileLimited(target, max)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	return &editTarget{name: name, target: target, info: info, data: data, file: edit.Parse(p, abs, data), p: p, abs: abs}, nil
}

// openRecordEdit opens the FILE argument of add or remove for editing: nil
// and the exit status when it cannot be read (2) or does not load and
// --force was not given (1).
func openRecordEdit(inv *invocation, p *hba.Parser, ef editFlags) (*editTarget, int) {
	t, err := openEdit(p, inv.args[0])
	if err != nil {
		return nil, editFail(inv, exitUsage, err)
	}
	if err := t.refuseUnloadable(ef.force); err != nil {
		return nil, editFail(inv, exitNotLoaded, err)
	}
	return t, exitOK
}

// refuseUnloadable returns an error naming the first load error of the
// file as read, unless force.
func (t *editTarget) refuseUnloadable(force bool) error {
	errs := t.file.Loaded().Errors
	if len(errs) == 0 || force {
		return nil
	}
	return fmt.Errorf("%s does not load (%v); not edited (--force edits it anyway)", t.name, errs[0])
}

// printEdit writes the lines the edit changed: "-N: text" for a line of
// the file as read, "+N: text" for a line of the file as edited. It is the
// report of an edit until the decision diff (issue 14) can tell which
// connections it decides differently.
func printEdit(w io.Writer, name string, old, new []byte) {
	o, n := bytes.SplitAfter(old, []byte("\n")), bytes.SplitAfter(new, []byte("\n"))
	i := 0
	for i < len(o) && i < len(n) && bytes.Equal(o[i], n[i]) {
		i++
	}
	jo, jn := len(o), len(n)
	for jo > i && jn > i && bytes.Equal(o[jo-1], n[jn-1]) {
		jo, jn = jo-1, jn-1
	}
	for k := i; k < jo; k++ {
		fmt.Fprintf(w, "%s:%d: - %s\n", name, k+1, bytes.TrimRight(o[k], "\r\n"))
	}
	for k := i; k < jn; k++ {
		fmt.Fprintf(w, "%s:%d: + %s\n", name, k+1, bytes.TrimRight(n[k], "\r\n"))
	}
}

// write replaces the file's bytes with data atomically: a temporary file in
// the same directory, written, given the file's mode and owner, synced, then
// renamed over the target (a symbolic link stays a link: its target is
// replaced), and the directory synced. It refuses a read-only file and a
// file whose bytes changed since they were read. On any error the file is
// as it was and no temporary file is left.
func (t *editTarget) write(data []byte) error {
	if t.info.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%s is read-only (mode %04o); not written", t.name, t.info.Mode().Perm())
	}
	if w, err := os.OpenFile(t.target, os.O_WRONLY, 0); err != nil {
		return fmt.Errorf("%w; not written", err)
	} else {
		w.Close()
	}
	now, err := os.ReadFile(t.target)
	if err != nil {
		return fmt.Errorf("%w; not written", err)
	}
	if !bytes.Equal(now, t.data) {
		return fmt.Errorf("%s changed since it was read; not written", t.name)
	}
	dir := filepath.Dir(t.target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(t.target)+".pghba-*")
	if err != nil {
		return fmt.Errorf("%w; not written", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("%w; not written", err)
	}
	if err := tmp.Chmod(t.info.Mode().Perm()); err != nil {
		return fmt.Errorf("%w; not written", err)
	}
	if err := keepOwner(tmp, t.info); err != nil {
		return fmt.Errorf("keeping the owner: %w; not written", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%w; not written", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%w; not written", err)
	}
	if err := rename(tmp.Name(), t.target); err != nil {
		return fmt.Errorf("%w; not written", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// editFail reports err and returns status.
func editFail(inv *invocation, status int, err error) int {
	fmt.Fprintf(inv.stderr, "pghba %s: %v\n", inv.cmd.name, err)
	return status
}
