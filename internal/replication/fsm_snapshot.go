package replication

import (
	"io"

	"github.com/hashicorp/raft"

	"github.com/skiffdb/skiff/internal/store"
)

// Snapshot captures the store in O(1); Persist streams it while applies go on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.st.BeginSnapshot()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{sn: sn}, nil
}

// Restore replaces the store with a snapshot (on start, or when the leader
// sends one to a follower that is too far behind).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.st.Restore(rc)
}

type fsmSnapshot struct{ sn *store.Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.sn.Release() }
