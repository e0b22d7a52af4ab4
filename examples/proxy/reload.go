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
	rs, err := p.parser.Load(p.cfg.HBAFile)
	if err != nil {
		p.failed.Add(1)
		p.logLoadError(err)
		p.log.Warn("pg_hba.conf was not reloaded", "file", p.cfg.HBAFile)
		return err
	}
	p.rules.Store(rs)
	p.gen.Add(1)
	p.log.Info("pg_hba.conf reloaded", "file", rs.Path(), "rules", len(rs.Rules()))
	return nil
}

// logLoadError logs each error of a failed load on its own line.
func (p *Proxy) logLoadError(err error) {
	var list hba.ErrorList
	if !errors.As(err, &list) {
		p.log.Error("could not load pg_hba.conf", "file", p.cfg.HBAFile, "err", err)
		return
	}
	for _, e := range list {
		attrs := []any{"pos", e.Pos.String()}
		if e.Hint != "" {
			attrs = append(attrs, "hint", e.Hint)
		}
		p.log.Error(e.Pos.String()+": "+e.LogText(), attrs...)
	}
}

// ReloadCounts returns how many reloads succeeded and failed so far.
func (p *Proxy) ReloadCounts() (ok, failed uint64) { return p.gen.Load(), p.failed.Load() }

// ReloadNotify returns a channel closed at the next reload attempt.
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

// watch polls the rule file's modification time and size and reloads when
// either changes. (Included files are not watched; send SIGHUP for those.)
func (p *Proxy) watch(ctx context.Context) {
	last := stamp(p.cfg.HBAFile)
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := stamp(p.cfg.HBAFile)
		if s == last {
			continue
		}
		last = s
		if !s.ok {
			p.log.Warn("pg_hba.conf vanished; keeping the rules in force", "file", p.cfg.HBAFile)
			continue
		}
		p.log.Info("pg_hba.conf changed on disk", "file", p.cfg.HBAFile)
		p.Reload()
	}
}
