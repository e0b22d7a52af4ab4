package main

import (
	"flag"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("listen", ":8443", "address to listen on")
	cert := flag.String("tls-cert", "", "TLS certificate (the API server calls webhooks over HTTPS)")
	key := flag.String("tls-key", "", "TLS key")
	flag.Parse()
	mux := http.NewServeMux()
	mux.Handle("/validate", Handler())
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if *cert == "" {
		log.Fatal(srv.ListenAndServe())
	}
	log.Fatal(srv.ListenAndServeTLS(*cert, *key))
}
