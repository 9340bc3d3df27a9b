package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// randTag is the placeholder redis-benchmark puts in keys; with -r N each
// occurrence is overwritten, per request, by 12 random decimal digits below
// N (same width, so a request's length never changes). Without -r the tag
// stays as it is, so the fixed key is "key:__rand_int__", as in
// redis-benchmark.
const randTag = "__rand_int__"

// maxKeyspace is the largest -r: 12 digits.
const maxKeyspace = 1_000_000_000_000

// respCommand is one row of the RESP test table: the arguments of the request
// a test sends, with "<data>" standing for the -d byte payload. Adding a test
// is adding a row. Names, titles and arguments follow redis-benchmark so that
// both tools put the same data in the server.
type respCommand struct {
	name  string
	title string
	args  []string
	// pair, when set, is what every second connection sends instead: a
	// producer-consumer test (LPUSH on half the connections, BRPOP on the
	// other half).
	pair []string
}

const dataArg = "<data>"

var respCommands = []respCommand{
	{"ping", "PING", []string{"PING"}, nil},
	{"set", "SET", []string{"SET", "key:" + randTag, dataArg}, nil},
	{"get", "GET", []string{"GET", "key:" + randTag}, nil},
	{"incr", "INCR", []string{"INCR", "counter:" + randTag}, nil},
	{"lpush", "LPUSH", []string{"LPUSH", "mylist", dataArg}, nil},
	{"rpush", "RPUSH", []string{"RPUSH", "mylist", dataArg}, nil},
	{"lpop", "LPOP", []string{"LPOP", "mylist"}, nil},
	{"rpop", "RPOP", []string{"RPOP", "mylist"}, nil},
	{"sadd", "SADD", []string{"SADD", "myset", "element:" + randTag}, nil},
	{"hset", "HSET", []string{"HSET", "myhash", "element:" + randTag, dataArg}, nil},
	{"spop", "SPOP", []string{"SPOP", "myset"}, nil},
	{"xadd", "XADD", []string{"XADD", "mystream", "*", "myfield", dataArg}, nil},
	{"zadd", "ZADD", []string{"ZADD", "myzset", "0", "element:" + randTag}, nil},
	{"lrange_100", "LRANGE_100 (first 100 elements)", []string{"LRANGE", "mylist", "0", "99"}, nil},
	{"mset", "MSET (10 keys)", msetArgs(10), nil},
	// A work queue: producers LPUSH, consumers BRPOP with a 0.1 s timeout
	// (so that consumers left waiting at the end of a run finish soon).
	{"queue", "LPUSH + BRPOP pairs", []string{"LPUSH", "myqueue", dataArg}, []string{"BRPOP", "myqueue", "0.1"}},
}

func msetArgs(keys int) []string {
	args := []string{"MSET"}
	for range keys {
		args = append(args, "key:"+randTag, dataArg)
	}
	return args
}

func findRespCommand(name string) (respCommand, bool) {
	for _, c := range respCommands {
		if c.name == name {
			return c, true
		}
	}
	return respCommand{}, false
}

func respTestNames() []string {
	names := make([]string, len(respCommands))
	for i, c := range respCommands {
		names[i] = c.name
	}
	return names
}

// respTests is mode "resp": one benchTest per name in cfg.tests.
func respTests(cfg *config) ([]benchTest, error) {
	data := bytes.Repeat([]byte{'x'}, cfg.dataSize)
	tests := make([]benchTest, 0, len(cfg.tests))
	for _, name := range cfg.tests {
		cmd, ok := findRespCommand(name)
		if !ok {
			return nil, fmt.Errorf("unknown test %q for mode resp (known: %v)", name, respTestNames())
		}
		tpl := newRequestTemplate(cmd.args, data, cfg.pipeline)
		pairTpl := tpl
		if cmd.pair != nil {
			pairTpl = newRequestTemplate(cmd.pair, data, cfg.pipeline)
		}
		keyspace := uint64(cfg.keyspace)
		addr := cfg.addr
		tests = append(tests, benchTest{
			name:  cmd.name,
			title: cmd.title,
			open: func(i int, deadline time.Time) (worker, error) {
				if i%2 == 1 {
					return dialResp(addr, deadline, pairTpl.clone(), keyspace)
				}
				return dialResp(addr, deadline, tpl.clone(), keyspace)
			},
		})
	}
	return tests, nil
}

// requestTemplate is a pipeline's worth of one request, encoded once. Every
// request of a test has the same length, so a batch of k requests is
// buf[:k*size]; only the random key digits are rewritten before each send.
type requestTemplate struct {
	buf    []byte
	size   int   // bytes of one request
	randAt []int // offsets in buf of every randTag, ascending
}

// newRequestTemplate encodes args (with dataArg replaced by data) pipeline
// times.
func newRequestTemplate(args []string, data []byte, pipeline int) requestTemplate {
	bargs := make([][]byte, len(args))
	for i, a := range args {
		if a == dataArg {
			bargs[i] = data
		} else {
			bargs[i] = []byte(a)
		}
	}
	one := resp.AppendCommand(nil, bargs...)
	t := requestTemplate{
		buf:  bytes.Repeat(one, pipeline),
		size: len(one),
	}
	for off := 0; ; off += len(randTag) {
		i := bytes.Index(t.buf[off:], []byte(randTag))
		if i < 0 {
			break
		}
		off += i
		t.randAt = append(t.randAt, off)
	}
	return t
}

// clone returns a copy with its own buffer (each worker rewrites its keys).
func (t requestTemplate) clone() requestTemplate {
	t.buf = bytes.Clone(t.buf)
	return t
}

// batch returns the bytes of k requests. With keyspace > 0 each random key
// of them gets fresh digits in [0, keyspace).
func (t *requestTemplate) batch(k int, keyspace uint64) []byte {
	n := k * t.size
	if keyspace > 0 {
		for _, off := range t.randAt {
			if off >= n {
				break
			}
			putDigits(t.buf[off:off+len(randTag)], rand.Uint64N(keyspace))
		}
	}
	return t.buf[:n]
}

// putDigits writes v as zero-padded decimal filling b (redis-benchmark's
// %012zu).
func putDigits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// respWorker is one RESP connection of a test.
type respWorker struct {
	conn     net.Conn
	rd       *resp.Reader
	tpl      requestTemplate
	keyspace uint64
}

func dialResp(addr string, deadline time.Time, tpl requestTemplate, keyspace uint64) (*respWorker, error) {
	d := net.Dialer{Deadline: deadline}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &respWorker{
		conn:     conn,
		rd:       resp.NewReader(conn, 16<<10),
		tpl:      tpl,
		keyspace: keyspace,
	}, nil
}

// do writes the whole batch with one Write, then reads the k replies. Each
// latency runs from just before the Write to the moment that reply has been
// parsed (what redis-benchmark measures per request). A reply is an error
// reply when it starts with '-' (RESP3 blob errors, '!', too).
func (w *respWorker) do(k int, h *histogram) (int, int, error) {
	b := w.tpl.batch(k, w.keyspace)
	start := time.Now()
	if _, err := w.conn.Write(b); err != nil {
		return 0, 0, fmt.Errorf("sending requests: %w", err)
	}
	errs := 0
	for i := range k {
		reply, err := w.rd.ReadReply()
		if errors.Is(err, io.EOF) {
			return i, errs, fmt.Errorf("reading reply: server closed the connection (%w)", err)
		}
		if err != nil {
			return i, errs, fmt.Errorf("reading reply: %w", err)
		}
		h.record(time.Since(start))
		if len(reply) > 0 && (reply[0] == '-' || reply[0] == '!') {
			errs++
		}
	}
	return k, errs, nil
}

func (w *respWorker) setDeadline(t time.Time) error { return w.conn.SetDeadline(t) }
func (w *respWorker) close() error                  { return w.conn.Close() }
