package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// benchTest is one named test of a mode (e.g. "set" of mode resp). The
// driver opens cfg.conns workers with open, runs the optional warmup and then
// the measured phase on them, and closes them.
type benchTest struct {
	name  string // as written in -t, lower case
	title string // as printed, e.g. "SET" or "MSET (10 keys)"
	// open makes worker id's connection. It is called from the driver's
	// goroutine, before any load starts, and must give up by deadline.
	open func(id int, deadline time.Time) (worker, error)
}

// worker is one connection of a test. Its methods other than close are
// called from a single goroutine; close may be called from another one to
// abort a blocked call, and more than once.
type worker interface {
	// do sends k (1 <= k <= pipeline depth) requests as one batch, reads
	// their k replies and records the latency of each (from the batch's send
	// to that reply's read) into h. It returns how many replies were read
	// and how many of them were error replies; err is an I/O or protocol
	// error, after which the worker is not used again.
	do(k int, h *histogram) (replies, errReplies int, err error)
	// setDeadline bounds all later I/O of do, like net.Conn.SetDeadline.
	setDeadline(t time.Time) error
	close() error
}

// result is the outcome of one test's measured phase.
type result struct {
	test      benchTest
	requests  uint64 // replies read
	errors    uint64 // error replies among them
	elapsed   time.Duration
	byTimeout bool // the -duration cap stopped the test before -n
	hist      *histogram
}

// phase is the shared state of one run of the workers: a request budget the
// workers claim from in batches, and a deadline.
type phase struct {
	total    int64
	claimed  atomic.Int64
	deadline time.Time
	stopped  atomic.Bool // set on the first fatal error
	timedOut atomic.Bool // some worker stopped on the deadline
	errOnce  sync.Once
	err      error
}

// claim reserves up to want requests of the budget and returns how many it
// got (0 when the budget is spent).
func (p *phase) claim(want int) int {
	end := p.claimed.Add(int64(want))
	start := end - int64(want)
	if start >= p.total {
		return 0
	}
	return int(min(end, p.total) - start)
}

// fail records the first fatal error and aborts every worker.
func (p *phase) fail(err error, workers []worker) {
	p.errOnce.Do(func() {
		p.err = err
		p.stopped.Store(true)
		for _, w := range workers {
			_ = w.close()
		}
	})
}

// runPhase runs n requests (or until d has passed) over workers, one
// goroutine each, and merges their histograms into h when h is not nil
// (warmup passes nil).
// It returns the replies, error replies, elapsed time and the phase (for its
// err and timedOut).
func runPhase(workers []worker, n int64, pipeline int, d time.Duration, h *histogram) (replies, errReplies uint64, elapsed time.Duration, ph *phase) {
	ph = &phase{total: n}
	start := time.Now()
	ph.deadline = start.Add(d)
	for _, w := range workers {
		if err := w.setDeadline(ph.deadline); err != nil {
			ph.fail(err, workers)
			return 0, 0, 0, ph
		}
	}

	type tally struct {
		replies, errReplies uint64
		h                   *histogram
	}
	tallies := make([]tally, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		t := &tallies[i]
		t.h = newHistogram() // one per worker: no locks in the hot path
		wg.Go(func() {
			// Bounded by the request budget (claim) and by the deadline.
			for !ph.stopped.Load() {
				k := ph.claim(pipeline)
				if k == 0 {
					return
				}
				if !time.Now().Before(ph.deadline) {
					ph.timedOut.Store(true)
					return
				}
				r, e, err := w.do(k, t.h)
				t.replies += uint64(r)
				t.errReplies += uint64(e)
				if err != nil {
					if isTimeout(err) && !time.Now().Before(ph.deadline) {
						ph.timedOut.Store(true)
					} else if !ph.stopped.Load() {
						ph.fail(err, workers)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	for i := range tallies {
		replies += tallies[i].replies
		errReplies += tallies[i].errReplies
		if h != nil {
			h.merge(tallies[i].h)
		}
	}
	return replies, errReplies, elapsed, ph
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// openWorkers opens cfg.conns workers for t, giving up at the connect
// deadline. On error the ones already open are closed.
func openWorkers(cfg *config, t benchTest) ([]worker, error) {
	deadline := time.Now().Add(min(cfg.connectTimeout, cfg.duration))
	workers := make([]worker, 0, cfg.conns)
	for i := range cfg.conns {
		w, err := t.open(i, deadline)
		if err != nil {
			closeWorkers(workers)
			return nil, fmt.Errorf("cannot connect to %s: %w", cfg.addr, err)
		}
		workers = append(workers, w)
	}
	return workers, nil
}

func closeWorkers(ws []worker) {
	for _, w := range ws {
		_ = w.close()
	}
}

// runTest runs one test: connect, warmup (if asked), measured phase.
func runTest(cfg *config, t benchTest) (result, error) {
	workers, err := openWorkers(cfg, t)
	if err != nil {
		return result{}, err
	}
	defer func() { closeWorkers(workers) }()

	if cfg.warmup > 0 {
		_, _, _, ph := runPhase(workers, cfg.warmup, cfg.pipeline, cfg.duration, nil)
		if ph.err != nil {
			return result{}, fmt.Errorf("%s warmup: %w", t.name, ph.err)
		}
		if ph.timedOut.Load() {
			// Replies may still be in flight on some connections: start the
			// measured phase on fresh ones.
			closeWorkers(workers)
			if workers, err = openWorkers(cfg, t); err != nil {
				return result{}, err
			}
		}
	}

	h := newHistogram()
	replies, errReplies, elapsed, ph := runPhase(workers, cfg.requests, cfg.pipeline, cfg.duration, h)
	if ph.err != nil {
		return result{}, fmt.Errorf("%s: %w", t.name, ph.err)
	}
	return result{
		test:      t,
		requests:  replies,
		errors:    errReplies,
		elapsed:   elapsed,
		byTimeout: ph.timedOut.Load() || replies < uint64(cfg.requests),
		hist:      h,
	}, nil
}
