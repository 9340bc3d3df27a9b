package replication

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"

	"github.com/skiffdb/skiff/internal/store"
)

// A Raft snapshot is the FSM's applied index (8 bytes, big endian) followed
// by the store's own versioned, checksummed snapshot stream.

// Snapshot captures the store in O(1); Persist streams it while applies go on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.st.BeginSnapshot()
	if err != nil {
		return nil, err
	}
	f.bytes.Store(0)
	return f.hooks.wrapSnapshot(&fsmSnapshot{sn: sn, applied: f.applied.Load(), log: f.log}), nil
}

// Restore replaces the store with a snapshot (on start, or when the leader
// sends one to a follower that is too far behind).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	start := time.Now()
	cr := &countingReader{r: rc}
	var hdr [8]byte
	if _, err := io.ReadFull(cr, hdr[:]); err != nil {
		return fmt.Errorf("replication: snapshot header: %w", errors.Join(err, store.ErrSnapshotCorrupt))
	}
	if err := f.st.Restore(cr); err != nil {
		f.log.Error("snapshot restore failed", "err", err)
		return err
	}
	f.applied.Store(binary.BigEndian.Uint64(hdr[:]))
	f.log.Info("snapshot restored", "applied_index", binary.BigEndian.Uint64(hdr[:]), "revision", f.st.CurrentRevision(),
		"bytes", cr.n, "duration_ms", ms(time.Since(start)))
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type fsmSnapshot struct {
	sn      *store.Snapshot
	applied uint64
	log     *slog.Logger
}

// Persist writes the snapshot (raft's snapshot goroutine) and logs its size
// and how long it took, fsync included.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	start := time.Now()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], s.applied)
	n, err := s.persist(sink, hdr[:])
	if err != nil {
		s.log.Warn("snapshot failed", "snapshot_id", sink.ID(), "applied_index", s.applied, "err", err)
		return err
	}
	s.log.Info("snapshot written", "snapshot_id", sink.ID(), "applied_index", s.applied, "bytes", n,
		"duration_ms", ms(time.Since(start)))
	return nil
}

func (s *fsmSnapshot) persist(sink raft.SnapshotSink, hdr []byte) (int64, error) {
	if _, err := sink.Write(hdr); err != nil {
		sink.Cancel()
		return 0, err
	}
	n, err := s.sn.WriteTo(sink)
	if err != nil {
		sink.Cancel()
		return 0, err
	}
	return int64(len(hdr)) + n, sink.Close()
}

func (s *fsmSnapshot) Release() { s.sn.Release() }
