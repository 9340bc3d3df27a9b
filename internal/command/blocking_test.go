package command_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/node/nodetest"
)

// waitBlocked polls INFO clients until blocked_clients is n.
func waitBlocked(t *testing.T, rc *redis.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := rc.Info(context.Background(), "clients").Result()
		if err == nil && strings.Contains(info, "blocked_clients:"+strconv.Itoa(n)+"\r\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocked_clients never reached %d: %q", n, info)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBlocking_FIFOWakeByPush(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: n.Addr})
	defer admin.Close()

	type res struct {
		i   int
		val []string
		err error
	}
	out := make(chan res, 3)
	for i := range 3 {
		c := redis.NewClient(&redis.Options{Addr: n.Addr, ReadTimeout: -1})
		defer c.Close()
		go func() {
			v, err := c.BLPop(ctx, 0, "none", "q").Result()
			out <- res{i, v, err}
		}()
		waitBlocked(t, admin, i+1) // block in a known order
	}
	if err := admin.RPush(ctx, "q", "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for range 3 {
		r := <-out
		if r.err != nil || len(r.val) != 2 || r.val[0] != "q" {
			t.Fatalf("client %d: %v %v", r.i, r.val, r.err)
		}
		got[r.i] = r.val[1]
	}
	if got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("served out of blocking order: %v", got)
	}
	waitBlocked(t, admin, 0)
	if l := admin.LLen(ctx, "q").Val(); l != 0 {
		t.Fatalf("list left with %d elements", l)
	}
}

func TestBlocking_TimeoutUnblockAndDisconnect(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: n.Addr})
	defer admin.Close()

	// A fractional timeout returns a null reply, not before it elapses.
	start := time.Now()
	if err := admin.Do(ctx, "BLPOP", "nothing", "0.15").Err(); err != redis.Nil {
		t.Fatalf("BLPOP timeout: %v, want nil reply", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("BLPOP 0.15 returned after %v", d)
	}

	// CLIENT UNBLOCK: TIMEOUT gives the null reply, ERROR the UNBLOCKED error.
	for _, mode := range []string{"TIMEOUT", "ERROR"} {
		c := redis.NewClient(&redis.Options{Addr: n.Addr, ReadTimeout: -1})
		id := c.ClientID(ctx).Val()
		done := make(chan error, 1)
		go func() { done <- c.BRPopLPush(ctx, "src", "dst", 0).Err() }()
		waitBlocked(t, admin, 1)
		if v := admin.Do(ctx, "CLIENT", "UNBLOCK", id, mode).Val(); v != int64(1) {
			t.Fatalf("CLIENT UNBLOCK %s = %v, want 1", mode, v)
		}
		err := <-done
		switch mode {
		case "TIMEOUT":
			if err != redis.Nil {
				t.Fatalf("unblocked with TIMEOUT: %v", err)
			}
		case "ERROR":
			if err == nil || err.Error() != "UNBLOCKED client unblocked via CLIENT UNBLOCK" {
				t.Fatalf("unblocked with ERROR: %v", err)
			}
		}
		waitBlocked(t, admin, 0)
		if v := admin.Do(ctx, "CLIENT", "UNBLOCK", id).Val(); v != int64(0) {
			t.Fatalf("CLIENT UNBLOCK of an unblocked client = %v", v)
		}
		c.Close()
	}

	// A blocked client that disconnects stops waiting and takes nothing.
	conn, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "BLPOP gone 0\r\n")
	waitBlocked(t, admin, 1)
	conn.Close()
	waitBlocked(t, admin, 0)
	admin.RPush(ctx, "gone", "x")
	if v := admin.LRange(ctx, "gone", 0, -1).Val(); len(v) != 1 {
		t.Fatalf("a disconnected waiter took an element: %v", v)
	}
}

// Commands pipelined behind a blocking one run after it is served, in order.
func TestBlocking_PipelinedAfterBlock(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: n.Addr})
	defer admin.Close()
	conn, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PING\r\nBLMOVE src dst LEFT RIGHT 0\r\nLRANGE dst 0 -1\r\n")
	waitBlocked(t, admin, 1)
	admin.RPush(ctx, "src", "v")
	rd := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var lines []string
	for len(lines) < 6 {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", lines, err)
		}
		lines = append(lines, strings.TrimRight(l, "\r\n"))
	}
	want := []string{"+PONG", "$1", "v", "*1", "$1", "v"}
	if strings.Join(lines, " ") != strings.Join(want, " ") {
		t.Fatalf("replies %q, want %q", lines, want)
	}
}

// A pub/sub subscriber receives in publish order; one that never reads is
// disconnected at the output-buffer limit while the publisher goes on.
func TestPubSub_OrderAndSlowSubscriberLimit(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	pub := redis.NewClient(&redis.Options{Addr: n.Addr})
	defer pub.Close()
	sub := pub.Subscribe(ctx, "ch")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the confirmation
		t.Fatal(err)
	}
	for i := range 100 {
		if err := pub.Publish(ctx, "ch", strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		m, err := sub.ReceiveMessage(ctx)
		if err != nil || m.Payload != strconv.Itoa(i) {
			t.Fatalf("message %d: %v %v", i, m, err)
		}
	}

	// A raw subscriber that never reads; the limit is lowered to 64 KiB.
	if err := pub.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 65536 0 0").Err(); err != nil {
		t.Fatal(err)
	}
	slow, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "SUBSCRIBE big\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for pub.PubSubNumSub(ctx, "big").Val()["big"] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("slow subscriber never subscribed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	payload := strings.Repeat("x", 32<<10)
	for i := 0; pub.PubSubNumSub(ctx, "big").Val()["big"] == 1; i++ {
		if i > 10000 || time.Now().After(deadline) {
			t.Fatal("a subscriber that never reads was never disconnected")
		}
		if err := pub.Publish(ctx, "big", payload).Err(); err != nil {
			t.Fatalf("publisher slowed or failed: %v", err)
		}
	}
	_ = slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		_, err := slow.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("slow subscriber's connection was not closed")
			}
			break
		}
	}
}

func TestBlocking_ZSetWokenByZAdd(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: n.Addr})
	defer admin.Close()
	c := redis.NewClient(&redis.Options{Addr: n.Addr, ReadTimeout: -1})
	defer c.Close()
	done := make(chan *redis.ZWithKey, 1)
	go func() {
		v, err := c.BZPopMin(ctx, 0, "z").Result()
		if err != nil {
			t.Error(err)
		}
		done <- v
	}()
	waitBlocked(t, admin, 1)
	admin.ZAdd(ctx, "z", redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 1, Member: "a"})
	v := <-done
	if v == nil || v.Key != "z" || v.Member != "a" || v.Score != 1 {
		t.Fatalf("BZPOPMIN served %+v", v)
	}
	if m := admin.ZRange(ctx, "z", 0, -1).Val(); len(m) != 1 || m[0] != "b" {
		t.Fatalf("zset left as %v", m)
	}
}
