package command

import (
	"sync"
	"sync/atomic"
	"time"
)

// Client is the per-connection state the command layer needs. respserver
// creates one per connection and calls Server.Exec on the connection's
// goroutine; other goroutines (CLIENT LIST/KILL, INFO) read it through the
// atomic fields and mu.
type Client struct {
	ID      int64
	Addr    string // remote address
	LAddr   string // local address
	Created time.Time

	// Owned by the connection goroutine.
	DB       int
	Proto    int // 2 or 3
	Authed   bool
	ReadOnly bool // stale local reads (READONLY)
	// Internal marks a connection from another node (forwarded requests on
	// the Raft port): trusted, and never forwarded again.
	Internal bool
	// Batching: consecutive writes of one batch of input are proposed as one
	// log entry (see batch.go). Set by respserver, which must call
	// Server.FlushBatch before waiting for input.
	Batching bool
	batch    batch
	// needFence is set when new input arrives; the next read on the leader
	// then confirms leadership first (one fence per batch of input).
	needFence bool
	// CloseAfterReply is set by QUIT and CLIENT KILL of oneself: respserver
	// flushes the pending replies, then closes the connection.
	CloseAfterReply bool

	lastActive atomic.Int64 // unix ms
	dbShared   atomic.Int64 // DB for other goroutines
	protoShare atomic.Int64
	lastCmd    atomic.Pointer[string]
	noEvict    atomic.Bool // CLIENT NO-EVICT
	noTouch    atomic.Bool // CLIENT NO-TOUCH
	reply      replyState  // CLIENT REPLY; connection goroutine only
	tx         clientTx    // MULTI and WATCH (multi.go); connection goroutine only

	mu struct {
		sync.Mutex
		name, libName, libVer string
	}

	// Kill closes the connection from another goroutine (CLIENT KILL,
	// shutdown). Set by respserver; safe to call more than once.
	Kill func()
	// Conn is the connection's output side (pushes) and waits; set by
	// respserver, nil for clients without a connection.
	Conn Conn

	subs clientSubs    // pub/sub subscriptions (pubsub.go)
	blk  clientBlock   // blocked-command state (blocking.go)
	trk  clientTracker // client-side caching (tracking.go)

	ctx Ctx // reused for every command of this client
}

// NewClient returns a client with the given identity; Proto starts at 2.
func NewClient(id int64, addr, laddr string, now time.Time) *Client {
	c := &Client{ID: id, Addr: addr, LAddr: laddr, Created: now, Proto: 2}
	c.lastActive.Store(now.UnixMilli())
	c.protoShare.Store(2)
	return c
}

// NewInput tells the client that a new batch of requests arrived (called
// by the connection loop before it reads from the socket again).
func (c *Client) NewInput() { c.needFence = true }

// Name returns the name set by CLIENT SETNAME.
func (c *Client) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.name
}

// SetName sets the connection name.
func (c *Client) SetName(n string) {
	c.mu.Lock()
	c.mu.name = n
	c.mu.Unlock()
}

// LibInfo returns lib-name and lib-ver set by CLIENT SETINFO.
func (c *Client) LibInfo() (name, ver string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.libName, c.mu.libVer
}

// SetLibInfo sets lib-name (if name != nil) and lib-ver (if ver != nil).
func (c *Client) SetLibInfo(name, ver *string) {
	c.mu.Lock()
	if name != nil {
		c.mu.libName = *name
	}
	if ver != nil {
		c.mu.libVer = *ver
	}
	c.mu.Unlock()
}

// SelectDB switches the client's database.
func (c *Client) SelectDB(db int) {
	c.DB = db
	c.dbShared.Store(int64(db))
}

// SetProto switches the reply protocol (the writer is switched by the caller).
func (c *Client) SetProto(p int) {
	c.Proto = p
	c.protoShare.Store(int64(p))
}

// Snapshot is a consistent-enough view of a client for CLIENT LIST/INFO.
type Snapshot struct {
	ID              int64
	Addr, LAddr     string
	Name            string
	LibName, LibVer string
	AgeSec, IdleSec int64
	DB              int
	Proto           int
	LastCmd         string
	NoEvict         bool // CLIENT NO-EVICT on
	NoTouch         bool // CLIENT NO-TOUCH on
	// Set by the server (clientcmd.go's snapshot): subscriptions, blocked,
	// tracking and its redirect (-1 when not tracking).
	Sub, PSub, SSub int
	Blocked         bool
	Tracking        bool
	Redir           int64
}

// Snapshot returns the client's state for listing, readable from any goroutine.
func (c *Client) Snapshot(now time.Time) Snapshot {
	s := Snapshot{ID: c.ID, Addr: c.Addr, LAddr: c.LAddr, DB: int(c.dbShared.Load()), Proto: int(c.protoShare.Load())}
	s.Name = c.Name()
	s.NoEvict, s.NoTouch = c.noEvict.Load(), c.noTouch.Load()
	s.LibName, s.LibVer = c.LibInfo()
	s.AgeSec = int64(now.Sub(c.Created) / time.Second)
	s.IdleSec = (now.UnixMilli() - c.lastActive.Load()) / 1000
	if p := c.lastCmd.Load(); p != nil {
		s.LastCmd = *p
	} else {
		s.LastCmd = "NULL"
	}
	return s
}

// clientRegistry holds every connected client.
type clientRegistry struct {
	mu      sync.Mutex
	clients map[int64]*Client
	nextID  atomic.Int64
}

func (r *clientRegistry) add(c *Client) {
	r.mu.Lock()
	if r.clients == nil {
		r.clients = make(map[int64]*Client)
	}
	r.clients[c.ID] = c
	r.mu.Unlock()
}

func (r *clientRegistry) remove(c *Client) {
	r.mu.Lock()
	delete(r.clients, c.ID)
	r.mu.Unlock()
}

// list returns the clients ordered by ID.
func (r *clientRegistry) list() []*Client {
	r.mu.Lock()
	out := make([]*Client, 0, len(r.clients))
	for _, c := range r.clients {
		out = append(out, c)
	}
	r.mu.Unlock()
	sortClients(out)
	return out
}

func (r *clientRegistry) get(id int64) *Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clients[id]
}

func (r *clientRegistry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients)
}
