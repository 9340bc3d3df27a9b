package replication

import (
	"context"
	"sync"

	"github.com/hashicorp/raft"
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

// watchLeadership counts leadership changes, so the term barrier is redone
// after each.
func (rn *Raft) watchLeadership() {
	rn.obsCh = make(chan raft.Observation, 16)
	rn.obsDone = make(chan struct{})
	rn.obs = raft.NewObserver(rn.obsCh, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	rn.r.RegisterObserver(rn.obs)
	go func() {
		defer close(rn.obsDone)
		for range rn.obsCh {
			rn.leaderGen.Add(1)
		}
	}()
}

func (rn *Raft) stopWatching() {
	rn.r.DeregisterObserver(rn.obs)
	close(rn.obsCh)
	<-rn.obsDone
}

// confirm establishes conditions 1 and 2 above.
func (rn *Raft) confirm() error {
	if gen := rn.leaderGen.Load(); rn.readyGen.Load() != gen {
		if err := rn.r.Barrier(0).Error(); err != nil {
			return mapRaftErr(err)
		}
		rn.readyGen.CompareAndSwap(rn.readyGen.Load(), gen)
	}
	if err := rn.r.VerifyLeader().Error(); err != nil {
		return ErrNotLeader
	}
	return nil
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
