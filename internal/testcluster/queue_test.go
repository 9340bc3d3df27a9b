package testcluster_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/testcluster"
)

// blockedOn polls a member's INFO until blocked_clients is n.
func blockedOn(t *testing.T, c *testcluster.Cluster, i, n int) {
	t.Helper()
	cl := c.Client(i)
	c.Eventually(func() error {
		info, err := cl.Info(ctx, "clients").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "blocked_clients:"+strconv.Itoa(n)+"\r\n") {
			return fmt.Errorf("member %d: want blocked_clients:%d in %q", i, n, info)
		}
		return nil
	})
}

// A client blocked on a follower is served by a push through another
// follower; messages published on one node reach subscribers on every
// node, in order; a key read with tracking on one node is invalidated by a
// write through another.
func TestCluster_BlockingPubSubTrackingAcrossNodes(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	fs := c.Followers()
	a, b := fs[0].Index, fs[1].Index

	consumer := c.Client(a, func(o *redis.Options) { o.ReadTimeout = -1 })
	got := make(chan []string, 1)
	go func() {
		v, err := consumer.BLPop(ctx, 0, "jobs").Result()
		if err != nil {
			v = []string{"error", err.Error()}
		}
		got <- v
	}()
	blockedOn(t, c, a, 1)
	if err := c.Client(b).RPush(ctx, "jobs", "j1").Err(); err != nil {
		t.Fatal(err)
	}
	if v := <-got; len(v) != 2 || v[0] != "jobs" || v[1] != "j1" {
		t.Fatalf("blocked client on a follower got %v", v)
	}
	blockedOn(t, c, a, 0)
	if n := c.Client(leader.Index).LLen(ctx, "jobs").Val(); n != 0 {
		t.Fatalf("jobs left with %d elements", n)
	}

	// Pub/Sub across nodes.
	subA := c.Client(a).Subscribe(ctx, "news")
	defer subA.Close()
	subL := c.Client(leader.Index).PSubscribe(ctx, "n*")
	defer subL.Close()
	for _, s := range []*redis.PubSub{subA, subL} {
		if _, err := s.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pub := c.Client(b)
	for i := range 50 {
		if err := pub.Publish(ctx, "news", strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for name, s := range map[string]*redis.PubSub{"follower": subA, "leader": subL} {
		for i := range 50 {
			m, err := s.ReceiveMessage(ctx)
			if err != nil || m.Payload != strconv.Itoa(i) || m.Channel != "news" {
				t.Fatalf("%s subscriber, message %d: %v %v", name, i, m, err)
			}
		}
	}

	// Keyspace notifications are emitted by every node from its own feed,
	// expirations (proposed by the leader) included.
	if err := c.Client(a).ConfigSet(ctx, "notify-keyspace-events", "KEA").Err(); err != nil {
		t.Fatal(err)
	}
	ks := c.Client(a).PSubscribe(ctx, "__keyevent@0__:*")
	defer ks.Close()
	if _, err := ks.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Client(b).Set(ctx, "short", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	var events []string
	for len(events) < 3 {
		m, err := ks.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Payload == "short" {
			events = append(events, strings.TrimPrefix(m.Channel, "__keyevent@0__:"))
		}
	}
	if strings.Join(events, " ") != "set expire expired" {
		t.Fatalf("keyspace events on a follower: %v", events)
	}

	// Client-side caching: RESP3 tracking on follower a, write via b.
	conn, err := net.Dial("tcp", c.Nodes[a].RESPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "HELLO 3\r\nCLIENT TRACKING ON\r\nGET cached\r\n")
	readUntil(t, rd, "+OK") // CLIENT TRACKING
	readUntil(t, rd, "_")   // GET cached: null
	if err := c.Client(b).Set(ctx, "cached", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	readUntil(t, rd, ">2")
	want := []string{"$10", "invalidate", "*1", "$6", "cached"}
	for _, w := range want {
		l, err := rd.ReadString('\n')
		if err != nil || strings.TrimRight(l, "\r\n") != w {
			t.Fatalf("invalidation push: got %q %v, want %q", l, err, w)
		}
	}
}

// readUntil reads lines until one equals want.
func readUntil(t *testing.T, rd *bufio.Reader, want string) {
	t.Helper()
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.TrimRight(l, "\r\n") == want {
			return
		}
	}
}

// Consumers blocked on followers keep popping while the leader is killed:
// every acknowledged push is delivered exactly once, and nothing is
// delivered twice.
func TestCluster_BlockingPopAcrossFailover(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	fs := c.Followers()

	const total = 300
	var (
		mu       sync.Mutex
		consumed = map[string]int{}
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for k := range 4 {
		node := fs[k%2].Index
		cl := c.Client(node, func(o *redis.Options) { o.ReadTimeout = 5 * time.Second })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := cl.BLPop(ctx, time.Second, "q").Result()
				if errors.Is(err, redis.Nil) {
					continue
				}
				if err != nil {
					time.Sleep(20 * time.Millisecond) // failover in progress: retry
					continue
				}
				mu.Lock()
				consumed[v[1]]++
				mu.Unlock()
			}
		}()
	}

	producer := c.Client(fs[0].Index)
	acked := map[string]bool{}
	for i := range total {
		if i == total/3 {
			c.Kill(leader.Index)
		}
		v := strconv.Itoa(i)
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := producer.RPush(ctx, "q", v).Err()
			if err == nil {
				acked[v] = true
				break
			}
			if !retriable(err) || time.Now().After(deadline) {
				t.Fatalf("push %d: %v", i, err)
			}
			if strings.Contains(err.Error(), "outcome is unknown") {
				time.Sleep(20 * time.Millisecond)
				break // may or may not have been applied: not retried, so never pushed twice
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Every acknowledged element is eventually consumed.
	c.Eventually(func() error {
		mu.Lock()
		defer mu.Unlock()
		for v := range acked {
			if consumed[v] == 0 {
				return fmt.Errorf("element %s not consumed yet (%d of %d acked consumed)", v, len(consumed), len(acked))
			}
		}
		return nil
	})
	close(stop)
	wg.Wait()
	for v, n := range consumed {
		if n != 1 {
			t.Errorf("element %s delivered %d times", v, n)
		}
	}
	t.Logf("pushed %d, acknowledged %d, consumed %d", total, len(acked), len(consumed))
	if len(acked) < total/2 {
		t.Fatalf("only %d of %d pushes acknowledged across the failover", len(acked), total)
	}
}
