package command_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/node/nodetest"
)

// rawConn is a line-oriented test connection.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

func (r *rawConn) send(cmds ...string) {
	for _, cmd := range cmds {
		fmt.Fprintf(r.c, "%s\r\n", cmd)
	}
}

// expect reads lines and fails unless they are want, in order.
func (r *rawConn) expect(want ...string) {
	r.t.Helper()
	for _, w := range want {
		l, err := r.rd.ReadString('\n')
		if err != nil || strings.TrimRight(l, "\r\n") != w {
			r.t.Fatalf("got %q (%v), want %q", l, err, w)
		}
	}
}

// skipUntil reads lines until one equals want.
func (r *rawConn) skipUntil(want string) {
	r.t.Helper()
	for {
		l, err := r.rd.ReadString('\n')
		if err != nil {
			r.t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.TrimRight(l, "\r\n") == want {
			return
		}
	}
}

// RESP2 tracking redirected to a subscribed connection gets the
// invalidations as __redis__:invalidate messages.
func TestTracking_RedirectRESP2(t *testing.T) {
	n := nodetest.Start(t, nil)
	sink := dialRaw(t, n.Addr)
	sink.send("CLIENT ID")
	l, err := sink.rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, ":") {
		t.Fatalf("CLIENT ID: %q %v", l, err)
	}
	id := strings.TrimSpace(l[1:])
	sink.send("SUBSCRIBE __redis__:invalidate")
	sink.expect("*3", "$9", "subscribe", "$20", "__redis__:invalidate", ":1")

	reader := dialRaw(t, n.Addr)
	reader.send("CLIENT TRACKING ON REDIRECT "+id, "CLIENT GETREDIR", "GET k")
	reader.expect("+OK", ":"+id, "$-1")

	w := dialRaw(t, n.Addr)
	w.send("SET k v")
	w.expect("+OK")
	sink.expect("*3", "$7", "message", "$20", "__redis__:invalidate", "*1", "$1", "k")

	// The redirect target goes away: the RESP2 reader cannot be told, and
	// TRACKINGINFO says the redirect is broken.
	sink.c.Close()
	reader.send("GET k")
	reader.expect("$1", "v")
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.send("SET k v2")
		w.expect("+OK")
		reader.send("CLIENT TRACKINGINFO", "GET k")
		reader.expect("*6", "$5", "flags")
		l, _ := reader.rd.ReadString('\n')
		n := strings.TrimSpace(l)
		flags := []string{}
		for i := 0; i < 2*atoi(t, n[1:]); i++ {
			x, _ := reader.rd.ReadString('\n')
			if !strings.HasPrefix(x, "$") {
				flags = append(flags, strings.TrimSpace(x))
			}
		}
		reader.skipUntil("v2")
		if strings.Contains(strings.Join(flags, " "), "broken_redirect") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("flags never showed broken_redirect: %v", flags)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// rueidis's cached read: CLIENT CACHING YES, then MULTI PTTL GET EXEC in
// OPTIN mode: both keys of the transaction are tracked.
func TestTracking_OptInTransaction(t *testing.T) {
	n := nodetest.Start(t, nil)
	r := dialRaw(t, n.Addr)
	r.send("HELLO 3")
	r.skipUntil("proto") // the HELLO map: skip to its end
	r.skipUntil("modules")
	r.skipUntil("*0")
	r.send("CLIENT TRACKING ON OPTIN", "CLIENT CACHING YES", "MULTI", "PTTL k", "GET k", "EXEC")
	r.expect("+OK", "+OK", "+OK", "+QUEUED", "+QUEUED", "*2", ":-2", "_")
	w := dialRaw(t, n.Addr)
	w.send("SET k v")
	w.expect("+OK")
	r.expect(">2", "$10", "invalidate", "*1", "$1", "k")
	// The CACHING flag ended with EXEC: a later read is not tracked.
	r.send("GET k")
	r.expect("$1", "v")
	w.send("SET k v2", "SET other x")
	w.expect("+OK", "+OK")
	r.send("PING")
	r.expect("+PONG")
}
