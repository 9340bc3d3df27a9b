package command

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

func TestNotify_ChannelNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{string(appendKeyspaceChannel(nil, 0, []byte("foo"))), "__keyspace@0__:foo"},
		{string(appendKeyspaceChannel(nil, 15, []byte("a b\r\n"))), "__keyspace@15__:a b\r\n"},
		{string(appendKeyspaceChannel(nil, 3, nil)), "__keyspace@3__:"},
		{string(appendKeyeventChannel(nil, 0, "set")), "__keyevent@0__:set"},
		{string(appendKeyeventChannel(nil, 123456, "rename_from")), "__keyevent@123456__:rename_from"},
		{string(appendKeyeventChannel([]byte("x"), 1, "del")), "x__keyevent@1__:del"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// selects reports which of the feed's classes a value publishes, and on
// which channels, as a compact string: "K E" then the class letters.
func selects(raw string) string {
	var n notifyState
	n.set(raw)
	f := n.flags.Load()
	var b strings.Builder
	if f&nkKeyspace != 0 {
		b.WriteByte('K')
	}
	if f&nkKeyevent != 0 {
		b.WriteByte('E')
	}
	b.WriteByte(':')
	for _, c := range []struct {
		class  store.EventClass
		letter byte
	}{
		{store.ClassGeneric, 'g'}, {store.ClassString, '$'}, {store.ClassList, 'l'}, {store.ClassSet, 's'},
		{store.ClassHash, 'h'}, {store.ClassZSet, 'z'}, {store.ClassExpired, 'x'}, {store.ClassEvicted, 'e'},
		{store.ClassStream, 't'}, {store.ClassNew, 'n'}, {store.ClassDB, 'D'}, {store.ClassPublish, 'P'},
	} {
		if f&notifyClass(c.class) != 0 {
			b.WriteByte(c.letter)
		}
	}
	return b.String()
}

func TestNotify_Flags(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", ":"},
		{"K", ":"},          // no class: nothing to publish
		{"A", ":"},          // neither K nor E
		{"g$lshzxetd", ":"}, // idem
		{"KA", "K:g$lshzxet"},
		{"KEA", "KE:g$lshzxet"},
		{"AKEn", "KE:g$lshzxetn"}, // 'n' applies next to 'A' (CONFIG GET prints "AKE", as Redis)
		{"Kn", "K:n"},
		{"E$", "E:$"},
		{"Egx", "E:gx"},
		{"KEm", ":"}, // key-miss events: skiff emits none
		{"Kd", "K:"}, // module events: idem
		{"Q", ":"},   // invalid (refused by CONFIG SET before it gets here)
		{"KEA?", ":"},
	} {
		if got := selects(tc.raw); got != tc.want {
			t.Errorf("%q selects %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestNotify_ParamHook(t *testing.T) {
	p, err := newParams(map[string]string{"notify-keyspace-events": "Kx"})
	if err != nil {
		t.Fatal(err)
	}
	if p.notify.flags.Load() != nkKeyspace|nkExpired {
		t.Fatalf("initial Kx: flags %b", p.notify.flags.Load())
	}
	if err := p.Set([][2]string{{"notify-keyspace-events", "AKEn"}}); err != nil {
		t.Fatal(err)
	}
	if got := p.Get("notify-keyspace-events"); got != "AKE" {
		t.Fatalf("CONFIG GET = %q, want Redis's %q", got, "AKE")
	}
	want := uint32(nkAll | nkNew | nkKeyspace | nkKeyevent)
	if p.notify.flags.Load() != want {
		t.Fatalf("AKEn: flags %b, want %b", p.notify.flags.Load(), want)
	}
	// A refused value changes nothing, in either pair of an atomic CONFIG SET.
	err = p.Set([][2]string{{"notify-keyspace-events", "E"}, {"hz", "x"}})
	if err == nil || p.notify.flags.Load() != want {
		t.Fatalf("refused CONFIG SET: err %v, flags %b", err, p.notify.flags.Load())
	}
	err = p.Set([][2]string{{"notify-keyspace-events", "KEQ"}})
	const redisErr = "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	if err == nil || err.Error() != redisErr || p.notify.flags.Load() != want {
		t.Fatalf("KEQ: err %v, flags %b", err, p.notify.flags.Load())
	}
	if err := p.Set([][2]string{{"notify-keyspace-events", ""}}); err != nil || p.notify.flags.Load() != 0 {
		t.Fatalf("disable: err %v, flags %b", err, p.notify.flags.Load())
	}
}

// TestNotify_NoAllocs: with notifications off an event costs one atomic
// load; on (and nobody subscribed), formatting reuses its buffer.
func TestNotify_NoAllocs(t *testing.T) {
	p, err := newParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{params: p}
	ev := &store.Event{DB: 3, Class: store.ClassString, Name: "set", Key: []byte("some:key")}
	if n := testing.AllocsPerRun(100, func() { s.notifyKeyspace(ev) }); n != 0 {
		t.Fatalf("disabled: %v allocs per event", n)
	}
	if err := p.Set([][2]string{{"notify-keyspace-events", "KEA"}}); err != nil {
		t.Fatal(err)
	}
	s.notifyKeyspace(ev) // grows the buffer once
	if n := testing.AllocsPerRun(100, func() { s.notifyKeyspace(ev) }); n != 0 {
		t.Fatalf("enabled: %v allocs per event", n)
	}
	big := &store.Event{Class: store.ClassGeneric, Name: "del", Key: make([]byte, notifyBufMax+1)}
	s.notifyKeyspace(big)
	if cap(p.notify.buf) > notifyBufMax {
		t.Fatalf("kept a %d-byte buffer after a huge key", cap(p.notify.buf))
	}
}

func BenchmarkNotifyDisabled(b *testing.B) {
	p, _ := newParams(nil)
	s := &Server{params: p}
	ev := &store.Event{Class: store.ClassString, Name: "set", Key: []byte("key")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.OnEvent(ev)
	}
}

// pushConn is a Conn that records pushed messages.
type pushConn struct {
	mu   sync.Mutex
	msgs []string
}

func (c *pushConn) Push(msg []byte, _ OutputLimit) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, string(msg))
	return true
}
func (c *pushConn) Pending() int64                           { return 0 }
func (c *pushConn) Flush(w *resp.Writer) error               { return w.Flush() }
func (c *pushConn) WaitStart(w *resp.Writer) <-chan struct{} { return nil }
func (c *pushConn) WaitEnd()                                 {}
func (c *pushConn) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.msgs
	c.msgs = nil
	return m
}
func (c *pushConn) String() string { return fmt.Sprint(c.msgs) }

// pmessage renders a RESP2 pmessage push as "channel message".
func pmessage(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, "\r\n")
	// *4 $8 pmessage $n pattern $n channel $n message ""
	if len(parts) != 10 || parts[0] != "*4" || parts[2] != "pmessage" {
		t.Fatalf("not a pmessage: %q", raw)
	}
	return parts[6] + " " + parts[8]
}

// TestNotify_Delivery runs commands on a server whose store feeds OnEvent,
// with a PSUBSCRIBEd client, and checks the notifications it receives
// (recorded from redis-server 7.0.15 with the same commands).
func TestNotify_Delivery(t *testing.T) {
	s := srvNew(t, nil)
	s.eng.Store().SetListener(s.OnEvent)
	t.Cleanup(func() { s.eng.Store().SetListener(nil) })
	sub := srvDial(t, s, "127.0.0.1:5001")
	pc := &pushConn{}
	sub.c.Conn = pc
	if got := sub.exec("PSUBSCRIBE", "__key*__:*"); !strings.Contains(got, "psubscribe") {
		t.Fatalf("PSUBSCRIBE: %q", got)
	}
	cl := srvDial(t, s, "127.0.0.1:5002")
	steps := []struct {
		cmd  []string
		want []string
	}{
		{[]string{"SET", "k", "v"}, nil}, // notifications off
		{[]string{"CONFIG", "SET", "notify-keyspace-events", "KEA"}, nil},
		{[]string{"SET", "k", "v"}, []string{"__keyspace@0__:k set", "__keyevent@0__:set k"}},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{
			"__keyspace@0__:k set", "__keyevent@0__:set k", "__keyspace@0__:k expire", "__keyevent@0__:expire k"}},
		{[]string{"RENAME", "k", "j"}, []string{
			"__keyspace@0__:k rename_from", "__keyevent@0__:rename_from k",
			"__keyspace@0__:j rename_to", "__keyevent@0__:rename_to j"}},
		{[]string{"SELECT", "5"}, nil},
		{[]string{"RPUSH", "a b", "x", "y"}, []string{"__keyspace@5__:a b rpush", "__keyevent@5__:rpush a b"}},
		{[]string{"RPOPLPUSH", "a b", "l2"}, []string{
			"__keyspace@5__:l2 lpush", "__keyevent@5__:lpush l2",
			"__keyspace@5__:a b rpop", "__keyevent@5__:rpop a b"}},
		{[]string{"CONFIG", "SET", "notify-keyspace-events", "AKEn"}, nil},
		{[]string{"HSET", "h", "f", "v"}, []string{
			"__keyspace@5__:h new", "__keyevent@5__:new h", "__keyspace@5__:h hset", "__keyevent@5__:hset h"}},
		{[]string{"CONFIG", "SET", "notify-keyspace-events", "Eg"}, nil},
		{[]string{"SADD", "s", "m"}, nil},
		{[]string{"SREM", "s", "m"}, []string{"__keyevent@5__:del s"}},
		{[]string{"FLUSHALL"}, nil}, // not a keyspace notification
		{[]string{"CONFIG", "SET", "notify-keyspace-events", "Kl"}, nil},
		{[]string{"LPUSHX", "nokey", "a"}, nil}, // changed nothing
		{[]string{"LPUSH", "l", "a"}, []string{"__keyspace@5__:l lpush"}},
		{[]string{"CONFIG", "SET", "notify-keyspace-events", ""}, nil},
		{[]string{"LPUSH", "l", "a"}, nil},
	}
	for _, st := range steps {
		if r := cl.exec(st.cmd...); strings.HasPrefix(r, "-") {
			t.Fatalf("%q: %q", st.cmd, r)
		}
		var got []string
		for _, m := range pc.take() {
			got = append(got, pmessage(t, m))
		}
		if strings.Join(got, "|") != strings.Join(st.want, "|") {
			t.Errorf("%q:\n got  %q\n want %q", st.cmd, got, st.want)
		}
	}
}
