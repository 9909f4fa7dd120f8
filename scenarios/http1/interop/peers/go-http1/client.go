package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bound on one script: a target that never answers must not hang the peer.
const scriptTimeout = 30 * time.Second

// event is one httptrace observation of one request attempt.
type event struct {
	Request    int    `json:"request"`
	Kind       string `json:"kind"` // getConn | gotConn | connectStart | connectDone | wroteRequest | firstByte
	LocalPort  int    `json:"localPort,omitempty"`
	Reused     bool   `json:"reused,omitempty"`
	WasIdle    bool   `json:"wasIdle,omitempty"`
	IdleTimeMs int64  `json:"idleTimeMs,omitempty"`
	Err        string `json:"err,omitempty"`
	AtMs       int64  `json:"atMs"`
}

// outcome is what became of one request.
type outcome struct {
	Request   int    `json:"request"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status,omitempty"`
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"errorKind,omitempty"` // timeout | server-closed | other
	Attempts  int    `json:"attempts"`            // GotConn count: > 1 means the Transport retried
	Retried   bool   `json:"retried"`
	Ports     []int  `json:"ports"` // local port of each attempt's connection
	ElapsedMs int64  `json:"elapsedMs"`
}

// recorder holds a script's observations; the Transport's dial hook counts connections.
type recorder struct {
	mu      sync.Mutex
	start   time.Time
	events  []event
	dials   int
	open    int
	maxOpen int
	reuses  int
}

func (r *recorder) now() int64 { return time.Since(r.start).Milliseconds() }

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.AtMs = r.now()
	r.events = append(r.events, e)
	if e.Kind == "gotConn" && e.Reused {
		r.reuses++
	}
}

// countedConn decrements the open count once when closed.
type countedConn struct {
	net.Conn
	r    *recorder
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.r.mu.Lock()
		c.r.open--
		c.r.mu.Unlock()
	})
	return c.Conn.Close()
}

func (r *recorder) transport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			r.mu.Lock()
			r.dials++
			r.open++
			if r.open > r.maxOpen {
				r.maxOpen = r.open
			}
			r.mu.Unlock()
			return &countedConn{Conn: c, r: r}, nil
		},
		// Plain HTTP/1.1 only: no HTTP/2 upgrade path in the oracle.
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
}

func localPort(c net.Conn) int {
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// do sends one request through t and records its trace as request number n.
func (r *recorder) do(ctx context.Context, client *http.Client, n int, method, target, path, body string) outcome {
	return r.doWith(ctx, client, n, method, target, path, body, nil)
}

// doWith is do with extra request headers.
func (r *recorder) doWith(ctx context.Context, client *http.Client, n int, method, target, path, body string,
	header http.Header) outcome {
	o := outcome{Request: n, Method: method, Path: path, Ports: []int{}}
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { r.add(event{Request: n, Kind: "getConn"}) },
		GotConn: func(info httptrace.GotConnInfo) {
			p := localPort(info.Conn)
			r.mu.Lock()
			o.Attempts++
			o.Ports = append(o.Ports, p)
			r.mu.Unlock()
			r.add(event{Request: n, Kind: "gotConn", LocalPort: p, Reused: info.Reused, WasIdle: info.WasIdle,
				IdleTimeMs: info.IdleTime.Milliseconds()})
		},
		ConnectStart: func(string, string) { r.add(event{Request: n, Kind: "connectStart"}) },
		ConnectDone: func(_, _ string, err error) {
			e := event{Request: n, Kind: "connectDone"}
			if err != nil {
				e.Err = err.Error()
			}
			r.add(e)
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			e := event{Request: n, Kind: "wroteRequest"}
			if info.Err != nil {
				e.Err = info.Err.Error()
			}
			r.add(e)
		},
		GotFirstResponseByte: func() { r.add(event{Request: n, Kind: "firstByte"}) },
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	begin := time.Now()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, target+path, rd)
	if err != nil {
		o.Error, o.ErrorKind = err.Error(), "other"
		return o
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		o.Status = resp.StatusCode
	}
	o.ElapsedMs = time.Since(begin).Milliseconds()
	r.mu.Lock()
	o.Retried = o.Attempts > 1
	r.mu.Unlock()
	if err != nil {
		o.Error, o.ErrorKind = err.Error(), errorKind(err)
	}
	return o
}

func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF) || strings.Contains(err.Error(), "server closed idle connection"):
		return "server-closed"
	default:
		return "other"
	}
}

func runClient(args []string) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	target := fs.String("target", "", "http://HOST:PORT")
	script := fs.String("script", "", "max-conns | lifo | header-timeout | retry-idle-close")
	asJSON := fs.Bool("json", false, "one JSON line (default: indented JSON)")
	idleWaitMs := fs.Int("idle-wait", 300, "ms; retry-idle-close: how long a connection sits idle before the next request")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !strings.HasPrefix(*target, "http://") {
		fmt.Fprintln(os.Stderr, "go-http1 client: --target http://HOST:PORT is required")
		return 2
	}
	base := strings.TrimSuffix(*target, "/")
	r := &recorder{start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	var result map[string]any
	switch *script {
	case "max-conns":
		result = scriptMaxConns(ctx, r, base)
	case "lifo":
		result = scriptLIFO(ctx, r, base)
	case "header-timeout":
		result = scriptHeaderTimeout(ctx, r, base)
	case "retry-idle-close":
		result = scriptRetry(ctx, r, base, time.Duration(*idleWaitMs)*time.Millisecond)
	default:
		fmt.Fprintf(os.Stderr, "go-http1 client: unknown --script %q\n", *script)
		return 2
	}
	r.mu.Lock()
	result["script"] = *script
	result["target"] = base
	result["goVersion"] = runtime.Version()
	result["dials"] = r.dials
	result["reuses"] = r.reuses
	result["maxOpen"] = r.maxOpen
	result["events"] = r.events
	r.mu.Unlock()
	var out []byte
	var err error
	if *asJSON {
		out, err = json.Marshal(result)
	} else {
		out, err = json.MarshalIndent(result, "", "  ")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-http1 client: %v\n", err)
		return 1
	}
	fmt.Println(string(out))
	return 0
}

// (a) MaxConnsPerHost 4, 20 concurrent requests: never more than 4 connections open at once.
func scriptMaxConns(ctx context.Context, r *recorder, base string) map[string]any {
	t := r.transport()
	t.MaxConnsPerHost = 4
	defer t.CloseIdleConnections()
	client := &http.Client{Transport: t}
	const n = 20
	outs := make([]outcome, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outs[i] = r.do(ctx, client, i, http.MethodGet, base, "/delay/50", "")
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, o := range outs {
		if o.Status == 200 {
			ok++
		}
	}
	return map[string]any{"maxConnsPerHost": 4, "requests": n, "ok": ok, "outcomes": outs}
}

// (b) LIFO: three connections go idle in a known order; three held requests then pick them.
func scriptLIFO(ctx context.Context, r *recorder, base string) map[string]any {
	t := r.transport()
	t.MaxIdleConnsPerHost = 3
	defer t.CloseIdleConnections()
	client := &http.Client{Transport: t}
	// Phase 1: three concurrent requests finishing 100 ms apart, so their connections go idle
	// in the order of the delays.
	delays := []int{50, 150, 250}
	first := make([]outcome, len(delays))
	var wg sync.WaitGroup
	for i, d := range delays {
		wg.Add(1)
		go func(i, d int) {
			defer wg.Done()
			first[i] = r.do(ctx, client, i, http.MethodGet, base, "/delay/"+strconv.Itoa(d), "")
		}(i, d)
	}
	wg.Wait()
	idleOrder := []int{}
	for _, o := range first {
		if len(o.Ports) > 0 {
			idleOrder = append(idleOrder, o.Ports[len(o.Ports)-1])
		}
	}
	// Phase 2: three requests started 40 ms apart, each held 300 ms, so each pick happens while
	// the earlier picks are still busy: the picks show the idle list's order.
	second := make([]outcome, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			second[i] = r.do(ctx, client, 3+i, http.MethodGet, base, "/delay/300", "")
		}(i)
		time.Sleep(40 * time.Millisecond)
	}
	wg.Wait()
	pickOrder := []int{}
	for _, o := range second {
		if len(o.Ports) > 0 {
			pickOrder = append(pickOrder, o.Ports[0])
		}
	}
	reversed := make([]int, len(idleOrder))
	for i, p := range idleOrder {
		reversed[len(idleOrder)-1-i] = p
	}
	lifo := len(pickOrder) == len(reversed)
	for i := range pickOrder {
		if !lifo || pickOrder[i] != reversed[i] {
			lifo = false
			break
		}
	}
	fifo := len(pickOrder) == len(idleOrder)
	for i := range pickOrder {
		if !fifo || pickOrder[i] != idleOrder[i] {
			fifo = false
			break
		}
	}
	pick := "other"
	if lifo {
		pick = "lifo"
	} else if fifo {
		pick = "fifo"
	}
	return map[string]any{"idleOrder": idleOrder, "pickOrder": pickOrder, "pick": pick,
		"outcomes": append(first, second...)}
}

// (c) ResponseHeaderTimeout 200 ms against /delay/1000 on a reused connection: a timeout error,
// not retried.
func scriptHeaderTimeout(ctx context.Context, r *recorder, base string) map[string]any {
	t := r.transport()
	t.ResponseHeaderTimeout = 200 * time.Millisecond
	defer t.CloseIdleConnections()
	client := &http.Client{Transport: t}
	warm := r.do(ctx, client, 0, http.MethodGet, base, "/", "")
	slow := r.do(ctx, client, 1, http.MethodGet, base, "/delay/1000", "")
	return map[string]any{"responseHeaderTimeoutMs": 200, "outcomes": []outcome{warm, slow}}
}

// (d) GET retried and POST not after the server closes an idle keep-alive connection as the
// request arrives (the server runs with --close-idle-after below --idle-wait).
func scriptRetry(ctx context.Context, r *recorder, base string, idleWait time.Duration) map[string]any {
	t := r.transport()
	defer t.CloseIdleConnections()
	client := &http.Client{Transport: t}
	outs := []outcome{}
	outs = append(outs, r.do(ctx, client, 0, http.MethodGet, base, "/", ""))
	time.Sleep(idleWait)
	outs = append(outs, r.do(ctx, client, 1, http.MethodGet, base, "/", ""))
	time.Sleep(idleWait)
	outs = append(outs, r.do(ctx, client, 2, http.MethodPost, base, "/echo", "netlab-post"))
	// The POST's failure leaves no idle connection: a fresh one answers the next POST.
	outs = append(outs, r.do(ctx, client, 3, http.MethodPost, base, "/echo", "netlab-post"))
	time.Sleep(idleWait)
	// A POST marked idempotent, with a rewindable body (NewRequest sets GetBody for a
	// strings.Reader), is replayable: Go retries it like the GET.
	outs = append(outs, r.doWith(ctx, client, 4, http.MethodPost, base, "/echo", "netlab-post",
		http.Header{"Idempotency-Key": {"netlab-1"}}))
	// Requests 1 (GET), 2 (POST) and 4 (POST with Idempotency-Key) are the ones sent on a
	// connection the server drops.
	return map[string]any{"idleWaitMs": idleWait.Milliseconds(), "outcomes": outs,
		"retried": map[string]bool{"get": outs[1].Retried, "post": outs[2].Retried, "postIdempotencyKey": outs[4].Retried}}
}
