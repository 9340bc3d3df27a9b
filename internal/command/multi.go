package command

import (
	"bytes"
	"context"
	"errors"
	"strconv"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, as redis-server 7.0
// answers them, replicated.
//
// MULTI queues commands on the connection (+QUEUED); a command refused
// while queueing (unknown, wrong arity, not allowed in MULTI) answers its
// error at once and makes EXEC answer EXECABORT. EXEC turns the queue into
// steps (execRun):
//
//   - keyspace writes are prepared on the leader, as outside a transaction,
//     and their operations become steps of one op.Txn log entry, applied
//     atomically on every replica;
//   - keyspace reads become read steps of the same entry: the leader runs the
//     read handler while it applies the entry, at the step's position, with a
//     view of the store as of that point (store.TxnHook), so MULTI; GET a;
//     SET a 2; GET a; EXEC answers the old value, OK, 2; other replicas skip
//     read steps;
//   - every other command (PING, SELECT, CLIENT ...) runs on the client's own
//     node after the entry is applied, in its place in the reply.
//
// WATCH records each key's revision (store.Revisions; the leader's, after a
// read fence, so a follower asks the leader) and the entry carries them as
// conditions: if a watched key changed, expired, was flushed or swapped away
// since, apply changes nothing and EXEC answers a null array.
//
// On a follower EXEC sends the watched revisions and the keyspace steps to
// the leader in one request (SKIFF.EXEC) and relays its reply, byte for byte
// when the transaction has no local step.

// Names of the internal commands, accepted only from other nodes.
const (
	cmdNameSkiffExec = "skiff.exec"     // SKIFF.EXEC ncond {db key rev} {db argc arg...}
	cmdNameWatchRev  = "skiff.watchrev" // SKIFF.WATCHREV key [key ...] (db from SKIFF.FWD)
)

func multiCommands() []*Command {
	const g = "transactions"
	f := NoScript | Loading | Stale | Fast
	return []*Command{
		{Name: "multi", Arity: 1, Flags: f, Group: g, Since: "1.2.0", Summary: "Starts a transaction.", Complexity: "O(1)", Handler: cmdMulti},
		{Name: "exec", Arity: 1, Flags: NoScript | Loading | Stale | SkipSlowlog, Group: g, Since: "1.2.0", Summary: "Executes all commands in a transaction.", Complexity: "Depends on commands in the transaction", Handler: cmdExec},
		{Name: "discard", Arity: 1, Flags: f, Group: g, Since: "2.0.0", Summary: "Discards a transaction.", Complexity: "O(N), when N is the number of queued commands", Handler: cmdDiscard},
		{Name: "watch", Arity: -2, Flags: f, FirstKey: 1, LastKey: -1, Step: 1, Group: g, Since: "2.2.0", Summary: "Monitors changes to keys to determine the execution of a transaction.", Complexity: "O(1) for every key.", Handler: cmdWatch},
		{Name: "unwatch", Arity: 1, Flags: f, Group: g, Since: "2.2.0", Summary: "Forgets about watched keys of a transaction.", Complexity: "O(1)", Handler: cmdUnwatch},
		{Name: cmdNameSkiffExec, Arity: -2, Flags: NoAuth | NoScript, Group: "cluster", Since: "skiff 0.1",
			Summary: "Internal: a follower's EXEC, run by the leader (accepted only from other nodes).", Handler: cmdSkiffExec},
		{Name: cmdNameWatchRev, Arity: -2, Flags: NoAuth | NoScript, Group: "cluster", Since: "skiff 0.1",
			Summary: "Internal: the revisions a follower's WATCH records (accepted only from other nodes).", Handler: cmdWatchRev},
	}
}

// clientTx is a client's MULTI and WATCH state.
type clientTx struct {
	on      bool // in MULTI or watching keys: Exec calls txnQueue
	multi   bool
	dirty   bool // a command was refused while queueing: EXEC aborts
	queue   []queuedCmd
	watched []op.TxnCond
	seen    map[string]struct{} // watched db/key pairs
	out     *txOut              // kept across transactions
}

// txOut is where EXEC's handlers write while it prepares writes and runs
// reads (a Writer's buffer is 16 KiB: one per client, not per EXEC).
type txOut struct {
	w   *resp.Writer
	buf bytes.Buffer
}

type queuedCmd struct {
	cmd  *Command // the subcommand for a container
	args [][]byte // owned copies
}

// clear ends the transaction and forgets the watched keys (EXEC, DISCARD,
// RESET).
func (t *clientTx) clear() { *t = clientTx{out: t.out} }

// txnQueue is Exec's path for a client in MULTI or watching keys. It
// returns true when it has answered: the command was queued, or refused
// while queueing, which also makes EXEC fail (Redis's rejectCommand
// flagging the transaction). MULTI, EXEC, DISCARD, WATCH, QUIT and RESET run
// at once.
func (s *Server) txnQueue(ctx *Ctx, cmd *Command) bool {
	c := ctx.Client
	if !c.tx.multi {
		if cmd != nil && cmd.Name == "reset" {
			c.tx.clear()
		}
		return false
	}
	args := ctx.Args
	refuse := func(cmd *Command, reply func()) bool {
		if cmd != nil {
			cmd.stats.rejected.Add(1)
		}
		reply()
		s.stats.errorReplies.Add(1)
		c.tx.dirty = true
		return true
	}
	if cmd == nil {
		return refuse(nil, func() { ctx.ErrorString(unknownCommand(args)) })
	}
	ctx.Cmd = cmd
	if !checkArity(cmd.Arity, len(args)) {
		if cmd.Name == "exec" {
			return false // Exec's arity check aborts the transaction (Ctx.WrongArity)
		}
		return refuse(cmd, ctx.WrongArity)
	}
	if cmd.Subcommands != nil && (cmd.Handler == nil || len(args) > 1) {
		sub := cmd.subcommand(args)
		if sub == nil {
			return refuse(cmd, func() { ctx.ErrorString(unknownSubcommand(args, cmd.Name)) })
		}
		cmd = sub
		ctx.Cmd = sub
		if !checkArity(cmd.Arity, len(args)) {
			return refuse(cmd, ctx.WrongArity)
		}
	}
	if !c.Authed && cmd.Flags&NoAuth == 0 {
		return refuse(cmd, func() { ctx.Error(ErrNoAuth) })
	}
	switch cmd.Name {
	case "reset":
		c.tx.clear()
		return false
	case "exec", "discard", "multi", "watch", "quit":
		return false
	}
	if cmd.Flags&NoMulti != 0 {
		return refuse(cmd, func() { ctx.ErrorString("ERR Command not allowed inside a transaction") })
	}
	c.tx.queue = append(c.tx.queue, queuedCmd{cmd: cmd, args: copyArgs(args)})
	ctx.W.WriteSimple("QUEUED")
	c.lastActive.Store(ctx.now)
	c.lastCmd.Store(&cmd.Name)
	return true
}

// copyArgs copies args into one allocation (they alias the reader's buffer).
func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}

func cmdMulti(c *Ctx) {
	t := &c.Client.tx
	if t.multi {
		c.ErrorString("ERR MULTI calls can not be nested")
		return
	}
	t.multi, t.on = true, true
	c.OK()
}

func cmdDiscard(c *Ctx) {
	if !c.Client.tx.multi {
		c.ErrorString("ERR DISCARD without MULTI")
		return
	}
	c.Client.tx.clear()
	c.OK()
}

func cmdUnwatch(c *Ctx) {
	t := &c.Client.tx
	t.watched, t.seen = nil, nil
	t.on = t.multi
	c.OK()
}

func cmdWatch(c *Ctx) {
	t := &c.Client.tx
	if t.multi {
		c.ErrorString("ERR WATCH inside MULTI is not allowed")
		return
	}
	db, keys := c.Client.DB, c.Args[1:]
	revs, err := c.Srv.watchRevs(c, db, keys)
	if err != nil {
		c.Error(err)
		return
	}
	if t.seen == nil {
		t.seen = make(map[string]struct{})
	}
	for i, k := range keys {
		id := strconv.Itoa(db) + ":" + string(k)
		if _, ok := t.seen[id]; ok {
			continue // watched already: the first revision stands, as in Redis
		}
		t.seen[id] = struct{}{}
		t.watched = append(t.watched, op.TxnCond{DB: db, Key: bytes.Clone(k), Rev: revs[i]})
	}
	t.on = true
	c.OK()
}

// watchRevs returns the revisions of keys in database db as the leader holds
// them, after a read fence: a revision read anywhere else could be older than
// a write already acknowledged, and EXEC would then miss the change a
// client's GET after WATCH already saw. On a follower it asks the leader
// (SKIFF.WATCHREV), one round trip per WATCH, as a linearizable read costs.
func (s *Server) watchRevs(c *Ctx, db int, keys [][]byte) ([]uint64, error) {
	cl := c.Client
	for attempt := 0; attempt < 2; attempt++ {
		if s.eng.IsLeader() {
			if cl.needFence {
				err := s.eng.ReadBarrier(s.ctx)
				if errors.Is(err, engine.ErrNotLeader) {
					continue
				}
				if err != nil {
					return nil, err
				}
				cl.needFence = false
			}
			return s.eng.Store().Revisions(db, keys, c.Now(), nil), nil
		}
		if cl.Internal {
			return nil, engine.ErrNotLeader
		}
		args := make([][]byte, 0, 1+len(keys))
		args = append(append(args, []byte(cmdNameWatchRev)), keys...)
		reply, err := s.eng.Forward(s.ctx, db, 2, args)
		if errors.Is(err, engine.ErrNotLeader) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return parseRevs(reply, len(keys))
	}
	return nil, engine.ErrNoLeader
}

// parseRevs reads SKIFF.WATCHREV's reply: an array of n integers.
func parseRevs(reply []byte, n int) ([]uint64, error) {
	if len(reply) > 0 && reply[0] == '-' {
		return nil, replyError(bytes.TrimSuffix(reply[1:], []byte("\r\n")))
	}
	elems, null, err := splitArray(reply)
	if err != nil || null || len(elems) != n {
		return nil, errBadLeaderReply
	}
	revs := make([]uint64, n)
	for i, e := range elems {
		if len(e) < 3 || e[0] != ':' {
			return nil, errBadLeaderReply
		}
		// An integer reply is signed: a revision with store.RevAbsent set
		// travels as a negative number (cmdWatchRev).
		v, ok := op.ParseInt(e[1 : len(e)-2])
		if !ok {
			return nil, errBadLeaderReply
		}
		revs[i] = uint64(v)
	}
	return revs, nil
}

var errBadLeaderReply = replyError("ERR internal error: unexpected reply from the leader")

// cmdWatchRev is SKIFF.WATCHREV key [key ...], run on the leader for a
// follower's WATCH.
func cmdWatchRev(c *Ctx) {
	if !c.Client.Internal {
		c.ErrorString(unknownCommand(c.Args))
		return
	}
	revs, err := c.Srv.watchRevs(c, c.Client.DB, c.Args[1:])
	if err != nil {
		c.Error(err)
		return
	}
	c.W.WriteArrayLen(len(revs))
	for _, r := range revs {
		c.W.WriteInt(int64(r)) // store.RevAbsent makes it negative: parseRevs casts back
	}
}

func cmdExec(c *Ctx) {
	t := c.Client.tx
	if !t.multi {
		c.ErrorString("ERR EXEC without MULTI")
		return
	}
	c.Client.tx.clear() // EXEC ends the transaction and unwatches, whatever happens
	if t.dirty {
		c.ErrorString("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	r := newExecRun(c, t.watched)
	db := c.Client.DB // SELECT inside the transaction: keyspace steps after it use its database
	for _, q := range t.queue {
		kind := stepLocal
		switch {
		case q.cmd.Flags&Write != 0:
			kind = stepWrite
		case q.cmd.Flags&ReadOnly != 0:
			kind = stepRead
		}
		r.steps = append(r.steps, txStep{cmd: q.cmd, args: q.args, db: db, kind: kind, idx: -1})
		if q.cmd.Name == "select" {
			if n, err := parseInt32(q.args[1], ""); err == nil && n >= 0 && n < c.Store().Databases() {
				db = n
			}
		}
	}
	r.run()
}

// cmdSkiffExec is SKIFF.EXEC ncond {db key rev}... {db argc arg...}...: a
// follower's transaction (its watched revisions and keyspace steps), run
// here as leader. The reply is EXEC's for those steps.
func cmdSkiffExec(c *Ctx) {
	if !c.Client.Internal {
		c.ErrorString(unknownCommand(c.Args))
		return
	}
	conds, steps, ok := parseSkiffExec(c.Srv, c.Args[1:])
	if !ok {
		c.SyntaxError()
		return
	}
	r := newExecRun(c, conds)
	r.steps = steps
	r.run()
}

func parseSkiffExec(s *Server, a [][]byte) ([]op.TxnCond, []txStep, bool) {
	n, ok := op.ParseInt(a[0])
	if !ok || n < 0 || n > int64(len(a)-1)/3 {
		return nil, nil, false
	}
	a = a[1:]
	conds := make([]op.TxnCond, n)
	for i := range conds {
		db, ok1 := op.ParseInt(a[0])
		rev, ok2 := op.ParseUint(a[2])
		if !ok1 || !ok2 || db < 0 {
			return nil, nil, false
		}
		conds[i] = op.TxnCond{DB: int(db), Key: a[1], Rev: rev}
		a = a[3:]
	}
	var steps []txStep
	for len(a) > 0 {
		if len(a) < 3 {
			return nil, nil, false
		}
		db, ok1 := op.ParseInt(a[0])
		argc, ok2 := op.ParseInt(a[1])
		if !ok1 || !ok2 || db < 0 || argc < 1 || argc > int64(len(a)-2) {
			return nil, nil, false
		}
		args := a[2 : 2+argc]
		a = a[2+argc:]
		cmd := s.table.Lookup(args[0])
		if cmd != nil && cmd.Subcommands != nil && (cmd.Handler == nil || len(args) > 1) {
			cmd = cmd.subcommand(args)
		}
		if cmd == nil || !checkArity(cmd.Arity, len(args)) || cmd.Flags&(Write|ReadOnly) == 0 {
			return nil, nil, false
		}
		kind := stepRead
		if cmd.Flags&Write != 0 {
			kind = stepWrite
		}
		steps = append(steps, txStep{cmd: cmd, args: args, db: int(db), kind: kind, idx: -1})
	}
	return conds, steps, true
}

type stepKind uint8

const (
	stepLocal stepKind = iota // runs on the client's node after the keyspace steps
	stepWrite                 // prepared on the leader into an operation of the Txn
	stepRead                  // run on the leader while the Txn is applied
)

// txStep is one queued command of a running EXEC.
type txStep struct {
	cmd    *Command
	args   [][]byte
	db     int // the database it runs in (SELECT inside the transaction)
	kind   stepKind
	idx    int          // its Txn step (a read, or a write that proposed), -1 if none
	fn     ReplyFunc    // a write's reply from its result
	res    store.Result // a write's result
	out    []byte       // reply bytes already formed: a handler's direct reply, a read's reply, the leader's reply
	failed bool
}

type runMode uint8

const (
	modePrepare runMode = iota + 1 // write handlers run: Propose adds to the Txn
	modeApply                      // the Txn is being replicated: read steps run in its apply
	modeLocal                      // the local steps run and the replies are written
)

// execRun is one EXEC being run. It is used on the client's connection
// goroutine, except for readStep, which the apply goroutine calls while the
// connection goroutine waits in ProposeTxn.
type execRun struct {
	srv   *Server
	ctx   *Ctx
	conds []op.TxnCond
	steps []txStep
	mode  runMode
	cur   int // the step whose handler runs
	b     op.TxnBuilder
	byIdx []int        // Txn step -> index in steps
	view  *store.Store // a read step's view of the store
	proto int
	sw    *resp.Writer // handlers write here while preparing and reading
	sbuf  *bytes.Buffer
	relay []byte // a follower's EXEC: the leader's reply, written as is
	nops  int    // operations prepared so far
	prep  prepState
}

func newExecRun(c *Ctx, conds []op.TxnCond) *execRun {
	t := &c.Client.tx
	if t.out == nil {
		t.out = &txOut{}
		t.out.w = resp.NewWriter(&t.out.buf)
	}
	if t.out.buf.Cap() > 1<<20 {
		t.out.buf = bytes.Buffer{} // a big reply's memory is not kept (the writer holds &t.out.buf)
	}
	t.out.buf.Reset()
	return &execRun{srv: c.Srv, ctx: c, conds: conds, proto: c.W.Proto(), sw: t.out.w, sbuf: &t.out.buf}
}

// txnEngine is what EXEC needs beyond Engine.
type txnEngine interface {
	ProposeTxn(ctx context.Context, o *op.Op, hook store.TxnHook) (store.TxnResult, error)
}

var _ txnEngine = (*engine.Engine)(nil)

// run executes the transaction and writes EXEC's reply.
func (r *execRun) run() {
	c := r.ctx
	w, execCmd := c.W, c.Cmd
	defer func() {
		c.txn, c.W, c.Cmd = nil, w, execCmd
	}()
	c.txn = r
	keyspace := len(r.conds) > 0
	for i := range r.steps {
		keyspace = keyspace || r.steps[i].kind != stepLocal
	}
	if keyspace {
		aborted, err := r.runKeyspace()
		if err != nil {
			c.W = w
			c.Cmd, c.failed = execCmd, false
			c.Error(err)
			return
		}
		if aborted {
			w.WriteNullArray()
			return
		}
	}
	r.mode = modeLocal
	if r.relay != nil {
		w.WriteRaw(r.relay)
		for i := range r.steps {
			st := &r.steps[i]
			r.count(st, st.failed)
			if c.Client.trk.on && st.cmd.Flags&ReadOnly != 0 {
				c.Args = st.args
				r.srv.remember(c, st.cmd)
			}
		}
		c.failed = false
		return
	}
	w.WriteArrayLen(len(r.steps))
	for i := range r.steps {
		r.reply(&r.steps[i], w)
	}
	c.failed = false
}

// runKeyspace runs the keyspace steps on the leader, forwarding them when
// this node does not lead.
func (r *execRun) runKeyspace() (aborted bool, err error) {
	s, cl := r.srv, r.ctx.Client
	for attempt := 0; attempt < 2; attempt++ {
		if s.eng.IsLeader() {
			aborted, err = r.runLeader()
			if errors.Is(err, engine.ErrNotLeader) && !cl.Internal {
				r.resetKeyspace() // not proposed: forward instead
				continue
			}
			return aborted, err
		}
		if cl.Internal {
			return false, engine.ErrNotLeader
		}
		aborted, err = r.forward()
		if errors.Is(err, engine.ErrNotLeader) {
			continue // leads now: run here
		}
		return aborted, err
	}
	return false, engine.ErrNoLeader
}

func (r *execRun) resetKeyspace() {
	for i := range r.steps {
		st := &r.steps[i]
		st.idx, st.fn, st.res, st.out, st.failed = -1, nil, store.Result{}, nil, false
	}
	r.b, r.byIdx, r.relay, r.prep, r.nops = op.TxnBuilder{}, nil, nil, prepState{}, 0
}

// runLeader prepares the writes, proposes the Txn and runs the reads while
// it is applied.
func (r *execRun) runLeader() (bool, error) {
	txe, ok := r.srv.eng.(txnEngine)
	if !ok {
		return false, replyError("ERR transactions are not supported here")
	}
	c := r.ctx
	cl := c.Client
	for _, cd := range r.conds {
		r.b.Cond(cd.DB, cd.Key, cd.Rev)
	}
	db := cl.DB
	r.mode = modePrepare
	reads := false
	for i := range r.steps {
		st := &r.steps[i]
		switch st.kind {
		case stepWrite:
			r.cur = i
			cl.DB = st.db
			r.runHandler(st)
		case stepRead:
			st.idx = r.b.Read()
			r.byIdx = append(r.byIdx, i)
			reads = true
		}
	}
	cl.DB = db
	r.mode = modeApply
	if r.nops == 0 {
		return r.runReadOnly()
	}
	var hook store.TxnHook
	if reads {
		hook = r.readStep
	}
	res, err := txe.ProposeTxn(r.srv.ctx, r.b.Op(c.Now()), hook)
	if err != nil {
		return false, err
	}
	if res.Aborted {
		return true, nil
	}
	for i := range r.steps {
		if st := &r.steps[i]; st.kind == stepWrite && st.idx >= 0 && st.idx < len(res.Results) {
			st.res = res.Results[st.idx]
		}
	}
	return false, nil
}

// runReadOnly runs a transaction without writes (reads, WATCH conditions,
// writes that failed before preparing) without the log: after a read fence,
// as any read, the conditions are checked and the reads run under the
// store's read lock, so they see one state.
func (r *execRun) runReadOnly() (bool, error) {
	s, cl := r.srv, r.ctx.Client
	if len(r.byIdx) == 0 && len(r.conds) == 0 {
		return false, nil
	}
	if cl.needFence {
		if err := s.eng.ReadBarrier(s.ctx); err != nil {
			return false, err
		}
		cl.needFence = false
	}
	ok := s.eng.Store().ReadTxn(r.conds, r.ctx.Now(), func(view *store.Store) {
		for k := range r.byIdx {
			r.readStep(k, view)
		}
	})
	return !ok, nil
}

// runHandler runs st's handler, keeping what it writes directly.
func (r *execRun) runHandler(st *txStep) {
	c := r.ctx
	r.sw.SetProto(r.proto)
	c.Args, c.Cmd, c.W, c.failed = st.args, st.cmd, r.sw, false
	st.cmd.Handler(c)
	_ = r.sw.Flush()
	if r.sbuf.Len() > 0 {
		st.out = bytes.Clone(r.sbuf.Bytes())
		r.sbuf.Reset()
	}
	st.failed = c.failed
}

// readStep is the Txn's read hook (store.TxnHook): it runs read step k's
// handler against view, on the apply goroutine. The connection goroutine
// waits in ProposeTxn meanwhile, and ProposeTxn returns only after the hook
// can no longer run.
func (r *execRun) readStep(k int, view *store.Store) {
	if k < 0 || k >= len(r.byIdx) {
		return
	}
	st := &r.steps[r.byIdx[k]]
	cl := r.ctx.Client
	db := cl.DB
	cl.DB, r.view = st.db, view
	r.runHandler(st)
	cl.DB, r.view = db, nil
}

// store is Ctx.Store while EXEC runs.
func (r *execRun) store(c *Ctx) *store.Store {
	switch {
	case r.view != nil:
		return r.view
	case r.mode == modePrepare && r.nops > 0:
		return r.prep.storeFor(r) // earlier writes of the transaction are not applied yet
	}
	return c.Srv.eng.Store()
}

// propose is Ctx.Propose while EXEC runs: a write being prepared joins the
// Txn. It returns false when the caller should propose as usual (a local
// step's own write, PUBLISH).
func (r *execRun) propose(c *Ctx, o *op.Op, reply ReplyFunc) bool {
	switch r.mode {
	case modePrepare:
	case modeLocal:
		return false
	default:
		c.ErrorString("ERR internal error: a read in a transaction tried to write")
		return true
	}
	st := &r.steps[r.cur]
	if st.idx >= 0 {
		c.ErrorString("ERR internal error: a command proposed twice in a transaction")
		return true
	}
	if r.prep.st != nil {
		r.prep.apply(r, o)
	}
	st.idx = r.b.Step(o)
	st.fn = reply
	r.byIdx = append(r.byIdx, r.cur)
	r.nops++
	return true
}

// forward sends the keyspace steps and the watched revisions to the leader
// (SKIFF.EXEC) and keeps its replies.
func (r *execRun) forward() (bool, error) {
	c := r.ctx
	args := [][]byte{[]byte(cmdNameSkiffExec), op.Itoa(int64(len(r.conds)))}
	for _, cd := range r.conds {
		args = append(args, op.Itoa(int64(cd.DB)), cd.Key, op.AppendUint(nil, cd.Rev))
	}
	n, writes, local := 0, false, false
	for i := range r.steps {
		st := &r.steps[i]
		if st.kind == stepLocal {
			local = true
			continue
		}
		n++
		writes = writes || st.kind == stepWrite
		args = append(args, op.Itoa(int64(st.db)), op.Itoa(int64(len(st.args))))
		args = append(args, st.args...)
	}
	reply, err := r.srv.eng.Forward(r.srv.ctx, c.Client.DB, r.proto, args)
	if err != nil {
		if errors.Is(err, engine.ErrForward) && writes {
			err = engine.ErrOutcomeUnknown
		}
		return false, err
	}
	if len(reply) > 0 && reply[0] == '-' {
		return false, replyError(bytes.TrimSuffix(reply[1:], []byte("\r\n")))
	}
	elems, null, err := splitArray(reply)
	if err != nil || (!null && len(elems) != n) {
		return false, errBadLeaderReply
	}
	if null {
		return true, nil
	}
	j := 0
	for i := range r.steps {
		if st := &r.steps[i]; st.kind != stepLocal {
			st.out = elems[j]
			st.failed = len(st.out) > 0 && st.out[0] == '-'
			j++
		}
	}
	if !local {
		r.relay = reply
	}
	return false, nil
}

// splitArray splits an array reply into its elements' bytes; null reports
// a null array (*-1, or RESP3's _).
func splitArray(reply []byte) (elems [][]byte, null bool, err error) {
	if string(reply) == "*-1\r\n" || string(reply) == "_\r\n" {
		return nil, true, nil
	}
	i := bytes.Index(reply, []byte("\r\n"))
	if len(reply) == 0 || reply[0] != '*' || i < 0 {
		return nil, false, errBadLeaderReply
	}
	n, ok := op.ParseInt(reply[1:i])
	if !ok || n < 0 {
		return nil, false, errBadLeaderReply
	}
	rd := resp.NewReader(bytes.NewReader(reply[i+2:]), 4096)
	elems = make([][]byte, 0, n)
	for range n {
		e, err := rd.ReadReply()
		if err != nil {
			return nil, false, errBadLeaderReply
		}
		elems = append(elems, e)
	}
	return elems, false, nil
}

// reply writes step st's reply, running a local step's handler now.
func (r *execRun) reply(st *txStep, w *resp.Writer) {
	c := r.ctx
	c.Args, c.Cmd, c.W, c.failed = st.args, st.cmd, w, false
	if st.kind == stepLocal {
		st.cmd.Handler(c)
		r.count(st, c.failed)
		return
	}
	w.WriteRaw(st.out)
	c.failed = st.failed
	if st.fn != nil {
		cl := c.Client
		db := cl.DB
		cl.DB = st.db
		if st.res.Err != nil {
			c.Error(st.res.Err)
		} else {
			st.fn(c, st.res.Value)
		}
		cl.DB = db
	}
	if c.Client.trk.on && st.cmd.Flags&ReadOnly != 0 {
		r.srv.remember(c, st.cmd) // client-side caching tracks reads in EXEC too
	}
	r.count(st, c.failed)
}

// count records an executed step in the command statistics.
func (r *execRun) count(st *txStep, failed bool) {
	st.cmd.stats.calls.Add(1)
	r.srv.stats.commands.Add(1)
	if failed {
		st.cmd.stats.failed.Add(1)
		r.srv.stats.errorReplies.Add(1)
	}
}

// prepState is the scratch store a write handler reads while EXEC prepares
// it (SPOP choosing members, a blocking pop finding its key): the keys the
// transaction's writes name, copied from the store, with the transaction's
// earlier operations applied, so the handler sees what they leave. Every key
// an operation touches is named in its command's arguments, except for
// FLUSHDB, FLUSHALL and SWAPDB, after which a newly named key is not copied
// but the whole scratch rebuilt.
type prepState struct {
	st      *store.Store
	known   map[string]struct{}
	keys    [][]byte
	wholeDB bool // a FLUSHDB, FLUSHALL or SWAPDB was applied to st
}

// storeFor returns the scratch store for the step being prepared.
func (p *prepState) storeFor(r *execRun) *store.Store {
	args := r.steps[r.cur].args[1:]
	switch {
	case p.st == nil, p.wholeDB && p.missing(args):
		p.build(r)
	default:
		p.ensure(r, args)
	}
	return p.st
}

// build copies every key the writes so far name and replays their operations.
func (p *prepState) build(r *execRun) {
	real := r.srv.eng.Store()
	p.st, p.known, p.keys = real.NewScratch(), make(map[string]struct{}), nil
	for i := 0; i <= r.cur; i++ {
		if r.steps[i].kind == stepWrite {
			p.add(r.steps[i].args[1:])
		}
	}
	real.CopyKeys(p.st, p.keys)
	for i := 0; i < r.b.Steps(); i++ {
		if enc := r.b.Encoded(i); enc != nil {
			if o, _, err := op.Decode(enc); err == nil {
				p.applyOne(&o)
			}
		}
	}
}

func (p *prepState) missing(args [][]byte) bool {
	for _, a := range args {
		if _, ok := p.known[string(a)]; !ok {
			return true
		}
	}
	return false
}

func (p *prepState) add(args [][]byte) (added [][]byte) {
	for _, a := range args {
		if _, ok := p.known[string(a)]; !ok {
			p.known[string(a)] = struct{}{}
			p.keys = append(p.keys, a)
			added = append(added, a)
		}
	}
	return added
}

// ensure copies the keys of args not copied yet.
func (p *prepState) ensure(r *execRun, args [][]byte) {
	if added := p.add(args); len(added) > 0 {
		r.srv.eng.Store().CopyKeys(p.st, added)
	}
}

// apply applies an operation being proposed to the scratch store.
func (p *prepState) apply(r *execRun, o *op.Op) {
	args := r.steps[r.cur].args[1:]
	if p.wholeDB && p.missing(args) {
		p.build(r) // o is not in the builder yet: build replays only the earlier ones
	} else {
		p.ensure(r, args)
	}
	p.applyOne(o)
}

func (p *prepState) applyOne(o *op.Op) {
	_, _ = p.st.Apply(o)
	switch o.Code {
	case op.FlushDB, op.FlushAll, op.SwapDB:
		p.wholeDB = true
	}
}
