package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOnlyLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8018", ":8018", "192.0.2.1:80", "example.com:80", "nonsense"} {
		if err := run(addr, t.TempDir()); err == nil || !strings.Contains(err.Error(), "-addr") {
			t.Errorf("%s: %v, want a refusal", addr, err)
		}
	}
}

func TestDirWithoutIndexIsRefused(t *testing.T) {
	err := run("127.0.0.1:0", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no index.html") {
		t.Errorf("%v", err)
	}
}

func TestHandlerServesWasmType(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"index.html": "<!doctype html>", "main.wasm": "\x00asm\x01\x00\x00\x00"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	for path, want := range map[string]string{"/main.wasm": "application/wasm", "/": "text/html; charset=utf-8"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || got != want {
			t.Errorf("%s: %d %q, want 200 %q", path, resp.StatusCode, got, want)
		}
	}
}
