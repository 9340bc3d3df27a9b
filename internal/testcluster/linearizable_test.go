package testcluster_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/testcluster"
)

// The register model checked by TestCluster_Linearizable: one string per
// key, partitioned by key (P-compositionality), so each key is checked on
// its own.

type linKind uint8

const (
	linGet linKind = iota
	linSet
	linIncr
)

func (k linKind) String() string { return [...]string{"GET", "SET", "INCR"}[k] }

type linInput struct {
	kind  linKind
	key   string
	value string // SET
}

type linOutput struct {
	value   string // GET: the value or linMissing; INCR: the new value
	unknown bool   // a write whose outcome is unknown: any effect or none
}

// linSetGap separates the values that SETs write: fewer INCRs than this run
// in a test, so a value read back names the SET it comes from.
const linSetGap = 1_000_000

// linMissing is the state of a key that does not exist (GET answers nil).
const linMissing = "<nil>"

var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, o := range history {
			k := o.Input.(linInput).key
			byKey[k] = append(byKey[k], o)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return linMissing },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(string), input.(linInput), output.(linOutput)
		switch in.kind {
		case linGet:
			return out.value == s, s
		case linSet:
			return true, in.value
		default: // INCR
			n := int64(0)
			if s != linMissing {
				var err error
				if n, err = strconv.ParseInt(s, 10, 64); err != nil {
					// Redis would refuse it; only an unknown outcome fits.
					return out.unknown, s
				}
			}
			next := strconv.FormatInt(n+1, 10)
			return out.unknown || out.value == next, next
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		res := out.value
		switch {
		case out.unknown:
			res = "?"
		case in.kind == linSet:
			res = "OK"
		}
		if in.kind == linSet {
			return fmt.Sprintf("SET %s %s -> %s", in.key, in.value, res)
		}
		return fmt.Sprintf("%s %s -> %s", in.kind, in.key, res)
	},
	DescribeState: func(state any) string { return state.(string) },
}

// linOp is one recorded operation of a worker, before it becomes a
// porcupine.Operation (an unknown outcome gets the end of the history as its
// return time, known only when every worker has stopped).
type linOp struct {
	in      linInput
	out     linOutput
	call    int64
	ret     int64
	worker  int
	attempt int // the worker's count of unknown outcomes before this op
}

// linOutcome classifies an error of a command sent to skiff.
type linOutcome int

const (
	linFailed  linOutcome = iota // not applied: the command did not take effect
	linUnknown                   // may or may not have been applied
	linBug                       // not an error skiff's contract allows here
)

// classify maps an error to its outcome per skiff's error contract
// (internal/command/errors.go): CLUSTERDOWN, "not the leader" and "could
// not be proposed in time" are refused before the write enters the log;
// "outcome is unknown", a lost connection mid-request and a shutdown may
// come after it did. A closed client or a refused dial sent nothing.
func classify(err error) linOutcome {
	s := err.Error()
	switch {
	case errors.Is(err, redis.ErrClosed), strings.Contains(s, "connection refused"),
		strings.HasPrefix(s, "CLUSTERDOWN"),
		strings.HasPrefix(s, "TRYAGAIN this node is not the leader"),
		strings.HasPrefix(s, "TRYAGAIN the write could not be proposed in time"):
		return linFailed
	case retriable(err), s == "ERR server is shutting down":
		return linUnknown
	}
	return linBug
}

// TestCluster_Linearizable checks with porcupine that a concurrent history
// of SET, GET and INCR on a few keys, from clients on every node, is
// linearizable while the leader is killed and restarted and the next
// leader is partitioned away and healed.
func TestCluster_Linearizable(t *testing.T) {
	const (
		workers   = 6
		maxOps    = 1500 // per worker: bounds the history should the faults be slow
		maxTime   = 90 * time.Second
		perPhase  = 300 // successful operations required after each fault
		checkTime = 60 * time.Second
	)
	keys := []string{"lin:a", "lin:b", "lin:c"}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	c := testcluster.Start(t, 3)
	start := time.Now()
	since := func() int64 { return int64(time.Since(start)) } // monotonic

	// Worker w talks to node w%3 through its own client; a killed node's
	// clients are closed by the harness, so the test swaps in new ones after
	// the restart.
	var clients [workers]atomic.Pointer[redis.Client]
	for w := range clients {
		clients[w].Store(c.Client(w % 3))
	}
	var errMu sync.Mutex
	errCounts := map[string]int{} // "<command> <error>", for the log
	defer func() { t.Logf("errors seen: %v", errCounts) }()
	var (
		succeeded atomic.Int64
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		recorded  [workers][]linOp
	)
	// Stop the workers however the test ends (a failed wait exits through
	// runtime.Goexit), before the cluster's cleanup stops the nodes.
	stopWorkers := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWorkers()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			unknowns := 0
			for seq := 0; len(recorded[w]) < maxOps && time.Since(start) < maxTime; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				cl := clients[w].Load()
				in := linInput{kind: linKind(rng.IntN(3)), key: keys[rng.IntN(len(keys))]}
				if in.kind == linSet {
					// Unique integers (so INCR works on them), far enough apart
					// that increments never reach another SET's value.
					in.value = strconv.FormatInt(int64(w+1)*1_000_000_000_000+int64(seq)*linSetGap, 10)
				}
				o := linOp{in: in, worker: w, attempt: unknowns, call: since()}
				var err error
				switch in.kind {
				case linGet:
					o.out.value, err = cl.Get(ctx, in.key).Result()
					if errors.Is(err, redis.Nil) {
						o.out.value, err = linMissing, nil
					}
				case linSet:
					err = cl.Set(ctx, in.key, in.value, 0).Err()
				case linIncr:
					var n int64
					n, err = cl.Incr(ctx, in.key).Result()
					o.out.value = strconv.FormatInt(n, 10)
				}
				o.ret = since()
				if err == nil {
					recorded[w] = append(recorded[w], o)
					succeeded.Add(1)
					continue
				}
				msg := err.Error()
				if i := strings.LastIndex(msg, ": "); strings.Contains(msg, "127.0.0.1") && i >= 0 {
					msg = msg[i+2:] // drop the addresses of a network error
				}
				errMu.Lock()
				errCounts[in.kind.String()+" "+msg]++
				errMu.Unlock()
				// Back off (not a wait for a condition), longer after an
				// unknown outcome: each one stays open to the end of the
				// history and the checker's search grows with their number.
				backoff := 20 + rng.IntN(40)
				switch classify(err) {
				case linBug:
					t.Errorf("worker %d: %s %s: %v", w, in.kind, in.key, err)
					return
				case linUnknown:
					if in.kind != linGet { // a failed read tells nothing: drop it
						o.out = linOutput{unknown: true}
						recorded[w] = append(recorded[w], o)
						unknowns++
						backoff = 200 + rng.IntN(200)
					}
				}
				time.Sleep(time.Duration(backoff) * time.Millisecond)
			}
		}()
	}
	progress := func(what string) {
		t.Helper()
		from := succeeded.Load()
		c.Eventually(func() error {
			if n := succeeded.Load() - from; n < perPhase {
				return fmt.Errorf("%s: %d operations succeeded", what, n)
			}
			return nil
		})
		t.Logf("%6.2fs %s: progress", time.Since(start).Seconds(), what)
	}

	progress("steady state")
	killed := c.WaitLeader()
	c.Kill(killed.Index)
	t.Logf("%6.2fs killed leader %s", time.Since(start).Seconds(), killed.ID)
	c.WaitLeader()
	progress("after the kill")
	c.Restart(killed.Index)
	for w := range clients {
		if w%3 == killed.Index {
			clients[w].Store(c.Client(killed.Index))
		}
	}
	t.Logf("%6.2fs restarted %s", time.Since(start).Seconds(), killed.ID)
	progress("after the restart")
	// Partition the current leader: it must neither acknowledge writes nor
	// serve reads from now-stale state while the others elect a new leader.
	cut := c.WaitLeader()
	c.Partition(cut.Index)
	t.Logf("%6.2fs partitioned leader %s", time.Since(start).Seconds(), cut.ID)
	c.WaitLeader()
	progress("during the partition")
	c.Heal(cut.Index)
	t.Logf("%6.2fs healed %s", time.Since(start).Seconds(), cut.ID)
	progress("after healing")
	stopWorkers()
	if t.Failed() {
		return
	}

	// An unknown outcome may take effect at any time after its call:
	// its return is the end of the history. Each client id is a worker's
	// run of operations between two unknown outcomes, so one id never has
	// overlapping operations (porcupine's visualization wants that).
	end := since() + 1
	all := make([]linOp, 0, workers*maxOps)
	for w := range recorded {
		all = append(all, recorded[w]...)
	}
	all, pruned := pruneUnobservedSets(all)
	var history []porcupine.Operation
	ids := map[[2]int]int{}
	var counts [3]int
	unknown := 0
	for _, o := range all {
		id, ok := ids[[2]int{o.worker, o.attempt}]
		if !ok {
			id = len(ids)
			ids[[2]int{o.worker, o.attempt}] = id
		}
		ret := o.ret
		if o.out.unknown {
			ret = end
			unknown++
		}
		counts[o.in.kind]++
		history = append(history, porcupine.Operation{ClientId: id, Input: o.in, Call: o.call, Output: o.out, Return: ret})
	}
	t.Logf("history: %d operations (%d GET, %d SET, %d INCR), %d with unknown outcome (%d more: unobserved SETs), over %.1fs",
		len(history), counts[linGet], counts[linSet], counts[linIncr], unknown, pruned, time.Since(start).Seconds())

	c.EnsureConverged()

	checkStart := time.Now()
	res, info := porcupine.CheckOperationsVerbose(linModel, history, checkTime)
	t.Logf("porcupine: %s in %v", res, time.Since(checkStart).Round(time.Millisecond))
	switch res {
	case porcupine.Ok:
	case porcupine.Unknown:
		// The check timed out without finding a violation; on a loaded
		// machine that is not a failure of skiff.
		t.Logf("porcupine timed out after %v: history not fully checked", checkTime)
	default:
		// Not t.TempDir or t.ArtifactDir: both are removed when the test
		// ends unless -artifacts is given, and the file is for a human.
		f, err := os.CreateTemp("", "skiff-linearizability-*.html")
		if err != nil {
			t.Fatalf("history is not linearizable (and no visualization: %v)", err)
		}
		path := f.Name()
		f.Close()
		if err := porcupine.VisualizePath(linModel, info, path); err != nil {
			t.Fatalf("history is not linearizable (and no visualization: %v)", err)
		}
		t.Fatalf("history is not linearizable (seed %d); visualization: %s", seed, path)
	}
}

// pruneUnobservedSets drops the SETs of unknown outcome whose value no GET
// or INCR ever returned (an INCR after SET v answers v+1, v+2, ...: within
// linSetGap of v), as etcd's robustness tests do. It keeps the check exact:
// such a SET, if it took effect, was overwritten before anything looked, so
// the history is linearizable with it iff it is without it. It matters
// because every open-ended operation multiplies the checker's search.
func pruneUnobservedSets(ops []linOp) ([]linOp, int) {
	returned := map[string][]int64{} // per key, the integers GETs and INCRs returned
	for _, o := range ops {
		if o.out.unknown || o.in.kind == linSet || o.out.value == linMissing {
			continue
		}
		if n, err := strconv.ParseInt(o.out.value, 10, 64); err == nil {
			returned[o.in.key] = append(returned[o.in.key], n)
		}
	}
	out := ops[:0]
	pruned := 0
	for _, o := range ops {
		if o.in.kind == linSet && o.out.unknown {
			v, _ := strconv.ParseInt(o.in.value, 10, 64)
			observed := false
			for _, n := range returned[o.in.key] {
				if n >= v && n < v+linSetGap {
					observed = true
					break
				}
			}
			if !observed {
				pruned++
				continue
			}
		}
		out = append(out, o)
	}
	return out, pruned
}

// TestLinearizableModel_RejectsViolations keeps the check above honest: the
// model and the pruning must reject histories a correct store cannot
// produce, and accept the ones an unknown outcome explains.
func TestLinearizableModel_RejectsViolations(t *testing.T) {
	op := func(kind linKind, key, value string, call, ret int64, out linOutput) linOp {
		return linOp{in: linInput{kind: kind, key: key, value: value}, out: out, call: call, ret: ret}
	}
	ok := func(v string) linOutput { return linOutput{value: v} }
	unknown := linOutput{unknown: true}
	const end = 1000
	check := func(ops []linOp) porcupine.CheckResult {
		ops, _ = pruneUnobservedSets(ops)
		var h []porcupine.Operation
		for i, o := range ops {
			ret := o.ret
			if o.out.unknown {
				ret = end
			}
			h = append(h, porcupine.Operation{ClientId: i, Input: o.in, Call: o.call, Output: o.out, Return: ret})
		}
		return porcupine.CheckOperationsTimeout(linModel, h, 10*time.Second)
	}
	for _, tc := range []struct {
		name string
		ops  []linOp
		want porcupine.CheckResult
	}{
		{"stale read after acknowledged SET", []linOp{
			op(linSet, "k", "1000000", 0, 10, ok("")),
			op(linGet, "k", "", 20, 30, ok(linMissing)),
		}, porcupine.Illegal},
		{"lost INCR", []linOp{
			op(linIncr, "k", "", 0, 10, ok("1")),
			op(linIncr, "k", "", 20, 30, ok("1")),
		}, porcupine.Illegal},
		{"read of a value never written", []linOp{
			op(linGet, "k", "", 0, 10, ok("7")),
		}, porcupine.Illegal},
		{"value going back in time", []linOp{
			op(linSet, "k", "1000000", 0, 10, ok("")),
			op(linSet, "k", "2000000", 20, 30, ok("")),
			op(linGet, "k", "", 40, 50, ok("2000000")),
			op(linGet, "k", "", 60, 70, ok("1000000")),
		}, porcupine.Illegal},
		{"unknown SET seen late", []linOp{
			op(linSet, "k", "1000000", 0, 10, unknown),
			op(linGet, "k", "", 20, 30, ok(linMissing)),
			op(linGet, "k", "", 40, 50, ok("1000000")),
		}, porcupine.Ok},
		{"unknown SET seen, then unseen", []linOp{
			op(linSet, "k", "1000000", 0, 10, unknown),
			op(linGet, "k", "", 20, 30, ok("1000000")),
			op(linGet, "k", "", 40, 50, ok(linMissing)),
		}, porcupine.Illegal},
		{"unknown SET seen through INCR", []linOp{
			op(linSet, "k", "1000000", 0, 10, unknown),
			op(linIncr, "k", "", 20, 30, ok("1000001")),
		}, porcupine.Ok},
		{"unknown INCR applied or not", []linOp{
			op(linIncr, "k", "", 0, 10, unknown),
			op(linIncr, "k", "", 20, 30, ok("2")),
			op(linIncr, "k", "", 40, 50, unknown),
			op(linGet, "k", "", 60, 70, ok("2")),
		}, porcupine.Ok},
		{"concurrent SETs in either order", []linOp{
			op(linSet, "k", "1000000", 0, 30, ok("")),
			op(linSet, "k", "2000000", 10, 40, ok("")),
			op(linGet, "k", "", 50, 60, ok("1000000")),
		}, porcupine.Ok},
	} {
		if got := check(tc.ops); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
