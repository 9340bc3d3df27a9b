package replication

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// errIsolated is returned by Dial while the node is isolated.
var errIsolated = errors.New("replication: node isolated from its peers")

// streamLayer is raft's TCP stream layer with one extra switch: Isolate
// cuts every Raft connection of this node and refuses new ones in both
// directions, which is how tests partition a node. In production it is a
// plain TCP listener and dialer.
//
// The same port also carries requests forwarded from followers to the
// leader: a connection whose first byte is '*' (a RESP request) goes to the
// forward handler; anything else (Raft's RPC type byte) goes to Raft.
type streamLayer struct {
	ln      net.Listener
	raftCh  chan net.Conn
	closeCh chan struct{}
	once    sync.Once
	mu      struct {
		sync.Mutex
		isolated bool
		conns    map[*trackedConn]struct{}
		forward  func(net.Conn)
	}
}

func newStreamLayer(bind string) (*streamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	s := &streamLayer{ln: ln, raftCh: make(chan net.Conn), closeCh: make(chan struct{})}
	s.mu.conns = make(map[*trackedConn]struct{})
	go s.acceptLoop()
	return s, nil
}

// setForwardHandler sets who serves forwarded RESP connections (on any
// node: whoever leads receives them). Until set, they are closed.
func (s *streamLayer) setForwardHandler(fn func(net.Conn)) {
	s.mu.Lock()
	s.mu.forward = fn
	s.mu.Unlock()
}

func (s *streamLayer) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.Close()
			return
		}
		tc := s.track(c)
		if tc == nil {
			continue
		}
		go s.route(tc)
	}
}

// peekTimeout bounds how long a new connection may stay silent.
const peekTimeout = 30 * time.Second

func (s *streamLayer) route(c *trackedConn) {
	_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
	br := bufio.NewReader(c.Conn)
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return
	}
	c.r = br
	if first[0] == '*' {
		s.mu.Lock()
		fwd := s.mu.forward
		s.mu.Unlock()
		if fwd == nil {
			c.Close()
			return
		}
		fwd(c)
		return
	}
	select {
	case s.raftCh <- c:
	case <-s.closeCh:
		c.Close()
	}
}

func (s *streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.raftCh:
		return c, nil
	case <-s.closeCh:
		return nil, net.ErrClosed
	}
}

func (s *streamLayer) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closeCh)
		err = s.ln.Close()
		s.mu.Lock()
		open := make([]*trackedConn, 0, len(s.mu.conns))
		for c := range s.mu.conns {
			open = append(open, c)
		}
		s.mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	return err
}
func (s *streamLayer) Addr() net.Addr { return s.ln.Addr() }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	s.mu.Lock()
	isolated := s.mu.isolated
	s.mu.Unlock()
	if isolated {
		return nil, errIsolated
	}
	c, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil {
		return nil, err
	}
	if tc := s.track(c); tc != nil {
		return tc, nil
	}
	return nil, errIsolated
}

// track registers c, or closes it and returns nil while isolated.
func (s *streamLayer) track(c net.Conn) *trackedConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.isolated {
		c.Close()
		return nil
	}
	tc := &trackedConn{Conn: c, s: s}
	s.mu.conns[tc] = struct{}{}
	return tc
}

// setIsolated switches isolation; isolating closes every open connection.
func (s *streamLayer) setIsolated(on bool) {
	s.mu.Lock()
	s.mu.isolated = on
	var open []*trackedConn
	if on {
		for c := range s.mu.conns {
			open = append(open, c)
		}
	}
	s.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}

type trackedConn struct {
	net.Conn
	s    *streamLayer
	r    *bufio.Reader // set on accepted connections: holds the peeked byte
	once sync.Once
}

func (c *trackedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.mu.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}
