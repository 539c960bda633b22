// Command hello is the example service: an HTTP server whose /version endpoint shows its version string.
// Edit version below, then poke reloader (curl -X POST localhost:7070/restart) to serve the new one.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

const version = "hello v1"

func main() {
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	http.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, version)
	})
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	log.Printf("%s listening on %s", version, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
