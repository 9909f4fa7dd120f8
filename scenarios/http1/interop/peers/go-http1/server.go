package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds on what a request may ask of the server: a test peer must not be talked into
// allocating or sleeping without limit.
const (
	maxBytesRoute  = 64 << 20 // GET /bytes/N
	maxDelayMs     = 60_000   // GET /delay/MS
	maxEchoBytes   = 16 << 20 // POST /echo
	shutdownBudget = 5 * time.Second
)

// connState is what the server remembers of one connection: when its last response ended, so a
// request arriving after a long idle spell can be treated as the race of a server-side idle close.
type connState struct {
	mu       sync.Mutex
	requests int
	idleFrom time.Time
}

type connKey struct{}

func runServer(args []string) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	closeIdleAfterMs := fs.Int("close-idle-after", 0,
		"ms; a request arriving on a keep-alive connection idle at least this long is not answered: the connection is closed (0: off)")
	headerTimeoutMs := fs.Int("header-timeout", 0, "ms; http.Server.ReadHeaderTimeout (0: none)")
	idleTimeoutMs := fs.Int("idle-timeout", 0, "ms; http.Server.IdleTimeout (0: Go's default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", strings.TrimPrefix(*listen, "tcp://"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-http1 server: %v\n", err)
		return 3
	}
	closeIdleAfter := time.Duration(*closeIdleAfterMs) * time.Millisecond

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		st, _ := r.Context().Value(connKey{}).(*connState)
		if closeIdleAfter > 0 && st != nil && dropAsIdleClosed(st, closeIdleAfter) {
			// The deterministic form of the race: the server had decided to close this idle
			// connection when the request arrived. Nothing is answered; the socket is closed.
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					_ = c.Close()
					return
				}
			}
		}
		route(w, r)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: time.Duration(*headerTimeoutMs) * time.Millisecond,
		IdleTimeout:       time.Duration(*idleTimeoutMs) * time.Millisecond,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connState{})
		},
	}

	done := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
		defer cancel()
		_ = srv.Shutdown(ctx)
		close(done)
	}()
	fmt.Printf("listening tcp://%s\n", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "go-http1 server: %v\n", err)
		return 3
	}
	<-done
	return 0
}

// dropAsIdleClosed counts the request on its connection and says whether it arrives after the
// connection sat idle for at least `after` (never the connection's first request).
func dropAsIdleClosed(st *connState, after time.Duration) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests++
	drop := st.requests > 1 && time.Since(st.idleFrom) >= after
	return drop
}

// markIdle records the end of a response: the connection's idle spell starts now.
func markIdle(r *http.Request) {
	if st, ok := r.Context().Value(connKey{}).(*connState); ok {
		st.mu.Lock()
		st.idleFrom = time.Now()
		st.mu.Unlock()
	}
}

func route(w http.ResponseWriter, r *http.Request) {
	defer markIdle(r)
	path := r.URL.Path
	switch {
	case path == "/" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "netlab\n")
	case path == "/echo" && r.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxEchoBytes+1))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if len(body) > maxEchoBytes {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	case strings.HasPrefix(path, "/bytes/") && r.Method == http.MethodGet:
		n, err := strconv.Atoi(strings.TrimPrefix(path, "/bytes/"))
		if err != nil || n < 0 || n > maxBytesRoute {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		chunk := make([]byte, 32*1024)
		for i := range chunk {
			chunk[i] = byte('a' + i%26)
		}
		for n > 0 {
			k := n
			if k > len(chunk) {
				k = len(chunk)
			}
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
		}
	case strings.HasPrefix(path, "/status/") && r.Method == http.MethodGet:
		code, err := strconv.Atoi(strings.TrimPrefix(path, "/status/"))
		if err != nil || code < 200 || code > 599 {
			http.Error(w, "bad status", http.StatusBadRequest)
			return
		}
		w.WriteHeader(code)
	case strings.HasPrefix(path, "/delay/") && r.Method == http.MethodGet:
		ms, err := strconv.Atoi(strings.TrimPrefix(path, "/delay/"))
		if err != nil || ms < 0 || ms > maxDelayMs {
			http.Error(w, "bad delay", http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "netlab\n")
	default:
		http.NotFound(w, r)
	}
}
