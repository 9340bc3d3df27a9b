package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// classLetters names event classes in test expectations: Redis's
// notify-keyspace-events letters, D for ClassDB, P for ClassPublish.
var classLetters = map[EventClass]string{
	ClassGeneric: "g", ClassString: "$", ClassList: "l", ClassSet: "s", ClassHash: "h",
	ClassZSet: "z", ClassExpired: "x", ClassEvicted: "e", ClassStream: "t", ClassNew: "n",
	ClassDB: "D", ClassPublish: "P",
}

// feedRecorder collects events as "db class name key".
type feedRecorder struct {
	got  []string
	revs []uint64
}

func (r *feedRecorder) listen(ev *Event) int64 {
	r.got = append(r.got, fmt.Sprintf("%d %s %s %s", ev.DB, classLetters[ev.Class], ev.Name, ev.Key))
	r.revs = append(r.revs, ev.Rev)
	return 0
}

// fstep is one operation of a feed test.
type fstep struct {
	db   int
	code op.Code
	args []string
}

func fo(code op.Code, args ...string) fstep { return fstep{code: code, args: args} }

func (st fstep) in(db int) fstep { st.db = db; return st }

func (st fstep) apply(t *testing.T, s *Store, now int64) error {
	t.Helper()
	o := op.Op{Code: st.code, DB: st.db, Time: now}
	for _, a := range st.args {
		o.Args = append(o.Args, []byte(a))
	}
	dec, _, err := op.Decode(op.Encode(&o))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Apply(&dec)
	return err
}

// Times of a feed test: setup runs at tSetup, the operation under test at
// t0; a key with deadline tPast is live during setup and expired at t0.
const (
	tSetup = t0 - 10_000
	tPast  = t0 - 5_000
)

var (
	sPast   = strconv.FormatInt(tPast, 10)
	sFuture = strconv.FormatInt(t0+60_000, 10)
	sT0     = strconv.FormatInt(t0, 10)
)

// set is a plain SET (no flags, deadline at).
func set(key, val, at string) fstep { return fo(op.Set, key, val, "0", at) }

// TestFeed_Events checks the exact event sequence of every operation (names,
// classes, keys and databases, in Redis 7.0's order; the expectations were
// taken from redis-server 7.0.15 with notify-keyspace-events AKEn).
func TestFeed_Events(t *testing.T) {
	flags := func(f int) string { return strconv.Itoa(f) }
	tests := []struct {
		name  string
		setup []fstep
		do    fstep
		want  []string
	}{
		// --- strings ---
		{"SET new", nil, set("k", "v", "0"), []string{"0 n new k", "0 $ set k"}},
		{"SET existing", []fstep{set("k", "a", "0")}, set("k", "v", "0"), []string{"0 $ set k"}},
		{"SET EX", []fstep{set("k", "a", "0")}, set("k", "v", sFuture), []string{"0 $ set k", "0 g expire k"}},
		{"SET KEEPTTL", []fstep{set("k", "a", sFuture)}, fo(op.Set, "k", "v", flags(op.SetKeepTTL), "0"), []string{"0 $ set k"}},
		{"SET NX on existing", []fstep{set("k", "a", "0")}, fo(op.Set, "k", "v", flags(op.SetNX), "0"), nil},
		{"SET XX on missing", nil, fo(op.Set, "k", "v", flags(op.SetXX), "0"), nil},
		{"SET GET", []fstep{set("k", "a", "0")}, fo(op.Set, "k", "v", flags(op.SetGet), "0"), []string{"0 $ set k"}},
		{"SET over expired (lazy expiry)", []fstep{set("k", "a", sPast)}, set("k", "v", "0"),
			[]string{"0 x expired k", "0 n new k", "0 $ set k"}},
		{"SET in db 3", nil, set("k", "v", "0").in(3), []string{"3 n new k", "3 $ set k"}},
		{"MSET", []fstep{set("a", "1", "0"), set("x", "1", sPast)}, fo(op.MSet, "a", "1", "b", "2", "a", "3", "x", "4"),
			[]string{"0 $ set a", "0 n new b", "0 $ set b", "0 $ set a", "0 x expired x", "0 n new x", "0 $ set x"}},
		{"MSETNX", nil, fo(op.MSetNX, "c", "1", "d", "2"), []string{"0 n new c", "0 $ set c", "0 n new d", "0 $ set d"}},
		{"MSETNX blocked", []fstep{set("c", "1", "0")}, fo(op.MSetNX, "c", "1", "d", "2"), nil},
		{"GETDEL", []fstep{set("k", "a", "0")}, fo(op.GetDel, "k"), []string{"0 g del k"}},
		{"GETDEL missing", nil, fo(op.GetDel, "k"), nil},
		{"GETDEL expired", []fstep{set("k", "a", sPast)}, fo(op.GetDel, "k"), []string{"0 x expired k"}},
		{"GETEX EX", []fstep{set("k", "a", "0")}, fo(op.GetEx, "k", sFuture), []string{"0 g expire k"}},
		{"GETEX PERSIST", []fstep{set("k", "a", sFuture)}, fo(op.GetEx, "k", "-1"), []string{"0 g persist k"}},
		{"GETEX PERSIST without TTL", []fstep{set("k", "a", "0")}, fo(op.GetEx, "k", "-1"), nil},
		{"GETEX PXAT past", []fstep{set("k", "a", "0")}, fo(op.GetEx, "k", sT0), []string{"0 g del k"}},
		{"APPEND new", nil, fo(op.Append, "k", "x"), []string{"0 n new k", "0 $ append k"}},
		{"APPEND empty to new", nil, fo(op.Append, "k", ""), []string{"0 n new k", "0 $ append k"}},
		{"APPEND existing", []fstep{set("k", "a", "0")}, fo(op.Append, "k", ""), []string{"0 $ append k"}},
		{"SETRANGE new", nil, fo(op.SetRange, "k", "2", "ab"), []string{"0 n new k", "0 $ setrange k"}},
		{"SETRANGE existing", []fstep{set("k", "a", "0")}, fo(op.SetRange, "k", "0", "b"), []string{"0 $ setrange k"}},
		{"SETRANGE empty on missing", nil, fo(op.SetRange, "k", "0", ""), nil},
		{"SETRANGE empty on existing", []fstep{set("k", "a", "0")}, fo(op.SetRange, "k", "0", ""), nil},
		{"INCRBY new", nil, fo(op.IncrBy, "k", "1"), []string{"0 n new k", "0 $ incrby k"}},
		{"INCRBY existing", []fstep{set("k", "1", "0")}, fo(op.IncrBy, "k", "-1"), []string{"0 $ incrby k"}},
		{"INCRBY not integer", []fstep{set("k", "x", "0")}, fo(op.IncrBy, "k", "1"), nil},
		{"INCRBYFLOAT new", nil, fo(op.IncrByFloat, "k", "1.5"), []string{"0 n new k", "0 $ incrbyfloat k"}},
		{"INCRBYFLOAT existing", []fstep{set("k", "1", "0")}, fo(op.IncrByFloat, "k", "1.5"), []string{"0 $ incrbyfloat k"}},

		// --- keys ---
		{"DEL", []fstep{set("a", "1", "0"), set("b", "1", "0"), set("x", "1", sPast)}, fo(op.Del, "a", "b", "zz", "a", "x"),
			[]string{"0 g del a", "0 g del b", "0 x expired x"}},
		{"EXPIRE", []fstep{set("k", "a", "0")}, fo(op.Expire, "k", sFuture, "0"), []string{"0 g expire k"}},
		{"EXPIRE NX on TTL", []fstep{set("k", "a", sFuture)}, fo(op.Expire, "k", sFuture, strconv.Itoa(op.ExpireNX)), nil},
		{"EXPIRE past", []fstep{set("k", "a", "0")}, fo(op.Expire, "k", sT0, "0"), []string{"0 g del k"}},
		{"EXPIRE missing", nil, fo(op.Expire, "k", sFuture, "0"), nil},
		{"PERSIST", []fstep{set("k", "a", sFuture)}, fo(op.Persist, "k"), []string{"0 g persist k"}},
		{"PERSIST without TTL", []fstep{set("k", "a", "0")}, fo(op.Persist, "k"), nil},
		{"RENAME", []fstep{set("a", "1", "0")}, fo(op.Rename, "a", "b", "0"),
			[]string{"0 n new b", "0 g rename_from a", "0 g rename_to b"}},
		{"RENAME over existing", []fstep{set("a", "1", "0"), set("b", "1", "0")}, fo(op.Rename, "a", "b", "0"),
			[]string{"0 n new b", "0 g rename_from a", "0 g rename_to b"}},
		{"RENAME over expired", []fstep{set("a", "1", "0"), set("b", "1", sPast)}, fo(op.Rename, "a", "b", "0"),
			[]string{"0 x expired b", "0 n new b", "0 g rename_from a", "0 g rename_to b"}},
		{"RENAMENX blocked", []fstep{set("a", "1", "0"), set("b", "1", "0")}, fo(op.Rename, "a", "b", "1"), nil},
		{"RENAME same key", []fstep{set("a", "1", "0")}, fo(op.Rename, "a", "a", "0"), nil},
		{"RENAME expired source", []fstep{set("a", "1", sPast)}, fo(op.Rename, "a", "b", "0"), []string{"0 x expired a"}},
		{"COPY", []fstep{set("a", "1", "0")}, fo(op.Copy, "a", "b", "0", "0"), []string{"0 n new b", "0 g copy_to b"}},
		{"COPY to db 2", []fstep{set("a", "1", "0")}, fo(op.Copy, "a", "b", "2", "0"), []string{"2 n new b", "2 g copy_to b"}},
		{"COPY REPLACE", []fstep{set("a", "1", "0"), set("b", "1", "0")}, fo(op.Copy, "a", "b", "0", "1"),
			[]string{"0 n new b", "0 g copy_to b"}},
		{"COPY blocked", []fstep{set("a", "1", "0"), set("b", "1", "0")}, fo(op.Copy, "a", "b", "0", "0"), nil},
		{"MOVE", []fstep{set("k", "1", "0")}, fo(op.Move, "k", "1"),
			[]string{"1 n new k", "0 g move_from k", "1 g move_to k"}},
		{"MOVE from db 2", []fstep{set("k", "1", "0").in(2)}, fo(op.Move, "k", "5").in(2),
			[]string{"5 n new k", "2 g move_from k", "5 g move_to k"}},
		{"MOVE blocked", []fstep{set("k", "1", "0"), set("k", "1", "0").in(1)}, fo(op.Move, "k", "1"), nil},
		{"MOVE over expired", []fstep{set("k", "1", "0"), set("k", "1", sPast).in(1)}, fo(op.Move, "k", "1"),
			[]string{"1 x expired k", "1 n new k", "0 g move_from k", "1 g move_to k"}},
		{"MOVE expired", []fstep{set("k", "1", sPast)}, fo(op.Move, "k", "1"), []string{"0 x expired k"}},
		{"Expired (active expiry)", []fstep{set("a", "1", sPast), set("b", "1", sFuture), set("c", "1", "0")},
			fo(op.Expired, "a", "b", "c", "zz"), []string{"0 x expired a"}},
		{"FLUSHDB", []fstep{set("a", "1", "0").in(4)}, fo(op.FlushDB).in(4), []string{"4 D flushdb "}},
		{"FLUSHALL", []fstep{set("a", "1", "0")}, fo(op.FlushAll), []string{"-1 D flushall "}},
		{"SWAPDB", nil, fo(op.SwapDB, "1", "3"), []string{"1 D swapdb ", "3 D swapdb "}},
		{"SWAPDB same", nil, fo(op.SwapDB, "2", "2"), nil},

		// --- lists ---
		{"LPUSH new", nil, fo(op.ListPush, "l", "0", "0", "a", "b"), []string{"0 n new l", "0 l lpush l"}},
		{"RPUSH existing", []fstep{fo(op.ListPush, "l", "0", "0", "a")}, fo(op.ListPush, "l", "1", "0", "b", "c"),
			[]string{"0 l rpush l"}},
		{"LPUSHX missing", nil, fo(op.ListPush, "l", "0", "1", "a"), nil},
		{"LPUSHX existing", []fstep{fo(op.ListPush, "l", "0", "0", "a")}, fo(op.ListPush, "l", "0", "1", "b"),
			[]string{"0 l lpush l"}},
		{"LPUSH over expired", []fstep{fo(op.ListPush, "l", "0", "0", "a"), fo(op.Expire, "l", sPast, "0")},
			fo(op.ListPush, "l", "0", "0", "b"), []string{"0 x expired l", "0 n new l", "0 l lpush l"}},
		{"LPUSH wrong type", []fstep{set("l", "a", "0")}, fo(op.ListPush, "l", "0", "0", "b"), nil},
		{"LPOP", []fstep{fo(op.ListPush, "l", "1", "0", "a", "b")}, fo(op.ListPop, "l", "0", "-1"), []string{"0 l lpop l"}},
		{"RPOP last", []fstep{fo(op.ListPush, "l", "1", "0", "a")}, fo(op.ListPop, "l", "1", "-1"),
			[]string{"0 l rpop l", "0 g del l"}},
		{"LPOP count", []fstep{fo(op.ListPush, "l", "1", "0", "a", "b", "c")}, fo(op.ListPop, "l", "0", "2"),
			[]string{"0 l lpop l"}},
		{"LPOP count all", []fstep{fo(op.ListPush, "l", "1", "0", "a", "b")}, fo(op.ListPop, "l", "0", "5"),
			[]string{"0 l lpop l", "0 g del l"}},
		{"LPOP count 0", []fstep{fo(op.ListPush, "l", "1", "0", "a")}, fo(op.ListPop, "l", "0", "0"), nil},
		{"LPOP missing", nil, fo(op.ListPop, "l", "0", "-1"), nil},
		{"LSET", []fstep{fo(op.ListPush, "l", "1", "0", "a")}, fo(op.ListSet, "l", "0", "z"), []string{"0 l lset l"}},
		{"LSET out of range", []fstep{fo(op.ListPush, "l", "1", "0", "a")}, fo(op.ListSet, "l", "5", "z"), nil},
		{"LINSERT", []fstep{fo(op.ListPush, "l", "1", "0", "a")}, fo(op.ListInsert, "l", "1", "a", "q"),
			[]string{"0 l linsert l"}},
		{"LINSERT no pivot", []fstep{fo(op.ListPush, "l", "1", "0", "a")}, fo(op.ListInsert, "l", "1", "zz", "q"), nil},
		{"LREM", []fstep{fo(op.ListPush, "l", "1", "0", "a", "b", "a")}, fo(op.ListRem, "l", "0", "a"),
			[]string{"0 l lrem l"}},
		{"LREM to empty", []fstep{fo(op.ListPush, "l", "1", "0", "a", "a")}, fo(op.ListRem, "l", "0", "a"),
			[]string{"0 l lrem l", "0 g del l"}},
		{"LREM nothing", []fstep{fo(op.ListPush, "l", "1", "0", "a")}, fo(op.ListRem, "l", "0", "b"), nil},
		{"LTRIM keep all", []fstep{fo(op.ListPush, "l", "1", "0", "a", "b")}, fo(op.ListTrim, "l", "0", "-1"),
			[]string{"0 l ltrim l"}},
		{"LTRIM to empty", []fstep{fo(op.ListPush, "l", "1", "0", "a", "b")}, fo(op.ListTrim, "l", "5", "10"),
			[]string{"0 l ltrim l", "0 g del l"}},
		{"LTRIM missing", nil, fo(op.ListTrim, "l", "0", "1"), nil},
		{"RPOPLPUSH to new", []fstep{fo(op.ListPush, "a", "1", "0", "x", "y")}, fo(op.ListMove, "a", "b", "1", "0"),
			[]string{"0 n new b", "0 l lpush b", "0 l rpop a"}},
		{"RPOPLPUSH last to existing", []fstep{fo(op.ListPush, "a", "1", "0", "x"), fo(op.ListPush, "b", "1", "0", "z")},
			fo(op.ListMove, "a", "b", "1", "0"), []string{"0 l lpush b", "0 l rpop a", "0 g del a"}},
		{"LMOVE same list", []fstep{fo(op.ListPush, "a", "1", "0", "x", "y")}, fo(op.ListMove, "a", "a", "0", "1"),
			[]string{"0 l rpush a", "0 l lpop a"}},
		{"LMOVE single-element same list", []fstep{fo(op.ListPush, "a", "1", "0", "x")}, fo(op.ListMove, "a", "a", "1", "1"),
			[]string{"0 l rpush a", "0 l rpop a"}},
		{"LMOVE missing source", nil, fo(op.ListMove, "a", "b", "0", "0"), nil},
		{"LMPOP", []fstep{fo(op.ListPush, "m", "1", "0", "a", "b")}, fo(op.ListMPop, "1", "5", "nol", "m"),
			[]string{"0 l rpop m", "0 g del m"}},
		{"LMPOP some", []fstep{fo(op.ListPush, "m", "1", "0", "a", "b")}, fo(op.ListMPop, "0", "1", "m"),
			[]string{"0 l lpop m"}},
		{"LMPOP none", nil, fo(op.ListMPop, "0", "1", "a", "b"), nil},

		// --- hashes ---
		{"HSET new", nil, fo(op.HSet, "h", "f", "v"), []string{"0 n new h", "0 h hset h"}},
		{"HSET same value", []fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HSet, "h", "f", "v"), []string{"0 h hset h"}},
		{"HSETNX existing field", []fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HSetNX, "h", "f", "w"), nil},
		{"HSETNX new field", []fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HSetNX, "h", "g", "w"), []string{"0 h hset h"}},
		{"HSETNX new key", nil, fo(op.HSetNX, "h", "g", "w"), []string{"0 n new h", "0 h hset h"}},
		{"HDEL nothing", []fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HDel, "h", "nope"), nil},
		{"HDEL some", []fstep{fo(op.HSet, "h", "f", "v", "g", "w")}, fo(op.HDel, "h", "f", "nope"), []string{"0 h hdel h"}},
		{"HDEL all", []fstep{fo(op.HSet, "h", "f", "v", "g", "w")}, fo(op.HDel, "h", "f", "g", "nope"),
			[]string{"0 h hdel h", "0 g del h"}},
		{"HDEL missing", nil, fo(op.HDel, "h", "f"), nil},
		{"HINCRBY new", nil, fo(op.HIncrBy, "h", "a", "1"), []string{"0 n new h", "0 h hincrby h"}},
		{"HINCRBY existing", []fstep{fo(op.HSet, "h", "a", "1")}, fo(op.HIncrBy, "h", "a", "1"), []string{"0 h hincrby h"}},
		{"HINCRBY not integer", []fstep{fo(op.HSet, "h", "a", "x")}, fo(op.HIncrBy, "h", "a", "1"), nil},
		{"HINCRBYFLOAT", []fstep{fo(op.HSet, "h", "a", "1")}, fo(op.HIncrByFloat, "h", "b", "1.5"),
			[]string{"0 h hincrbyfloat h"}},

		// --- sets ---
		{"SADD new", nil, fo(op.SAdd, "s", "a", "b"), []string{"0 n new s", "0 s sadd s"}},
		{"SADD some", []fstep{fo(op.SAdd, "s", "a")}, fo(op.SAdd, "s", "a", "b"), []string{"0 s sadd s"}},
		{"SADD nothing", []fstep{fo(op.SAdd, "s", "a")}, fo(op.SAdd, "s", "a"), nil},
		{"SREM nothing", []fstep{fo(op.SAdd, "s", "a")}, fo(op.SRem, "s", "zz"), nil},
		{"SREM some", []fstep{fo(op.SAdd, "s", "a", "b")}, fo(op.SRem, "s", "a"), []string{"0 s srem s"}},
		{"SREM all", []fstep{fo(op.SAdd, "s", "a", "b")}, fo(op.SRem, "s", "a", "b"), []string{"0 s srem s", "0 g del s"}},
		{"SPOP", []fstep{fo(op.SAdd, "s", "a", "b")}, fo(op.SPop, "s", "a"), []string{"0 s spop s"}},
		{"SPOP all", []fstep{fo(op.SAdd, "s", "a", "b")}, fo(op.SPop, "s", "a", "b"), []string{"0 s spop s", "0 g del s"}},
		{"SPOP members gone", []fstep{fo(op.SAdd, "s", "a")}, fo(op.SPop, "s", "b"), nil},
		{"SMOVE to new", []fstep{fo(op.SAdd, "s", "a", "b")}, fo(op.SMove, "s", "d", "b"),
			[]string{"0 s srem s", "0 n new d", "0 s sadd d"}},
		{"SMOVE last to existing", []fstep{fo(op.SAdd, "s", "a"), fo(op.SAdd, "d", "x")}, fo(op.SMove, "s", "d", "a"),
			[]string{"0 s srem s", "0 g del s", "0 s sadd d"}},
		{"SMOVE member already in dst", []fstep{fo(op.SAdd, "s", "x"), fo(op.SAdd, "d", "x")}, fo(op.SMove, "s", "d", "x"),
			[]string{"0 s srem s", "0 g del s"}},
		{"SMOVE not a member", []fstep{fo(op.SAdd, "s", "a")}, fo(op.SMove, "s", "d", "zz"), nil},
		{"SMOVE same set", []fstep{fo(op.SAdd, "s", "a")}, fo(op.SMove, "s", "s", "a"), nil},
		{"SINTERSTORE new", []fstep{fo(op.SAdd, "a", "1", "2"), fo(op.SAdd, "b", "2", "3")}, fo(op.SInterStore, "c", "a", "b"),
			[]string{"0 n new c", "0 s sinterstore c"}},
		{"SUNIONSTORE existing", []fstep{fo(op.SAdd, "a", "1"), fo(op.SAdd, "c", "9")}, fo(op.SUnionStore, "c", "a"),
			[]string{"0 s sunionstore c"}},
		{"SDIFFSTORE over expired", []fstep{fo(op.SAdd, "a", "1"), set("c", "9", sPast)}, fo(op.SDiffStore, "c", "a"),
			[]string{"0 x expired c", "0 n new c", "0 s sdiffstore c"}},
		{"SINTERSTORE empty over existing", []fstep{fo(op.SAdd, "a", "1"), fo(op.SAdd, "c", "9")},
			fo(op.SInterStore, "c", "a", "nokey"), []string{"0 g del c"}},
		{"SINTERSTORE empty over expired", []fstep{fo(op.SAdd, "a", "1"), set("c", "9", sPast)},
			fo(op.SInterStore, "c", "nokey", "a"), []string{"0 g del c"}},
		{"SDIFFSTORE empty over missing", []fstep{fo(op.SAdd, "a", "1")}, fo(op.SDiffStore, "c", "a", "a"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{})
			for _, st := range tc.setup {
				if err := st.apply(t, s, tSetup); err != nil {
					t.Fatalf("setup %v %q: %v", st.code, st.args, err)
				}
			}
			var r feedRecorder
			s.SetListener(r.listen)
			_ = tc.do.apply(t, s, t0)
			if !slices.Equal(r.got, tc.want) {
				t.Fatalf("events:\n  got  %q\n  want %q", r.got, tc.want)
			}
			for _, rev := range r.revs {
				if rev != s.rev {
					t.Fatalf("event rev %d, want the operation's %d", rev, s.rev)
				}
			}
		})
	}
}

// TestFeed_ErrorsEmitNothing: an operation that fails changes nothing and
// emits nothing.
func TestFeed_ErrorsEmitNothing(t *testing.T) {
	s := New(Options{})
	for _, st := range []fstep{set("str", "x", "0"), fo(op.ListPush, "l", "0", "0", "a"), fo(op.SAdd, "s", "a"), fo(op.HSet, "h", "f", "v")} {
		if err := st.apply(t, s, tSetup); err != nil {
			t.Fatal(err)
		}
	}
	var r feedRecorder
	s.SetListener(r.listen)
	for _, st := range []fstep{
		fo(op.Append, "l", "x"), fo(op.IncrBy, "str", "1"), fo(op.IncrByFloat, "s", "1"), fo(op.SetRange, "h", "0", "x"),
		fo(op.ListPush, "str", "0", "0", "a"), fo(op.ListPop, "s", "0", "-1"), fo(op.ListMove, "l", "str", "0", "0"),
		fo(op.HSet, "l", "f", "v"), fo(op.HIncrBy, "str", "f", "1"), fo(op.SAdd, "h", "a"), fo(op.SMove, "s", "str", "a"),
		fo(op.SInterStore, "d", "s", "str"), fo(op.Rename, "zz", "b", "0"), fo(op.ListSet, "zz", "0", "x"),
	} {
		if err := st.apply(t, s, t0); err == nil {
			t.Fatalf("%v %q: no error", st.code, st.args)
		}
	}
	if len(r.got) != 0 {
		t.Fatalf("failed operations emitted %q", r.got)
	}
}

// TestFeed_ListenerSeesEveryReplicaAlike: two stores applying the same
// operations emit the same events, with increasing revisions.
func TestFeed_ListenerSeesEveryReplicaAlike(t *testing.T) {
	ops := newOpGen(7, 40).ops(3000)
	var a, b feedRecorder
	sa, sb := newSnapStore(), newSnapStore()
	sa.SetListener(a.listen)
	sb.SetListener(b.listen)
	applyOps(sa, ops)
	applyOps(sb, ops)
	if !slices.Equal(a.got, b.got) || len(a.got) == 0 {
		t.Fatalf("replicas emitted different feeds (%d vs %d events)", len(a.got), len(b.got))
	}
	if !slices.IsSorted(a.revs) {
		t.Fatal("event revisions are not increasing")
	}
}

// TestFeed_NoAllocs: emitting costs no allocation, with or without a
// listener (operations on an existing key, which allocate nothing else).
func TestFeed_NoAllocs(t *testing.T) {
	s := New(Options{})
	mk := func(code op.Code, args ...string) *op.Op {
		o := &op.Op{Code: code, Time: t0}
		for _, a := range args {
			o.Args = append(o.Args, []byte(a))
		}
		return o
	}
	ops := []*op.Op{
		mk(op.Set, "k", "v", "0", sFuture),
		mk(op.Persist, "k"),
		mk(op.Expire, "k", sFuture, "0"),
		mk(op.Set, "k", "v", "0", "0"),
		mk(op.Del, "nokey"),
	}
	run := func() {
		for _, o := range ops {
			if _, err := s.Apply(o); err != nil {
				t.Fatal(err)
			}
		}
	}
	run() // warm up the table
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Fatalf("without a listener: %v allocs per run", n)
	}
	var events int
	s.SetListener(func(ev *Event) int64 { events++; return 0 })
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Fatalf("with a listener: %v allocs per run", n)
	}
	if events == 0 {
		t.Fatal("listener saw nothing")
	}
}

// keyRev returns key's entry revision (0 when absent).
func keyRev(s *Store, db int, key string) uint64 {
	if e := s.dbs[db].dict.find([]byte(key)); e != nil {
		return e.rev
	}
	return 0
}

// TestFeed_RevStampedWithEvents: a key that changes in place carries the
// operation's revision (what WATCH compares), and a key that did not change
// keeps its revision: events and revisions agree.
func TestFeed_RevStampedWithEvents(t *testing.T) {
	tests := []struct {
		setup   []fstep
		do      fstep
		key     string
		changed bool
	}{
		{[]fstep{set("k", "a", "0")}, fo(op.Append, "k", "b"), "k", true},
		{[]fstep{set("k", "1", "0")}, fo(op.IncrBy, "k", "1"), "k", true},
		{[]fstep{set("k", "1", "0")}, fo(op.IncrByFloat, "k", "1"), "k", true},
		{[]fstep{set("k", "1", "0")}, fo(op.SetRange, "k", "0", "2"), "k", true},
		{[]fstep{set("k", "1", "0")}, fo(op.GetEx, "k", sFuture), "k", true},
		{[]fstep{set("k", "1", sFuture)}, fo(op.GetEx, "k", "-1"), "k", true},
		{[]fstep{set("k", "1", "0")}, fo(op.GetEx, "k", "-1"), "k", false},
		{[]fstep{set("k", "1", "0")}, fo(op.Expire, "k", sFuture, "0"), "k", true},
		{[]fstep{set("k", "1", sFuture)}, fo(op.Persist, "k"), "k", true},
		{[]fstep{set("k", "1", "0")}, fo(op.Persist, "k"), "k", false},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a")}, fo(op.ListPush, "l", "0", "0", "b"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a", "b")}, fo(op.ListPop, "l", "0", "-1"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a")}, fo(op.ListSet, "l", "0", "b"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a")}, fo(op.ListInsert, "l", "1", "a", "b"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a", "b")}, fo(op.ListRem, "l", "0", "a"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a", "b")}, fo(op.ListTrim, "l", "0", "0"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a", "b")}, fo(op.ListMove, "l", "l", "0", "1"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a", "b"), fo(op.ListPush, "m", "0", "0", "c")}, fo(op.ListMove, "l", "m", "0", "1"), "l", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a", "b"), fo(op.ListPush, "m", "0", "0", "c")}, fo(op.ListMove, "l", "m", "0", "1"), "m", true},
		{[]fstep{fo(op.ListPush, "l", "0", "0", "a", "b")}, fo(op.ListMPop, "0", "1", "l"), "l", true},
		{[]fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HSet, "h", "g", "v"), "h", true},
		{[]fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HSetNX, "h", "g", "v"), "h", true},
		{[]fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HSetNX, "h", "f", "w"), "h", false},
		{[]fstep{fo(op.HSet, "h", "f", "v", "g", "w")}, fo(op.HDel, "h", "f"), "h", true},
		{[]fstep{fo(op.HSet, "h", "f", "v")}, fo(op.HDel, "h", "zz"), "h", false},
		{[]fstep{fo(op.HSet, "h", "f", "1")}, fo(op.HIncrBy, "h", "f", "1"), "h", true},
		{[]fstep{fo(op.HSet, "h", "f", "1")}, fo(op.HIncrByFloat, "h", "f", "1"), "h", true},
		{[]fstep{fo(op.SAdd, "s", "a")}, fo(op.SAdd, "s", "b"), "s", true},
		{[]fstep{fo(op.SAdd, "s", "a")}, fo(op.SAdd, "s", "a"), "s", false},
		{[]fstep{fo(op.SAdd, "s", "a", "b")}, fo(op.SRem, "s", "a"), "s", true},
		{[]fstep{fo(op.SAdd, "s", "a", "b")}, fo(op.SPop, "s", "a"), "s", true},
		{[]fstep{fo(op.SAdd, "s", "a", "b"), fo(op.SAdd, "d", "c")}, fo(op.SMove, "s", "d", "a"), "s", true},
		{[]fstep{fo(op.SAdd, "s", "a", "b"), fo(op.SAdd, "d", "c")}, fo(op.SMove, "s", "d", "a"), "d", true},
		{[]fstep{fo(op.SAdd, "s", "a", "b"), fo(op.SAdd, "d", "a")}, fo(op.SMove, "s", "d", "a"), "d", false},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%v %s on %s", tc.do.code, strings.Join(tc.do.args, " "), tc.key)
		t.Run(name, func(t *testing.T) {
			s := New(Options{})
			for _, st := range tc.setup {
				if err := st.apply(t, s, tSetup); err != nil {
					t.Fatal(err)
				}
			}
			before := keyRev(s, 0, tc.key)
			var r feedRecorder
			s.SetListener(r.listen)
			if err := tc.do.apply(t, s, t0); err != nil {
				t.Fatal(err)
			}
			after := keyRev(s, 0, tc.key)
			if tc.changed && after != s.rev {
				t.Fatalf("rev %d after the change, want %d", after, s.rev)
			}
			if !tc.changed && after != before {
				t.Fatalf("rev changed %d -> %d without a change", before, after)
			}
			var keyEvents int
			for _, g := range r.got {
				if strings.HasSuffix(g, " "+tc.key) {
					keyEvents++
				}
			}
			if (keyEvents > 0) != tc.changed {
				t.Fatalf("changed=%v but events %q", tc.changed, r.got)
			}
		})
	}
}

// benchOps is a mix of in-place mutations of every family on existing keys
// (the apply hot path), each leaving the state as it found it.
func benchOps() []*op.Op {
	mk := func(code op.Code, args ...string) *op.Op {
		o := &op.Op{Code: code, Time: t0}
		for _, a := range args {
			o.Args = append(o.Args, []byte(a))
		}
		return o
	}
	return []*op.Op{
		mk(op.Set, "str", "value", "0", "0"),
		mk(op.ListPush, "list", "1", "0", "x"),
		mk(op.ListPop, "list", "1", "-1"),
		mk(op.HSet, "hash", "f", "v"),
		mk(op.SAdd, "set", "m2"),
		mk(op.SRem, "set", "m2"),
		mk(op.Expire, "str", sFuture, "0"),
		mk(op.Persist, "str"),
	}
}

func benchApplyMix(b *testing.B, listen bool) {
	s := New(Options{})
	for _, o := range []*op.Op{
		{Code: op.ListPush, Time: t0, Args: [][]byte{[]byte("list"), []byte("1"), []byte("0"), []byte("a")}},
		{Code: op.SAdd, Time: t0, Args: [][]byte{[]byte("set"), []byte("m1")}},
	} {
		if _, err := s.Apply(o); err != nil {
			b.Fatal(err)
		}
	}
	if listen {
		var n int
		s.SetListener(func(ev *Event) int64 { n++; return 0 })
	}
	ops := benchOps()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, o := range ops {
			s.Apply(o)
		}
	}
}

func BenchmarkApplyMix(b *testing.B)         { benchApplyMix(b, false) }
func BenchmarkApplyMixListener(b *testing.B) { benchApplyMix(b, true) }
