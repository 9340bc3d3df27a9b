package replication

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// The replication events an operator needs in the log, with their figures
// (docs/logging.md lists the messages and keys):
//
//   - leader changes: "leader changed" (info) on every node, from raft's
//     leader observations (eventLog below);
//   - membership changes: "member added" / "member removed" (info) on the
//     leader that made them (raft.go);
//   - snapshots: "snapshot written" with bytes and duration_ms, "snapshot
//     restored" (fsm_snapshot.go), "state restored from a backup" (restore.go);
//   - slow log writes and fsyncs: "slow log write" / "slow log fsync" (warn)
//     above slowSync, with duration_ms (logstore.go).
//
// hashicorp/raft's own lines come through the hclog bridge (hclog.go).

// slowSync is the log write (always mode: including its fsync) or
// background fsync (everysec mode) duration above which it is logged.
const slowSync = 500 * time.Millisecond

// ms is a duration in milliseconds, the unit of every *_ms log key.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// eventLog logs raft's leader observations until the node shuts down.
type eventLog struct {
	done chan struct{} // closed when run returns
}

// start registers the observer and starts its goroutine (Open, once raft
// runs); wait waits for it to end after downCh is closed (Close, Kill).
func (e *eventLog) start(rn *Raft) {
	e.done = make(chan struct{})
	ch := make(chan raft.Observation, 16)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	rn.r.RegisterObserver(obs)
	go func() {
		defer close(e.done)
		defer rn.r.DeregisterObserver(obs)
		for {
			select {
			case <-rn.downCh:
				return
			case o := <-ch:
				lo := o.Data.(raft.LeaderObservation)
				rn.log.Info("leader changed", "leader_id", string(lo.LeaderID), "leader_addr", string(lo.LeaderAddr),
					"term", rn.r.CurrentTerm(), "self", lo.LeaderID == rn.id)
			}
		}
	}()
}

func (e *eventLog) wait() {
	if e.done != nil {
		<-e.done
	}
}

// timedLogStore is the log as raft sees it: every StoreLogs (one batch of
// group-committed entries; in always mode the write and its fsync) that
// takes longer than slowSync is logged. Everything else is the logStore's.
type timedLogStore struct {
	*logStore
	log *slog.Logger
}

func (t timedLogStore) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	err := t.logStore.StoreLogs(logs)
	t.noteWrite(time.Since(start), len(logs))
	return err
}

func (t timedLogStore) noteWrite(d time.Duration, entries int) {
	if d > slowSync {
		t.log.Warn("slow log write", "duration_ms", ms(d), "entries", entries, "fsync", string(t.fsyncMode()))
	}
}

func (l *logStore) fsyncMode() Fsync {
	if l.deferred != nil {
		return FsyncEverySec
	}
	return FsyncAlways
}

// LastSnapshotTime returns when this node last completed a snapshot (the
// zero time when it has none): raft's file snapshot store writes a
// snapshot's meta.json when it completes it, in
// DataDir/raft/snapshots/<term>-<index>-<ms>/. LASTSAVE reports it.
func (rn *Raft) LastSnapshotTime() time.Time {
	dirs, _ := os.ReadDir(filepath.Join(rn.restore.dir, "snapshots"))
	var last time.Time
	for _, d := range dirs {
		if !d.IsDir() || strings.HasSuffix(d.Name(), ".tmp") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(rn.restore.dir, "snapshots", d.Name(), "meta.json")); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return last
}
