// go-http1: netlab's own Go peer for the HTTP/1.1 stack (standard library only): a net/http server
// with the routes of `netlab serve http1`, and a client whose real http.Transport runs scripted
// situations and reports, as JSON, the decisions it made (the behavioural oracle for netlab's pool).
//
// Usage:
//
//	go-http1 server --listen 127.0.0.1:PORT [--close-idle-after MS] [--header-timeout MS] [--idle-timeout MS]
//	go-http1 client --target http://HOST:PORT --script NAME [--json] [--idle-wait MS]
//
// Exit status: 0 ok; 1 an internal failure; 2 bad arguments; 3 the listener failed.
// See scenarios/http1/interop/README.md.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-http1 server|client ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(os.Args[2:]))
	case "client":
		os.Exit(runClient(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "go-http1: unknown mode %q (server|client)\n", os.Args[1])
		os.Exit(2)
	}
}
