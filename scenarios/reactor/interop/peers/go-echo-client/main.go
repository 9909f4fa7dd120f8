// go-echo-client: netlab's own Go peer for the reactor's interop matrix (standard library only).
//
// Usage: go-echo-client URL SIZE[,SIZE...]
//
// URL is tcp://host:port or ipc:///path (unix:///path). For each size in turn it sends one message
// of that many bytes (byte i of message k is (i*31 + k*7 + 1) mod 256) while reading the echo, and
// checks the echo is byte-exact; then it half-closes its side and expects the server's end of
// stream with no byte more. Output: one line. Exit status: 0 echo exact and clean close; 1 a wrong
// echo or an unclean close; 3 the connection failed (refused, reset, or cut short by an end of
// stream: over unix sockets a reset arrives as one); 2 bad arguments.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Bound on the whole exchange: the interop cell has its own bound (10 s), this one keeps a peer
// left alone from hanging forever.
const exchangeTimeout = 60 * time.Second

func pattern(k, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + k*7 + 1)
	}
	return b
}

func fail(status int, format string, args ...interface{}) {
	fmt.Printf(format+"\n", args...)
	os.Exit(status)
}

func main() {
	if len(os.Args) != 3 {
		fail(2, "usage: go-echo-client URL SIZE[,SIZE...]")
	}
	url := os.Args[1]
	var network, address string
	switch {
	case strings.HasPrefix(url, "tcp://"):
		network, address = "tcp", strings.TrimPrefix(url, "tcp://")
	case strings.HasPrefix(url, "ipc://"):
		network, address = "unix", strings.TrimPrefix(url, "ipc://")
	case strings.HasPrefix(url, "unix://"):
		network, address = "unix", strings.TrimPrefix(url, "unix://")
	default:
		fail(2, "bad URL %q (tcp://host:port or ipc:///path)", url)
	}
	var sizes []int
	for _, s := range strings.Split(os.Args[2], ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fail(2, "bad size %q", s)
		}
		sizes = append(sizes, n)
	}

	conn, err := net.Dial(network, address)
	if err != nil {
		fail(3, "connect: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(exchangeTimeout))

	total := 0
	for k, n := range sizes {
		msg := pattern(k, n)
		werr := make(chan error, 1)
		go func() {
			_, err := conn.Write(msg)
			werr <- err
		}()
		echo := make([]byte, n)
		if _, err := io.ReadFull(conn, echo); err != nil {
			fail(3, "message %d (%d bytes): reading the echo: %v", k, n, err)
		}
		if err := <-werr; err != nil {
			fail(3, "message %d (%d bytes): write: %v", k, n, err)
		}
		if !bytes.Equal(echo, msg) {
			at := 0
			for at < n && echo[at] == msg[at] {
				at++
			}
			fail(1, "message %d (%d bytes): echo differs at byte %d", k, n, at)
		}
		total += n
	}

	var closeWrite interface{ CloseWrite() error }
	switch c := conn.(type) {
	case *net.TCPConn:
		closeWrite = c
	case *net.UnixConn:
		closeWrite = c
	}
	if err := closeWrite.CloseWrite(); err != nil {
		fail(1, "half-close: %v", err)
	}
	extra, err := io.Copy(io.Discard, conn)
	if err != nil {
		fail(1, "after the half-close: %v (expected the server's end of stream)", err)
	}
	if extra != 0 {
		fail(1, "after the half-close: %d unexpected bytes before the end of stream", extra)
	}
	fmt.Printf("ok: %d messages, %d bytes echoed exactly, clean close\n", len(sizes), total)
}
