package testcluster_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/testcluster"
)

// fillEveryType writes every data type, with and without deadlines, into
// databases 0, 1 and 5 through different members, and returns the keys
// written per database. Each database is written by one transaction that
// starts with FLUSHDB, so it is retried as a whole when an election makes
// its outcome unknown.
func fillEveryType(t *testing.T, c *testcluster.Cluster) map[int][]string {
	t.Helper()
	keys := map[int][]string{}
	big := strings.Repeat("0123456789abcdef", 8<<10) // 128 KiB
	for i, db := range []int{0, 1, 5} {
		cl := c.Client(i%len(c.Nodes), func(o *redis.Options) { o.DB = db })
		c.Eventually(func() error {
			keys[db] = nil
			_, err := fillDB(cl, db, big, func(k string) string { keys[db] = append(keys[db], k); return k })
			return err
		})
	}
	return keys
}

// fillDB writes database db in one transaction.
func fillDB(cl *redis.Client, db int, big string, add func(string) string) ([]redis.Cmder, error) {
	p := cl.TxPipeline()
	p.FlushDB(ctx)
	for j := range 300 {
		k := add(fmt.Sprintf("s:%d:%d", db, j))
		switch j % 3 {
		case 0:
			p.Set(ctx, k, "v"+strconv.Itoa(j), 0)
		case 1:
			p.Set(ctx, k, "v"+strconv.Itoa(j), time.Hour+time.Duration(j)*time.Second)
		default:
			p.Set(ctx, k, strconv.Itoa(j), 0)
			p.IncrBy(ctx, k, int64(db))
		}
	}
	p.Set(ctx, add("bin"), "\x00\xff\r\n binary", 0)
	p.Set(ctx, add("big"), big, 0)
	p.RPush(ctx, add("list"), "a", "b", "c", "a")
	p.LPush(ctx, add("list:ttl"), "x", "y")
	p.PExpire(ctx, "list:ttl", 2*time.Hour)
	p.HSet(ctx, add("hash"), "f1", "v1", "f2", "v2", "n", "3")
	p.HSet(ctx, add("hash:ttl"), "f", "v")
	p.Expire(ctx, "hash:ttl", 3*time.Hour)
	p.SAdd(ctx, add("set"), "m1", "m2", "m3")
	p.SAdd(ctx, add("set:ints"), 1, 2, 3, 100000)
	p.ZAdd(ctx, add("zset"), redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"}, redis.Z{Score: -3, Member: "c"})
	p.ZAdd(ctx, add("zset:ttl"), redis.Z{Score: 7, Member: "x"})
	p.PExpireAt(ctx, "zset:ttl", time.Now().Add(90*time.Minute))
	return p.Exec(ctx)
}

// keyState is what a client can see of one key: type, value and deadline.
type keyState struct {
	typ, value string
	expireAt   int64
}

func readKeys(t *testing.T, c *testcluster.Cluster, i int, keys map[int][]string) map[string]keyState {
	t.Helper()
	out := map[string]keyState{}
	for db, ks := range keys {
		cl := c.Client(i, func(o *redis.Options) { o.DB = db })
		for _, k := range ks {
			// Retried: an election may be under way (CLUSTERDOWN).
			c.Eventually(func() error {
				st, err := readKey(cl, k)
				out[fmt.Sprintf("%d/%s", db, k)] = st
				return err
			})
		}
	}
	return out
}

func readKey(cl *redis.Client, k string) (keyState, error) {
	typ, err := cl.Type(ctx, k).Result()
	if err != nil {
		return keyState{}, err
	}
	var v any
	switch typ {
	case "string":
		v, err = cl.Get(ctx, k).Result()
	case "list":
		v, err = cl.LRange(ctx, k, 0, -1).Result()
	case "hash":
		v, err = cl.HGetAll(ctx, k).Result()
	case "set":
		var sm []string
		sm, err = cl.SMembers(ctx, k).Result()
		sortStrings(sm)
		v = sm
	case "zset":
		v, err = cl.ZRangeWithScores(ctx, k, 0, -1).Result()
	default:
		return keyState{}, fmt.Errorf("key %q: type %q", k, typ)
	}
	if err != nil {
		return keyState{}, err
	}
	at, err := cl.PExpireTime(ctx, k).Result()
	return keyState{typ: typ, value: fmt.Sprint(v), expireAt: int64(at)}, err
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// backupHTTP sends one request without a time limit (a backup or restore
// of a few MiB may take a while under -race) and returns the answer. A 503
// (an election under way) is retried for up to testcluster.Timeout: backups
// read, and restoring the same file again is harmless.
func backupHTTP(t *testing.T, method, url string, body []byte) (int, []byte) {
	t.Helper()
	deadline := time.Now().Add(testcluster.Timeout)
	for {
		code, b := backupHTTPOnce(t, method, url, body)
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return code, b
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func backupHTTPOnce(t *testing.T, method, url string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return resp.StatusCode, b
}

func digests(c *testcluster.Cluster) map[string][32]byte {
	out := map[string][32]byte{}
	for _, m := range c.Nodes {
		if n := m.Node(); n != nil {
			out[m.ID] = n.Store().Digest()
		}
	}
	return out
}

// TestBackup_RestoreIntoNewCluster: a backup taken over HTTP from a
// follower of one 3-node cluster, restored through a follower of a new
// 3-node cluster, reproduces every key of every database with its type,
// value and deadline on every member (equal store digests, and the same
// answers to clients); damaged files are refused without a change; the
// restored cluster takes writes and a restarted member comes back with the
// restored state.
func TestBackup_RestoreIntoNewCluster(t *testing.T) {
	src := testcluster.Start(t, 3)
	keys := fillEveryType(t, src)
	src.EnsureConverged()
	want := readKeys(t, src, 0, keys)
	srcDigest := src.WaitLeader().Node().Store().Digest()

	from := src.Followers()[0]
	code, file := backupHTTP(t, "GET", "http://"+from.HTTPAddr+"/v1/backup", nil)
	if code != http.StatusOK || !bytes.HasPrefix(file, []byte("SKIFFBAK\x01")) {
		t.Fatalf("GET /v1/backup on follower %s: %d %q", from.ID, code, file[:min(len(file), 200)])
	}
	hdrLen := int(file[9]) | int(file[10])<<8 | int(file[11])<<16 | int(file[12])<<24
	var hdr struct {
		Format    int    `json:"format"`
		NodeID    string `json:"node_id"`
		Revision  uint64 `json:"revision"`
		Databases int    `json:"databases"`
	}
	if err := json.Unmarshal(file[13:13+hdrLen], &hdr); err != nil || hdr.Format != 1 || hdr.NodeID != from.ID || hdr.Revision == 0 || hdr.Databases != 16 {
		t.Fatalf("backup header %s: %+v %v", file[13:13+hdrLen], hdr, err)
	}

	dst := testcluster.Start(t, 3)
	dst.Eventually(func() error { return dst.Client(0).Set(ctx, "only-in-the-new-cluster", "x", 0).Err() })
	dst.EnsureConverged()
	before := digests(dst)
	to := dst.Followers()[1]
	restoreURL := "http://" + to.HTTPAddr + "/v1/restore"

	// Damaged files: refused with a clear error, the cluster unchanged.
	body := len(file) - 13 - hdrLen - 4 // the store snapshot stream
	flip := func(at int) []byte {
		b := bytes.Clone(file)
		b[at] ^= 0x40
		return b
	}
	for _, bad := range []struct {
		name, want string
		file       []byte
	}{
		{"a flipped byte in the data", "corrupt", flip(len(file) - body/2)},
		{"a flipped byte in the header", "header checksum", flip(15)},
		{"another format version", "format version 2; this build reads version 1", append(append(bytes.Clone(file[:8]), 2), file[9:]...)},
		{"truncated", "truncated", file[:len(file)-body/3]},
		{"the trailer cut off", "truncated", file[:len(file)-2]},
		{"not a backup", "not a skiff backup file", []byte("SET k v\r\n")},
	} {
		code, ans := backupHTTP(t, "POST", restoreURL, bad.file)
		if code != http.StatusBadRequest || !bytes.Contains(ans, []byte("invalid_argument")) || !bytes.Contains(ans, []byte(bad.want)) ||
			!bytes.Contains(ans, []byte("nothing was changed")) {
			t.Errorf("restore of %s: %d %s; want 400 mentioning %q", bad.name, code, ans, bad.want)
		}
	}
	dst.EnsureConverged()
	if after := digests(dst); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a refused restore changed the cluster")
	}
	dst.Eventually(func() error {
		if v, err := dst.Client(2).Get(ctx, "only-in-the-new-cluster").Result(); err != nil || v != "x" {
			return fmt.Errorf("after refused restores: GET = %q %v", v, err)
		}
		return nil
	})

	code, ans := backupHTTP(t, "POST", restoreURL, file)
	if code != http.StatusOK || !bytes.Contains(ans, []byte(`"restored":true`)) || !bytes.Contains(ans, []byte(`"node_id":"`+from.ID+`"`)) {
		t.Fatalf("restore through follower %s: %d %s", to.ID, code, ans)
	}
	dst.EnsureConverged()
	for id, d := range digests(dst) {
		if d != srcDigest {
			t.Fatalf("%s of the new cluster holds other data than the backed-up cluster", id)
		}
	}
	for i := range dst.Nodes {
		got := readKeys(t, dst, i, keys)
		for k, w := range want {
			if got[k] != w {
				t.Fatalf("member %d, key %s: %+v, want %+v", i, k, got[k], w)
			}
		}
	}
	dst.Eventually(func() error {
		if n, err := dst.Client(1).Exists(ctx, "only-in-the-new-cluster").Result(); err != nil || n != 0 {
			return fmt.Errorf("a key the backup does not hold survived the restore: %d %v", n, err)
		}
		return nil
	})

	// The restored cluster takes writes, and a member restarted from its
	// own disk holds the restored state.
	dst.Eventually(func() error { return dst.Client(2).Set(ctx, "after", "1", 0).Err() })
	dst.Stop(to.Index)
	dst.Restart(to.Index)
	dst.EnsureConverged()
	if got := readKeys(t, dst, to.Index, keys); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("a member restarted after the restore lost the restored state")
	}
	dst.Eventually(func() error {
		if v, err := dst.Client(to.Index).Get(ctx, "after").Result(); err != nil || v != "1" {
			return fmt.Errorf("GET after = %q %v", v, err)
		}
		return nil
	})

	// A backup of the restored cluster holds the same data.
	code, again := backupHTTP(t, "GET", "http://"+dst.WaitLeader().HTTPAddr+"/v1/backup", nil)
	if code != http.StatusOK || len(again) == 0 {
		t.Fatalf("backup of the restored cluster: %d", code)
	}
}

// TestBackup_SaveIsARaftSnapshot: SAVE and BGSAVE take a Raft snapshot of
// the member asked and LASTSAVE reports when it completed.
func TestBackup_SaveIsARaftSnapshot(t *testing.T) {
	c := testcluster.Start(t, 3)
	f := c.Followers()[0]
	cl := c.Client(f.Index)
	c.Eventually(func() error { return cl.Set(ctx, "k", "v", 0).Err() })
	c.EnsureConverged()
	start := time.Now().Unix()
	if got := cl.Save(ctx).Val(); got != "OK" {
		t.Fatalf("SAVE = %q %v", got, cl.Save(ctx).Err())
	}
	st := f.Node().Raft().Status()
	if st.LastSnapshot == 0 || st.LastSnapshot < st.AppliedIndex {
		t.Fatalf("after SAVE: last snapshot %d, applied %d", st.LastSnapshot, st.AppliedIndex)
	}
	if at := cl.LastSave(ctx).Val(); at < start-1 || at > time.Now().Unix() {
		t.Fatalf("LASTSAVE = %d, want about %d", at, start)
	}
	// Nothing new since: SAVE still succeeds (the snapshot holds the state).
	if got := cl.Save(ctx).Val(); got != "OK" {
		t.Fatalf("second SAVE = %q", got)
	}
	c.Eventually(func() error { return cl.Set(ctx, "k2", "v", 0).Err() })
	c.EnsureConverged()
	if got := cl.BgSave(ctx).Val(); got != "Background saving started" {
		t.Fatalf("BGSAVE = %q", got)
	}
	c.Eventually(func() error {
		if st2 := f.Node().Raft().Status(); st2.LastSnapshot <= st.LastSnapshot {
			return fmt.Errorf("BGSAVE: last snapshot still %d", st2.LastSnapshot)
		}
		return nil
	})
}
