package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/pghba/pghba/hba"
)

// Reload reads pg_hba.conf again. When it loads, the new rules replace the
// old ones atomically: decisions in flight finish with the rules they
// started with, sessions already relayed are not touched. When it does not
// load, every error is logged as file:line: message and the old rules stay,
// as PostgreSQL does on SIGHUP.
func (p *Proxy) Reload() error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	defer p.signalReload()
	// A load is bounded in bytes, files and lines by the Parser's Limits;
	// the deadline bounds its time, so a slow file system cannot hold the
	// reload lock (and keep fixes and revocations out) for ever.
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	rs, err := p.parser.LoadContext(ctx, p.cfg.HBAFile)
	if err != nil {
		p.failed.Add(1)
		p.metrics.reloads.WithLabelValues("hba", "failed").Inc()
		p.logLoadError(p.cfg.HBAFile, err)
		p.log.Warn("pg_hba.conf was not reloaded", "file", p.cfg.HBAFile)
		return err
	}
	p.storeRules(rs)
	p.gen.Add(1)
	p.metrics.reloads.WithLabelValues("hba", "ok").Inc()
	p.log.Info("pg_hba.conf reloaded", "file", rs.Path(), "rules", len(rs.Rules()))
	return nil
}

// reloadTimeout bounds one load of pg_hba.conf (or pg_ident.conf).
const reloadTimeout = 30 * time.Second

// storeRules puts rs in force.
func (p *Proxy) storeRules(rs *hba.Ruleset) {
	p.rules.Store(rs)
	p.metrics.rules.Set(float64(len(rs.Rules())))
	p.metrics.rulesLoadedAt.Set(float64(time.Now().UnixNano()) / 1e9)
}

// logLoadError logs each error of a failed load on its own line.
func (p *Proxy) logLoadError(file string, err error) {
	var list hba.ErrorList
	if !errors.As(err, &list) {
		p.log.Error("could not load "+file, "err", err)
		return
	}
	for _, e := range list {
		// file:line as the server logs it; the token's column, when the
		// error has one, is an attribute of its own.
		line := e.Pos
		line.Column, line.EndColumn = 0, 0
		attrs := []any{"pos", line.String()}
		if e.Pos.Column > 0 {
			attrs = append(attrs, "column", e.Pos.Column)
		}
		if e.Hint != "" {
			attrs = append(attrs, "hint", e.Hint)
		}
		p.log.Error(line.String()+": "+e.LogText(), attrs...)
	}
}

// ReloadCounts returns how many reloads succeeded and failed so far.
func (p *Proxy) ReloadCounts() (ok, failed uint64) { return p.gen.Load(), p.failed.Load() }

// ReloadNotify returns a channel closed at the next reload attempt (of
// either file).
func (p *Proxy) ReloadNotify() <-chan struct{} {
	p.notifyMu.Lock()
	defer p.notifyMu.Unlock()
	return p.notify
}

func (p *Proxy) signalReload() {
	p.notifyMu.Lock()
	defer p.notifyMu.Unlock()
	close(p.notify)
	p.notify = make(chan struct{})
}

// fileStamp is what the poller compares to notice a change.
type fileStamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ok: true}
}

// ReloadAll is what SIGHUP does: reload pg_hba.conf and pg_ident.conf.
func (p *Proxy) ReloadAll() {
	p.Reload()
	if p.cfg.IdentFile != "" {
		p.ReloadIdent()
	}
}

// ReloadIdent reads pg_ident.conf again; a file that does not load leaves
// the maps in force.
func (p *Proxy) ReloadIdent() error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	defer p.signalReload()
	err := p.loadIdent(false)
	result := "ok"
	if err != nil {
		result = "failed"
	}
	p.metrics.reloads.WithLabelValues("ident", result).Inc()
	return err
}

// watch polls the files' modification times and sizes and reloads the one
// that changed. (Included files are not watched; send SIGHUP for those.)
func (p *Proxy) watch(ctx context.Context) {
	type watched struct {
		path   string
		last   fileStamp
		reload func() error
	}
	files := []*watched{{path: p.cfg.HBAFile, reload: p.Reload}}
	if p.cfg.IdentFile != "" {
		files = append(files, &watched{path: p.cfg.IdentFile, reload: p.ReloadIdent})
	}
	for _, f := range files {
		f.last = stamp(f.path)
	}
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, f := range files {
			s := stamp(f.path)
			if s == f.last {
				continue
			}
			f.last = s
			if !s.ok {
				p.log.Warn("file vanished; keeping the rules in force", "file", f.path)
				continue
			}
			p.log.Info("file changed on disk", "file", f.path)
			f.reload()
		}
	}
}
