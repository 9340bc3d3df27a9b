package replication

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/skiffdb/skiff/internal/store"
)

// Restoring a backup: Restore replaces the replicated state of the whole
// cluster with a store snapshot stream, through hashicorp/raft's user
// restore (Raft.Restore): the leader installs the stream as a new Raft
// snapshot at an index past its log, restores its FSM from it, and
// followers, whose logs now lack the entries before that index, are sent the
// snapshot (InstallSnapshot) like a new member. The membership stays as it is.
//
// raft panics when an FSM restore fails after the snapshot was installed, so
// nothing reaches raft unverified: the node that restores first spools the
// stream to a file under DataDir/raft and decodes all of it into a scratch
// store of the same shape (exactly what every member's FSM will do), and
// only then hands the file to raft. A corrupt, truncated or wrong-version
// stream is refused with the store's error and changes nothing.
//
// Only the leader can restore. On a follower, Restore streams the snapshot
// to the leader over the Raft port (trusted, like forwarded requests): the
// connection starts with restoreMagic, a RESP-looking prefix, so the stream
// layer hands it to the forward handler, which SetForwardHandler wraps with
// restoreHook. The stream is sent in chunks (uint32 length, big endian, then
// the bytes; a zero length ends it), so an interrupted upload is never taken
// for a complete one, and the leader answers one line: "+OK" or "-CODE text"
// (restoreCodes).

// restoreMagic opens a restore stream on the Raft port. It cannot be the
// start of a forwarded request (SKIFF.FWD has at least four elements).
const restoreMagic = "*1\r\n$13\r\nSKIFF.RESTORE\r\n"

const (
	// restoreEnqueueTimeout bounds the wait to hand the restore (and the
	// no-op after it) to raft's leader loop.
	restoreEnqueueTimeout = 30 * time.Second
	// restoreIndexGap: the restored snapshot's index is this far past the
	// last log index (see restoreHere).
	restoreIndexGap = 1 << 16
	// restoreChunkMax bounds one chunk of a forwarded stream.
	restoreChunkMax = 1 << 20
	// restoreIdle bounds the wait for the next chunk, or for the leader's
	// reply after the last one.
	restoreIdle     = time.Minute
	restoreReplyMax = 30 * time.Minute
)

// restoreState is the Raft's restore bookkeeping.
type restoreState struct {
	mu  sync.Mutex // one restore at a time on this node
	dir string     // spool files go here (DataDir/raft)
}

// Restore replaces the state of every member with the store snapshot stream
// read from r (the store's own format: store.Snapshot.WriteTo, as in the
// body of a backup file), leaving the membership unchanged. It returns once
// the leader has restored and a quorum has the new state.
//
// It may be called on any node and blocks for the whole transfer; restores
// on one node run one at a time. r is read to the end before anything
// changes. Errors: store.ErrSnapshotCorrupt, store.ErrSnapshotVersion or
// store.ErrSnapshotMismatch (wrapped) when the stream is refused, nothing
// changed; ErrNoLeader, ErrNotLeader (leadership moved during the transfer:
// nothing changed, retry); ErrOutcomeUnknown (leadership was lost after the
// restore began: it may or may not have taken effect); ErrClosed; I/O
// errors reading r or reaching the leader (nothing changed). Writes in
// flight on the leader when the restore takes effect fail with
// ErrOutcomeUnknown; those acknowledged before it are replaced by the
// restored state.
func (rn *Raft) Restore(r io.Reader) error {
	if rn.IsLeader() {
		return rn.restoreHere(r)
	}
	return rn.restoreViaLeader(r)
}

// restoreHere spools, verifies and restores r on this node, which must lead.
func (rn *Raft) restoreHere(r io.Reader) error {
	rn.restore.mu.Lock()
	defer rn.restore.mu.Unlock()
	start := time.Now()
	// Spool files a crash left behind (restores run one at a time).
	if old, _ := filepath.Glob(filepath.Join(rn.restore.dir, "restore-*.tmp")); len(old) > 0 {
		for _, p := range old {
			os.Remove(p)
		}
	}
	f, err := os.CreateTemp(rn.restore.dir, "restore-*.tmp")
	if err != nil {
		return fmt.Errorf("replication: restore: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	n, err := io.Copy(f, r)
	if err != nil {
		return fmt.Errorf("replication: restore: receiving the snapshot: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("replication: restore: %w", err)
	}
	if err := verifySnapshot(f, rn.fsm.st.Databases()); err != nil {
		return fmt.Errorf("replication: restore: %w", err)
	}
	verified := time.Since(start)
	if !rn.IsLeader() {
		return rn.notLeaderErr(ErrNotLeader)
	}
	// raft refuses a restore until the latest configuration entry is
	// applied ("wait until the configuration entry at 1 has been applied"),
	// which a leader elected a moment ago may not have done: a barrier waits
	// for everything before it.
	if err := rn.r.Barrier(restoreEnqueueTimeout).Error(); err != nil {
		return rn.notLeaderErr(mapRaftErr(err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("replication: restore: %w", err)
	}
	// raft installs the snapshot at max(last log index, meta.Index)+1. The
	// FSM's applied index after the restore (the 8-byte header of our
	// snapshots, see fsm_snapshot.go) must be that index: higher than
	// anything applied before, so comparisons of applied indexes (read
	// index waits) stay monotonic. A gap far larger than the entries raft
	// can append before it picks the restore up makes it exact.
	index := rn.r.LastIndex() + restoreIndexGap
	hdr := binary.BigEndian.AppendUint64(nil, index+1)
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Index: index, Size: int64(len(hdr)) + n}
	done := make(chan error, 1)
	go func() { done <- rn.r.Restore(meta, io.MultiReader(bytes.NewReader(hdr), f), restoreEnqueueTimeout) }()
	select {
	case err = <-done:
	case <-rn.downCh:
		return ErrClosed
	}
	if err != nil {
		return rn.notLeaderErr(mapRaftErr(err))
	}
	if got := rn.Status().LastSnapshot; got != index+1 {
		rn.log.Warn("restore installed at an unexpected index: applied indexes may read low until the next write",
			"want_index", index+1, "index", got)
	}
	rn.log.Info("state restored from a backup", "index", index+1, "bytes", n,
		"verify_ms", ms(verified), "duration_ms", ms(time.Since(start)))
	return nil
}

// verifySnapshot decodes the whole stream r into a scratch store of ndb
// databases: exactly what every member's FSM will do with it (raft panics if
// that fails once the snapshot is installed). The scratch copy is garbage
// when it returns.
func verifySnapshot(r io.Reader, ndb int) error {
	return store.New(store.Options{Databases: ndb}).Restore(r)
}

// restoreViaLeader streams r to the leader's Raft port (see the top of this
// file) and returns the leader's answer.
func (rn *Raft) restoreViaLeader(r io.Reader) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, addr, err := rn.DialLeader(ctx)
	cancel()
	switch {
	case errors.Is(err, ErrNotLeader): // this node leads now
		return rn.restoreHere(r)
	case err != nil:
		return err
	}
	defer c.Close()
	rn.log.Info("sending a restore to the leader", "leader_addr", addr)
	w := bufio.NewWriterSize(c, 64<<10)
	_ = c.SetWriteDeadline(time.Now().Add(restoreIdle))
	_, _ = w.WriteString(restoreMagic)
	buf := make([]byte, 256<<10)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			_ = c.SetWriteDeadline(time.Now().Add(restoreIdle))
			var l [4]byte
			binary.BigEndian.PutUint32(l[:], uint32(n))
			_, _ = w.Write(l[:])
			if _, err := w.Write(buf[:n]); err != nil {
				return fmt.Errorf("replication: restore: sending to the leader at %s: %w", addr, err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			// Closing without the end mark: the leader refuses the stream.
			return fmt.Errorf("replication: restore: reading the snapshot: %w", rerr)
		}
	}
	_, _ = w.Write([]byte{0, 0, 0, 0})
	if err := w.Flush(); err != nil {
		return fmt.Errorf("replication: restore: sending to the leader at %s: %w", addr, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(restoreReplyMax))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		// The leader may have restored and failed to answer.
		return fmt.Errorf("%w: no answer from the leader at %s: %v", ErrOutcomeUnknown, addr, err)
	}
	return parseRestoreReply(strings.TrimRight(line, "\r\n"))
}

// restoreCodes are the error codes of a restore answer, both ways.
var restoreCodes = []struct {
	code string
	err  error
}{
	{"CORRUPT", store.ErrSnapshotCorrupt},
	{"VERSION", store.ErrSnapshotVersion},
	{"MISMATCH", store.ErrSnapshotMismatch},
	{"NOTLEADER", ErrNotLeader},
	{"NOLEADER", ErrNoLeader},
	{"UNKNOWN", ErrOutcomeUnknown},
	{"TIMEOUT", ErrTimeout},
	{"CLOSED", ErrClosed},
}

func restoreReply(err error) string {
	if err == nil {
		return "+OK\r\n"
	}
	code := "ERR"
	for _, c := range restoreCodes {
		if errors.Is(err, c.err) {
			code = c.code
			break
		}
	}
	msg := strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error())
	return "-" + code + " " + msg + "\r\n"
}

func parseRestoreReply(line string) error {
	if line == "+OK" {
		return nil
	}
	code, msg, _ := strings.Cut(strings.TrimPrefix(line, "-"), " ")
	for _, c := range restoreCodes {
		if c.code == code {
			return &leaderError{msg: msg, err: c.err}
		}
	}
	return &leaderError{msg: msg}
}

// leaderError is the leader's answer to a forwarded restore: its text, and
// the sentinel its code names (nil for ERR).
type leaderError struct {
	msg string
	err error
}

func (e *leaderError) Error() string { return e.msg + " (on the leader)" }
func (e *leaderError) Unwrap() error { return e.err }

// restoreHook wraps the forward handler: connections that open with
// restoreMagic are restores streamed by a follower; every other one goes to
// fn with the bytes read so far put back.
func (rn *Raft) restoreHook(fn func(net.Conn)) func(net.Conn) {
	if fn == nil {
		return nil
	}
	return func(c net.Conn) {
		br := bufio.NewReaderSize(c, 4096)
		_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
		match := true
		// Byte by byte: a forwarded request differs by its third byte at
		// the latest, and is never held waiting for more than it sent.
		for k := 1; k <= len(restoreMagic) && match; k++ {
			b, err := br.Peek(k)
			match = err == nil && b[k-1] == restoreMagic[k-1]
		}
		_ = c.SetReadDeadline(time.Time{})
		if match {
			_, _ = br.Discard(len(restoreMagic))
			rn.serveRestore(c, br)
			return
		}
		buffered, _ := br.Peek(br.Buffered())
		fn(&peekedConn{Conn: c, buf: bytes.Clone(buffered)})
	}
}

// serveRestore restores the chunked stream a follower sends on c (leader).
func (rn *Raft) serveRestore(c net.Conn, br *bufio.Reader) {
	defer c.Close()
	cr := &chunkReader{r: br, c: c}
	err := rn.restoreHere(cr)
	if err != nil {
		rn.log.Warn("restore sent by a follower failed", "remote_addr", c.RemoteAddr().String(), "err", err)
		_, _ = io.Copy(io.Discard, cr) // let the sender finish, so it reads the answer
	}
	_ = c.SetWriteDeadline(time.Now().Add(restoreIdle))
	_, _ = io.WriteString(c, restoreReply(err))
}

// chunkReader reads the chunked stream of a forwarded restore; it returns
// io.EOF only after the end mark, io.ErrUnexpectedEOF if the connection ends
// before it.
type chunkReader struct {
	r    *bufio.Reader
	c    net.Conn
	left int
	done bool
	err  error
}

func (cr *chunkReader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	if cr.done {
		return 0, io.EOF
	}
	_ = cr.c.SetReadDeadline(time.Now().Add(restoreIdle))
	if cr.left == 0 {
		var l [4]byte
		if _, err := io.ReadFull(cr.r, l[:]); err != nil {
			cr.err = noEOF(err)
			return 0, cr.err
		}
		n := binary.BigEndian.Uint32(l[:])
		switch {
		case n == 0:
			cr.done = true
			return 0, io.EOF
		case n > restoreChunkMax:
			cr.err = fmt.Errorf("replication: restore stream: chunk of %d bytes", n)
			return 0, cr.err
		}
		cr.left = int(n)
	}
	n, err := cr.r.Read(p[:min(len(p), cr.left)])
	cr.left -= n
	if err != nil {
		cr.err = noEOF(err)
		return n, cr.err
	}
	return n, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// peekedConn is a connection whose first bytes were already read into buf.
type peekedConn struct {
	net.Conn
	buf []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
