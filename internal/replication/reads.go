package replication

import (
	"context"
	"sync"
)

// Linearizable reads on hashicorp/raft.
//
// A write is acknowledged only after the leader's FSM has applied it. So on
// a leader, a read sees every write acknowledged before it started if
//  1. the node is still leader when the read starts (VerifyLeader: a round of
//     heartbeats to a quorum, begun after the read arrived), and
//  2. the node has applied everything committed by earlier leaders: a Barrier
//     once per leadership term (it waits until all preceding entries are
//     applied).
// Entries committed but not yet applied on the leader have not been
// acknowledged, so a read may or may not see them: it is concurrent with them.

// term returns the current Raft term (an atomic read in raft).
func (rn *Raft) term() uint64 { return rn.r.CurrentTerm() }

// confirm establishes conditions 1 and 2 above. A node leads at most once
// per term, so "the barrier completed in this term" is exactly "entries of
// earlier leaders are applied"; the term is read before and after, so a
// leadership lost and regained in between is noticed.
func (rn *Raft) confirm() error {
	for attempt := 0; attempt < 3; attempt++ {
		term := rn.term()
		if rn.readyTerm.Load() != term {
			if err := rn.wait(rn.r.Barrier(0)); err != nil {
				return mapRaftErr(err)
			}
		}
		if err := rn.wait(rn.r.VerifyLeader()); err != nil {
			return ErrNotLeader
		}
		if rn.term() == term {
			rn.readyTerm.Store(term)
			return nil
		}
	}
	return ErrNotLeader
}

// readBatcher shares one confirm round among concurrent readers: a reader
// waits for a round that starts after it arrived.
type readBatcher struct {
	r  *Raft
	mu struct {
		sync.Mutex
		waiters []chan error
		running bool
	}
}

func (b *readBatcher) wait(ctx context.Context) error {
	ch := make(chan error, 1)
	b.mu.Lock()
	b.mu.waiters = append(b.mu.waiters, ch)
	if !b.mu.running {
		b.mu.running = true
		go b.run()
	}
	b.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *readBatcher) run() {
	for {
		b.mu.Lock()
		ws := b.mu.waiters
		b.mu.waiters = nil
		if len(ws) == 0 {
			b.mu.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		err := b.r.confirm()
		for _, w := range ws {
			w <- err
		}
	}
}
