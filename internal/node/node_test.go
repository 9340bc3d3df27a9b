package node_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node"
	"github.com/skiffdb/skiff/internal/node/nodetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

func clients(t *testing.T, addr string) map[string]*redis.Client {
	t.Helper()
	out := map[string]*redis.Client{
		"resp2": redis.NewClient(&redis.Options{Addr: addr, Protocol: 2}),
		"resp3": redis.NewClient(&redis.Options{Addr: addr, Protocol: 3}),
	}
	t.Cleanup(func() {
		for _, c := range out {
			c.Close()
		}
	})
	return out
}

func TestGoRedis_StringsAndKeys(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	for proto, c := range clients(t, n.Addr) {
		t.Run(proto, func(t *testing.T) {
			k := "k:" + proto
			if err := c.Set(ctx, k, "v1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(ctx, k).Result(); err != nil || v != "v1" {
				t.Fatalf("GET = %q %v", v, err)
			}
			if _, err := c.Get(ctx, "missing:"+proto).Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: %v, want redis.Nil", err)
			}
			if ok, err := c.SetNX(ctx, k, "v2", 0).Result(); err != nil || ok {
				t.Fatalf("SETNX existing = %v %v", ok, err)
			}
			if err := c.Set(ctx, k, "v3", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if ttl, err := c.TTL(ctx, k).Result(); err != nil || ttl <= 59*time.Second || ttl > time.Minute {
				t.Fatalf("TTL = %v %v", ttl, err)
			}
			cnt := "cnt:" + proto
			for i := 1; i <= 3; i++ {
				if v, err := c.Incr(ctx, cnt).Result(); err != nil || v != int64(i) {
					t.Fatalf("INCR = %d %v", v, err)
				}
			}
			if f, err := c.IncrByFloat(ctx, cnt, 0.5).Result(); err != nil || f != 3.5 {
				t.Fatalf("INCRBYFLOAT = %v %v", f, err)
			}
			if err := c.Incr(ctx, k).Err(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
				t.Fatalf("INCR on text: %v", err)
			}
			vals, err := c.MGet(ctx, k, "missing", cnt).Result()
			if err != nil || vals[0] != "v3" || vals[1] != nil || vals[2] != "3.5" {
				t.Fatalf("MGET = %v %v", vals, err)
			}
			if nd, err := c.Del(ctx, k, cnt, "missing").Result(); err != nil || nd != 2 {
				t.Fatalf("DEL = %d %v", nd, err)
			}
			if err := c.Do(ctx, "NOSUCHCMD", "a").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'NOSUCHCMD'") {
				t.Fatalf("unknown command: %v", err)
			}
		})
	}
}

func TestGoRedis_Pipeline(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	for proto, c := range clients(t, n.Addr) {
		t.Run(proto, func(t *testing.T) {
			pipe := c.Pipeline()
			const N = 1000
			for i := 0; i < N; i++ {
				pipe.Set(ctx, fmt.Sprintf("p:%s:%d", proto, i), i, 0)
			}
			incrs := make([]*redis.IntCmd, N)
			for i := 0; i < N; i++ {
				incrs[i] = pipe.Incr(ctx, fmt.Sprintf("p:%s:%d", proto, i))
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for i, cmd := range incrs {
				if cmd.Val() != int64(i+1) {
					t.Fatalf("INCR %d = %d", i, cmd.Val())
				}
			}
		})
	}
}

func TestGoRedis_ConcurrentClients(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := redis.NewClient(&redis.Options{Addr: n.Addr, PoolSize: 20})
	defer c.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	const workers, each = 20, 200
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := c.Incr(ctx, "shared").Err(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "shared").Int(); err != nil || v != workers*each {
		t.Fatalf("shared = %d %v, want %d", v, err, workers*each)
	}
}

// rawSession writes raw bytes (as nc would) and reads everything the server
// sends until it closes the connection or goes quiet.
func rawSession(t *testing.T, addr, input string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(input)); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func TestInline_LikeNetcat(t *testing.T) {
	n := nodetest.Start(t, nil)
	got := rawSession(t, n.Addr, "SET name Rust\r\nGET name\r\nSET \"a b\" 'c d'\nGET \"a b\"\r\n\r\nGET nokey\r\n")
	want := "+OK\r\n$4\r\nRust\r\n+OK\r\n$3\r\nc d\r\n$-1\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestProtocolError_ClosesOnlyThatConnection(t *testing.T) {
	n := nodetest.Start(t, nil)
	other, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cases := map[string]string{
		"*abc\r\n":                       "-ERR Protocol error: invalid multibulk length\r\n",
		"*1\r\n$abc\r\n":                 "-ERR Protocol error: invalid bulk length\r\n",
		"*1\r\n:5\r\n":                   "-ERR Protocol error: expected '$', got ':'\r\n",
		"SET \"a b\r\n":                  "-ERR Protocol error: unbalanced quotes in request\r\n",
		"*1\r\n$536870913\r\n":           "-ERR Protocol error: invalid bulk length\r\n",
		"PING\r\n*2147483648\r\n":        "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
		strings.Repeat("a", 70000):       "-ERR Protocol error: too big inline request\r\n",
		"*" + strings.Repeat("1", 70000): "-ERR Protocol error: too big mbulk count string\r\n",
	}
	for in, want := range cases {
		if got := rawSession(t, n.Addr, in); got != want {
			t.Errorf("input %.30q: got %q, want %q", in, got, want)
		}
	}
	// The other connection still works.
	if _, err := other.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(other).ReadString('\n')
	if err != nil || line != "+PONG\r\n" {
		t.Fatalf("other connection: %q %v", line, err)
	}
}

func TestPipelinedRepliesLeaveInOneWrite(t *testing.T) {
	n := nodetest.Start(t, nil)
	c, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var req strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&req, "*3\r\n$3\r\nSET\r\n$2\r\nk%d\r\n$1\r\nv\r\n", i%10)
	}
	if _, err := c.Write([]byte(req.String())); err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("+OK\r\n", 100)
	buf := make([]byte, len(want))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	// All replies arrive; the first read normally returns them all at once,
	// but TCP may split, so only the content is asserted.
	got := 0
	for got < len(want) {
		n, err := c.Read(buf[got:])
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		got += n
	}
	if string(buf) != want {
		t.Fatalf("replies = %q", buf)
	}
}

func TestGracefulShutdown_FinishesInFlightAndStops(t *testing.T) {
	cfg := config.Default()
	cfg.RedisAddr = "127.0.0.1:0"
	cfg.RaftAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	nd, err := node.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nd.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := nd.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: nd.RESPAddr(), MaxRetries: -1})
	defer c.Close()
	if err := c.Set(context.Background(), "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node did not stop")
	}
	if _, err := net.DialTimeout("tcp", nd.RESPAddr(), time.Second); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestNew_PortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := config.Default()
	cfg.RedisAddr = ln.Addr().String()
	cfg.RaftAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	_, err = node.New(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("err = %v, want address already in use", err)
	}
}

// TestActiveExpiry: keys past their deadline are removed by the expiry
// cycle (through an operation), without being read.
func TestActiveExpiry(t *testing.T) {
	n := nodetest.Start(t, nil)
	c := redis.NewClient(&redis.Options{Addr: n.Addr})
	defer c.Close()
	ctx := context.Background()
	for i := 0; i < 500; i++ {
		if err := c.Set(ctx, fmt.Sprint("tmp:", i), "x", 30*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Set(ctx, "keep", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		size, err := c.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if size == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbsize still %d after 10s: expiry cycle did not remove expired keys", size)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, err := c.Get(ctx, "keep").Result(); err != nil || v != "x" {
		t.Fatalf("keep = %q %v", v, err)
	}
}

// TestPipeline_WritesAreOneProposalAndRepliesStayInOrder: the writes of one
// pipeline become one log entry, and replies (including errors written
// before any proposal and results of reads between writes) keep their order.
func TestPipeline_WritesAreOneProposalAndRepliesStayInOrder(t *testing.T) {
	n := nodetest.Start(t, nil)
	// A first write settles the new leader's own entries (its no-op).
	if got := rawSession(t, n.Addr, "SET warm 1\r\n"); got != "+OK\r\n" {
		t.Fatalf("warm-up: %q", got)
	}
	before := n.Raft().Status().LastIndex
	var req strings.Builder
	for i := 0; i < 16; i++ {
		fmt.Fprintf(&req, "SET k%d %d\r\n", i, i)
	}
	got := rawSession(t, n.Addr, req.String())
	if got != strings.Repeat("+OK\r\n", 16) {
		t.Fatalf("replies %q", got)
	}
	if d := n.Raft().Status().LastIndex - before; d != 1 {
		t.Fatalf("16 pipelined SETs took %d log entries, want 1", d)
	}
	got = rawSession(t, n.Addr, "SET a 1\r\nSET b\r\nINCR a\r\nFOO\r\nGET a\r\nSET c x EX 0\r\nINCR a\r\nSET d 1 EX 100\r\nTTL d\r\nINCR k0\r\nDEL k1 k2\r\n")
	want := "+OK\r\n" +
		"-ERR wrong number of arguments for 'set' command\r\n" +
		":2\r\n" +
		"-ERR unknown command 'FOO', with args beginning with: \r\n" +
		"$1\r\n2\r\n" +
		"-ERR invalid expire time in 'set' command\r\n" +
		":3\r\n" +
		"+OK\r\n" +
		":100\r\n" +
		":1\r\n" +
		":2\r\n"
	if got != want {
		t.Fatalf("pipeline replies\n got %q\nwant %q", got, want)
	}
}
