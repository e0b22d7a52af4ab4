// Command serve builds the browser playground and serves it on the loopback
// interface:
//
//	go run ./playground/serve              # build into a temporary directory and serve it
//	go run ./playground/serve -dir OUTDIR  # serve a build made by scripts/build-playground.sh
//
// Without -dir it must run inside the repository (it calls
// scripts/build-playground.sh). It listens on 127.0.0.1 only; -addr changes
// the port, and a non-loopback address is refused, since the playground has
// no reason to be reachable from other machines.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8018", "loopback `address` to listen on (port 0: any free port)")
	dir := flag.String("dir", "", "serve this built `directory` instead of building one")
	flag.Parse()
	if err := run(*addr, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func run(addr, dir string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %q: only a loopback address is allowed", addr)
	}
	if dir == "" {
		script := filepath.Join("scripts", "build-playground.sh")
		if _, err := os.Stat(script); err != nil {
			return fmt.Errorf("run from the repository root (no %s here), or pass -dir", script)
		}
		tmp, err := os.MkdirTemp("", "pghba-playground-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("bash", script, tmp)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the playground: %v", err)
		}
		dir = tmp
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return fmt.Errorf("%s has no index.html: build it with scripts/build-playground.sh", dir)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Printf("pghba playground: http://%s/ (Ctrl-C to stop)", ln.Addr())
	// Stop on Ctrl-C or SIGTERM and return, so that the temporary build is removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: Handler(dir), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// Handler serves the built site in dir, with the WebAssembly type set (the
// page compiles main.wasm while it downloads only when the type is right).
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filepath.Ext(r.URL.Path) == ".wasm" {
			w.Header().Set("Content-Type", "application/wasm")
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
