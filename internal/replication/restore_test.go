package replication

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/store"
)

// snapshotOf returns st's snapshot stream.
func snapshotOf(t *testing.T, st *store.Store) []byte {
	t.Helper()
	sn, err := st.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Release()
	var b bytes.Buffer
	if _, err := sn.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRestore_OneNode: a valid stream replaces the state and the applied
// index moves past everything before; corrupt, truncated and misfitting
// streams are refused with the store's errors and change nothing; later
// writes apply after the restored index. (testcluster's TestBackup_* cover
// followers, forwarding and restarts.)
func TestRestore_OneNode(t *testing.T) {
	c := newCapture()
	srcStore := store.New(store.Options{})
	src := openOne(t, srcStore, slog.New(slog.DiscardHandler))
	for i := range 50 {
		set(t, src, i%3, "k"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	stream := snapshotOf(t, srcStore)

	dstStore := store.New(store.Options{})
	dst := openOne(t, dstStore, slog.New(c))
	set(t, dst, 0, "old", "x")
	before := dstStore.Digest()
	appliedBefore := dst.Status().AppliedIndex

	bad := bytes.Clone(stream)
	bad[len(bad)/2] ^= 1
	other := snapshotOf(t, store.New(store.Options{Databases: 4}))
	for _, tc := range []struct {
		name   string
		stream []byte
		want   error
	}{
		{"corrupt", bad, store.ErrSnapshotCorrupt},
		{"truncated", stream[:len(stream)-3], store.ErrSnapshotCorrupt},
		{"another number of databases", other, store.ErrSnapshotMismatch},
	} {
		if err := dst.Restore(bytes.NewReader(tc.stream)); !errors.Is(err, tc.want) {
			t.Errorf("restore of a %s stream: %v, want %v", tc.name, err, tc.want)
		}
	}
	if dstStore.Digest() != before {
		t.Fatal("a refused restore changed the store")
	}

	if err := dst.Restore(bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	if dstStore.Digest() != srcStore.Digest() {
		t.Fatal("restored store differs from the source")
	}
	st := dst.Status()
	if st.AppliedIndex <= appliedBefore || st.AppliedIndex != st.LastSnapshot {
		t.Fatalf("after the restore: applied %d (before %d), last snapshot %d", st.AppliedIndex, appliedBefore, st.LastSnapshot)
	}
	if r := c.find("state restored from a backup"); len(r) != 1 || r[0]["bytes"].Int64() != int64(len(stream)) {
		t.Fatalf("restore log: %v", r)
	}
	set(t, dst, 0, "after", "y")
	if got := dst.Status().AppliedIndex; got <= st.AppliedIndex {
		t.Fatalf("applied %d after a write, %d before", got, st.AppliedIndex)
	}
}

// TestRestoreHook_PassesOtherConnections: a forwarded request reaches the
// forward handler byte for byte, however it arrives.
func TestRestoreHook_PassesOtherConnections(t *testing.T) {
	rn := &Raft{log: slog.New(slog.DiscardHandler)}
	req := "*5\r\n$9\r\nSKIFF.FWD\r\n$1\r\n0\r\n$1\r\n2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
	got := make(chan string, 1)
	hook := rn.restoreHook(func(c net.Conn) {
		b, _ := io.ReadAll(c)
		got <- string(b)
	})
	for _, chunks := range [][]string{{req}, {"*", "1", "0\r\n" + req[4:]}, {"*1\r\n", "$1\r\nx\r\n"}} {
		a, b := net.Pipe()
		go hook(b)
		for _, ch := range chunks {
			if _, err := a.Write([]byte(ch)); err != nil {
				t.Fatal(err)
			}
		}
		a.Close()
		want := ""
		for _, ch := range chunks {
			want += ch
		}
		if g := <-got; g != want {
			t.Fatalf("forward handler read %q, want %q", g, want)
		}
	}
}

// TestChunkReader: the chunked stream of a forwarded restore ends only at
// its end mark; a connection that ends before is an unexpected EOF.
func TestChunkReader(t *testing.T) {
	chunk := func(s string) string {
		n := len(s)
		return string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + s
	}
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{chunk("hello ") + chunk("world") + chunk(""), "hello world", nil},
		{chunk("hello ") + chunk("world"), "hello world", io.ErrUnexpectedEOF},
		{chunk("hello")[:6], "he", io.ErrUnexpectedEOF},
	} {
		a, b := net.Pipe()
		go func() {
			_, _ = a.Write([]byte(tc.in))
			a.Close()
		}()
		got, err := io.ReadAll(&chunkReader{r: bufio.NewReader(b), c: b})
		if string(got) != tc.want || !errors.Is(err, tc.err) && !(tc.err == nil && err == nil) {
			t.Errorf("%q: read %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
		b.Close()
	}
	// Answers keep their code both ways.
	for _, line := range []string{"+OK", "-CORRUPT store: corrupt snapshot: x", "-NOTLEADER no", "-ERR disk full"} {
		code, _, _ := strings.Cut(line, " ")
		if back := restoreReply(parseRestoreReply(line)); !strings.HasPrefix(back, code) {
			t.Errorf("answer %q read and written back as %q", line, back)
		}
	}
	if err := parseRestoreReply("-CORRUPT x"); !errors.Is(err, store.ErrSnapshotCorrupt) {
		t.Errorf("CORRUPT -> %v", err)
	}
}
