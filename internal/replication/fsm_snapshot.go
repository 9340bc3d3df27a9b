package replication

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

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
	return &fsmSnapshot{sn: sn, applied: f.applied.Load()}, nil
}

// Restore replaces the store with a snapshot (on start, or when the leader
// sends one to a follower that is too far behind).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var hdr [8]byte
	if _, err := io.ReadFull(rc, hdr[:]); err != nil {
		return fmt.Errorf("replication: snapshot header: %w", errors.Join(err, store.ErrSnapshotCorrupt))
	}
	if err := f.st.Restore(rc); err != nil {
		return err
	}
	f.applied.Store(binary.BigEndian.Uint64(hdr[:]))
	return nil
}

type fsmSnapshot struct {
	sn      *store.Snapshot
	applied uint64
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], s.applied)
	if _, err := sink.Write(hdr[:]); err != nil {
		sink.Cancel()
		return err
	}
	if _, err := s.sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.sn.Release() }
