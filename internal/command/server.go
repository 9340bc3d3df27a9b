package command

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"sort"
	"sync/atomic"
	"time"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
	"github.com/skiffdb/skiff/internal/telemetry"
)

// Engine is what the command layer needs from the engine (declared here so
// command depends on behaviour, not on the engine package's types).
type Engine interface {
	// Store returns the local store for reads.
	Store() *store.Store
	// Now returns the clock in unix milliseconds.
	Now() int64
	// Propose replicates and applies o, returning its reply value.
	Propose(ctx context.Context, o *op.Op) (any, error)
	// IsLeader reports whether this node executes keyspace commands itself.
	IsLeader() bool
	// ReadBarrier returns when local reads are linearizable (leader only).
	ReadBarrier(ctx context.Context) error
	// ProposeBatch replicates an entry of n encoded operations and returns
	// their results in order. It takes ownership of entry.
	ProposeBatch(ctx context.Context, entry []byte, n int) ([]store.Result, error)
	// Forward relays a command to the leader and returns its raw reply.
	Forward(ctx context.Context, db, proto int, args [][]byte) ([]byte, error)
}

// Options configures a Server.
type Options struct {
	Engine   Engine
	Logger   *slog.Logger
	Version  string // skiff version
	RESPAddr string // the address RESP listens on (for INFO and HELLO)
	// Now overrides the command clock (unix ms) for tests; nil = wall clock.
	Now func() int64
	// Cluster answers the cluster admin commands, INFO replication and ROLE;
	// nil on a node without replication (unit tests).
	Cluster Cluster
	// Params are initial runtime parameters (CONFIG GET/SET), e.g.
	// "requirepass", "databases"; unknown names are an error at New.
	Params map[string]string
	// Metrics receives RESP command latencies (metrics.go); nil = off.
	Metrics *telemetry.Metrics
}

// Server executes commands for every front door. It is safe for concurrent
// use: each connection calls Exec on its own goroutine.
type Server struct {
	eng     Engine
	cluster Cluster
	lcache  leaderCache
	clock   func() int64
	log     *slog.Logger
	table   *Table
	clients clientRegistry
	params  *Params
	version string
	addr    string
	started time.Time
	runID   string
	pid     int
	ctx     context.Context
	stats   serverStats
	fam     familyState // state of the server and connection families (serverfamily.go)
	pubsub  pubsubHub   // subscriptions and delivery (pubsub.go)
	blk     blocker     // blocked clients (blocking.go)
	track   tracker     // client-side caching (tracking.go)
	api     apiState    // the keyspace API: pooled internal clients, the watch hub (apiclient.go, watch.go)
	// RESP latency histograms (metrics.go); nil = off
	metrics *respMetrics
	// the dashboard's latency histogram and sampler (overview.go)
	ovw overviewState
	// SLOWLOG, LATENCY and MONITOR (slowlog.go, latency.go, monitor.go)
	intro introState
}

type serverStats struct {
	connections   atomic.Int64 // total_connections_received
	commands      atomic.Int64 // total_commands_processed
	rejectedConns atomic.Int64
	keyspaceHits  atomic.Int64
	keyspaceMiss  atomic.Int64
	netInput      atomic.Int64
	netOutput     atomic.Int64
	errorReplies  atomic.Int64
}

// NewServer returns a server with the full command table.
func NewServer(ctx context.Context, opts Options) (*Server, error) {
	s := &Server{
		eng:     opts.Engine,
		clock:   opts.Now,
		cluster: opts.Cluster,
		log:     opts.Logger,
		version: opts.Version,
		addr:    opts.RESPAddr,
		started: time.Now(),
		runID:   newRunID(),
		pid:     os.Getpid(),
		ctx:     ctx,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	params, err := newParams(opts.Params)
	if err != nil {
		return nil, err
	}
	params.setListenAddr(opts.RESPAddr, opts.Params)
	s.params = params
	s.pubsub.params = params
	s.table = newTable(allFamilies()...)
	s.metrics = newRESPMetrics(opts.Metrics, s.table)
	return s, nil
}

// SetAddr records the bound RESP address (known after listening).
func (s *Server) SetAddr(addr string) { s.addr = addr }

// Table returns the command table.
func (s *Server) Table() *Table { return s.table }

// Params returns the runtime parameters.
func (s *Server) Params() *Params { return s.params }

// NewClient registers a new connection and returns its client state.
func (s *Server) NewClient(addr, laddr string) *Client {
	c := NewClient(s.clients.nextID.Add(1), addr, laddr, time.Now())
	c.ctx = Ctx{Client: c, Srv: s, ctx: s.ctx}
	c.Authed = !s.AuthRequired()
	s.clients.add(c)
	s.stats.connections.Add(1)
	return c
}

// RejectConnection counts a connection refused at maxclients (INFO
// rejected_connections, skiff_connections_rejected_total).
func (s *Server) RejectConnection() { s.stats.rejectedConns.Add(1) }

// RemoveClient unregisters a closed connection.
func (s *Server) RemoveClient(c *Client) {
	s.clients.remove(c)
	s.pubsub.removeClient(c)
	s.track.disable(c)
}

// AuthRequired reports whether a password is set.
func (s *Server) AuthRequired() bool { return s.params.Get("requirepass") != "" }

// ClientCount returns the number of connected clients.
func (s *Server) ClientCount() int { return s.clients.count() }

// AddNetStats counts bytes read from and written to clients (INFO stats).
func (s *Server) AddNetStats(in, out int64) {
	s.stats.netInput.Add(in)
	s.stats.netOutput.Add(out)
}

// Exec runs one command for c and writes its reply to w. It runs on c's
// connection goroutine; it may block while a write is replicated.
func (s *Server) Exec(c *Client, args [][]byte, w *resp.Writer) {
	ctx := &c.ctx
	out := w
	w = c.replyWriter(out) // CLIENT REPLY OFF/SKIP mute replies
	defer c.restoreProto(out, w)
	// One clock read per command serves both its time (Ctx.Now, carried in
	// its operation) and its commandstats timing.
	start := time.Now()
	ctx.Args, ctx.W, ctx.now, ctx.failed = args, w, start.UnixMilli(), false
	if s.clock != nil {
		ctx.now = s.clock()
	}
	cmd := s.table.Lookup(args[0])
	// Anything but a write that joins the pipeline batch first sends the
	// batch, so replies leave in order.
	if !c.batch.empty() && (cmd == nil || cmd.Flags&Write == 0 || !checkArity(cmd.Arity, len(args)) || !c.Authed) {
		s.FlushBatch(c, w)
	}
	if c.tx.on && s.txnQueue(ctx, cmd) { // in MULTI or watching (multi.go)
		return
	}
	if cmd == nil {
		s.stats.errorReplies.Add(1)
		msg := unknownCommand(args)
		s.fam.errors.count(msg)
		w.WriteError(msg)
		return
	}
	ctx.Cmd = cmd
	if !checkArity(cmd.Arity, len(args)) {
		cmd.stats.rejected.Add(1)
		ctx.WrongArity()
		s.stats.errorReplies.Add(1)
		return
	}
	// A container runs its own handler only when called alone (COMMAND).
	if cmd.Subcommands != nil && (cmd.Handler == nil || len(args) > 1) {
		sub := cmd.subcommand(args)
		if sub == nil {
			cmd.stats.rejected.Add(1)
			ctx.ErrorString(unknownSubcommand(args, cmd.Name))
			s.stats.errorReplies.Add(1)
			return
		}
		cmd = sub
		ctx.Cmd = sub
		if !checkArity(cmd.Arity, len(args)) { // subcommand arity counts the container's name too
			cmd.stats.rejected.Add(1)
			ctx.WrongArity()
			s.stats.errorReplies.Add(1)
			return
		}
	}
	// As in Redis, an unknown (sub)command or wrong arity is reported
	// before NOAUTH.
	if !c.Authed && cmd.Flags&NoAuth == 0 {
		cmd.stats.rejected.Add(1)
		ctx.Error(ErrNoAuth)
		s.stats.errorReplies.Add(1)
		return
	}
	// A monitor is a replica to Redis: it may not touch the keyspace.
	if cmd.Flags&(Write|ReadOnly|MayReplicate) != 0 && s.intro.mon.has(c) {
		cmd.stats.rejected.Add(1)
		ctx.ErrorString("ERR Replica can't interact with the keyspace")
		s.stats.errorReplies.Add(1)
		return
	}
	if c.Proto == 2 && c.Subscribed() && !allowedSubscribed(cmd.Name) {
		cmd.stats.rejected.Add(1)
		ctx.ErrorString("ERR Can't execute '" + cmd.Name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		s.stats.errorReplies.Add(1)
		return
	}
	// A write on the leader joins the pipeline batch.
	// Blocking commands route themselves (blocking.go): they wait on this node.
	batched := c.batching() && cmd.Flags&(Write|Blocking) == Write && s.eng.IsLeader()
	if !batched && !c.batch.empty() {
		s.FlushBatch(c, w)
	}
	if cmd.Flags&(Write|ReadOnly) != 0 && cmd.Flags&Blocking == 0 && !s.route(ctx) {
		if c.trk.on { // a read served by the leader is invalidated by this node's feed
			s.remember(ctx, cmd)
		}
		s.finish(ctx, cmd, start)
		return
	}
	ctx.batched, ctx.out = batched, w
	if batched {
		ctx.W = c.batch.writerFor(w.Proto())
	}
	cmd.Handler(ctx)
	if batched {
		c.batch.queueRaw(cmd)
		ctx.W, ctx.batched = w, false
	}
	if c.trk.on {
		s.remember(ctx, cmd) // client-side caching (tracking.go)
	}
	s.finish(ctx, cmd, start)
}

// finish records a command's statistics.
func (s *Server) finish(ctx *Ctx, cmd *Command, start time.Time) {
	c := ctx.Client
	d := time.Since(start)
	cmd.stats.calls.Add(1)
	cmd.stats.usec.Add(int64(d / time.Microsecond))
	s.metrics.observe(c, cmd, d)
	if ctx.failed {
		cmd.stats.failed.Add(1)
		s.stats.errorReplies.Add(1)
	}
	s.stats.commands.Add(1)
	c.lastActive.Store(start.UnixMilli())
	c.lastCmd.Store(&cmd.Name)
	s.observe(ctx, cmd, start, d) // latencystats, SLOWLOG, LATENCY, MONITOR (latency.go)
}

// unknownCommand formats Redis's unknown-command error: the name cut to 128
// bytes and the first arguments, quoted, until about 128 bytes of them.
func unknownCommand(args [][]byte) string {
	var list []byte
	for _, a := range args[1:] {
		if len(list) >= 128 {
			break
		}
		a = cut(a, 128-len(list))
		list = append(list, '\'')
		list = append(list, a...)
		list = append(list, "' "...)
	}
	b := make([]byte, 0, 64+len(list))
	b = append(b, "ERR unknown command '"...)
	b = append(b, cut(args[0], 128)...)
	b = append(b, "', with args beginning with: "...)
	b = append(b, list...)
	return oneLine(b)
}

// cString is b as a C string (up to its first NUL): what Redis prints of an
// argument with %s.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// cut is a as C's "%.*s" prints it, which Redis's error messages use: up
// to its first NUL byte, at most n bytes.
func cut(a []byte, n int) []byte {
	a = cString(a)
	if len(a) > n {
		return a[:n]
	}
	return a
}

// oneLine replaces CR and LF with spaces: an error reply is one line.
func oneLine(b []byte) string {
	for i, ch := range b {
		if ch == '\r' || ch == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

func unknownSubcommand(args [][]byte, name string) string {
	b := []byte("ERR unknown subcommand '")
	b = append(b, cut(args[1], 128)...)
	b = append(b, "'. Try "...)
	for _, ch := range []byte(name) {
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		b = append(b, ch)
	}
	b = append(b, " HELP."...)
	return oneLine(b)
}

func sortClients(cs []*Client) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
}

// allFamilies lists every family's commands; each lives in its own file.
func allFamilies() [][]*Command {
	return [][]*Command{
		stringCommands(),
		keyCommands(),
		listCommands(),
		listBlockingCommands(),
		zsetBlockingCommands(),
		hashCommands(),
		setCommands(),
		zsetCommands(),
		connectionCommands(),
		pubsubCommands(),
		blockingInternalCommands(),
		serverCommands(),
		clusterCommands(),
		multiCommands(),
		kvCommands(),
		slowlogCommands(),
		latencyCommands(),
		monitorCommands(),
		memoryCommands(),
		debugCommands(),
	}
}
