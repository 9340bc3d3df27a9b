package command_test

// RESP transcripts: testdata/*.txt hold commands and the exact reply bytes.
//
//	go test ./internal/command -run TestTranscripts                 replay against skiff
//	go test ./internal/command -run TestTranscripts -update         rewrite the files from skiff's replies
//	go test ./internal/command -run TestTranscripts -redis-addr 127.0.0.1:7000 [-update]
//	                                                                check (or write) them against a real redis-server
//	scripts/regen-transcripts.sh [lists]                            rewrite them (or one) from a throwaway local
//	                                                                redis-server; does nothing without redis-server
//
// File format, one item per line:
//
//	# comment                      ignored (kept by -update)
//	> SET k "a b"                  a command in redis-cli quoting, sent on the current connection
//	!> HELLO 3                     a command whose reply is read but not recorded (ids, times)
//	@conn 2                        switch to connection 2 (opened on first use)
//	<                              read one more reply on the current connection without
//	                               sending (a second SUBSCRIBE confirmation, a pushed message)
//	+OK                            reply lines: the reply's bytes with each CRLF ending a line,
//	                               '\' written as '\\', other control bytes as \xHH, and an
//	                               empty line as \. (a blank line separates nothing)
//
// Every file starts on fresh connections after FLUSHALL.

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/node/nodetest"
	"github.com/skiffdb/skiff/internal/resp"
)

var (
	update    = flag.Bool("update", false, "rewrite transcript replies")
	redisAddr = flag.String("redis-addr", "", "run transcripts against this redis-server instead of skiff")
)

type step struct {
	raw      string // the line as written
	conn     int
	args     [][]byte
	record   bool
	read     bool     // "<": read a reply without sending a command
	expected []string // reply lines
}

func parseTranscript(t *testing.T, path string) []step {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []step
	conn := 1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "> "), strings.HasPrefix(line, "!> "):
			record := line[0] == '>'
			cmd := line[strings.Index(line, "> ")+2:]
			rd := resp.NewReader(strings.NewReader(cmd+"\r\n"), 1024)
			args, err := rd.ReadCommand()
			if err != nil {
				t.Fatalf("%s: bad command %q: %v", path, cmd, err)
			}
			cp := make([][]byte, len(args))
			for i, a := range args {
				cp[i] = append([]byte(nil), a...)
			}
			steps = append(steps, step{raw: line, conn: conn, args: cp, record: record})
		case line == "<":
			steps = append(steps, step{raw: line, conn: conn, read: true, record: true})
		case strings.HasPrefix(line, "@conn "):
			fmt.Sscanf(line, "@conn %d", &conn)
			steps = append(steps, step{raw: line, conn: conn})
		case strings.HasPrefix(line, "#") || line == "":
			steps = append(steps, step{raw: line, conn: conn})
		default:
			if len(steps) == 0 || (steps[len(steps)-1].args == nil && !steps[len(steps)-1].read) {
				t.Fatalf("%s: reply line %q without a command", path, line)
			}
			steps[len(steps)-1].expected = append(steps[len(steps)-1].expected, line)
		}
	}
	return steps
}

// render turns reply bytes into transcript lines.
func render(b []byte) []string {
	var lines []string
	var cur strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			if cur.Len() == 0 {
				cur.WriteString(`\.`)
			}
			lines = append(lines, cur.String())
			cur.Reset()
			i++
		case c == '\\':
			cur.WriteString(`\\`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&cur, `\x%02x`, c)
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

type conns struct {
	t     *testing.T
	addr  string
	conns map[int]*tconn
}

type tconn struct {
	c  net.Conn
	rd *resp.Reader
}

func (cs *conns) get(n int) *tconn {
	if c, ok := cs.conns[n]; ok {
		return c
	}
	c, err := net.Dial("tcp", cs.addr)
	if err != nil {
		cs.t.Fatal(err)
	}
	tc := &tconn{c: c, rd: resp.NewReader(c, 4096)}
	cs.conns[n] = tc
	return tc
}

func (cs *conns) do(n int, args [][]byte) []byte {
	tc := cs.get(n)
	_ = tc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if args != nil {
		if _, err := tc.c.Write(resp.AppendCommand(nil, args...)); err != nil {
			cs.t.Fatal(err)
		}
	}
	reply, err := tc.rd.ReadReply()
	if err != nil {
		cs.t.Fatalf("reading reply to %q: %v", args, err)
	}
	return reply
}

func (cs *conns) close() {
	for _, c := range cs.conns {
		c.c.Close()
	}
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts found: %v", err)
	}
	addr := *redisAddr
	if addr == "" {
		addr = nodetest.Start(t, nil).Addr
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			steps := parseTranscript(t, path)
			cs := &conns{t: t, addr: addr, conns: map[int]*tconn{}}
			defer cs.close()
			cs.do(0, [][]byte{[]byte("FLUSHALL")})
			var out bytes.Buffer
			failed := false
			for i := range steps {
				st := &steps[i]
				out.WriteString(st.raw + "\n")
				if st.args == nil && !st.read {
					continue
				}
				got := render(cs.do(st.conn, st.args))
				if !st.record {
					continue
				}
				for _, l := range got {
					out.WriteString(l + "\n")
				}
				if !*update && strings.Join(got, "\n") != strings.Join(st.expected, "\n") {
					failed = true
					t.Errorf("%s: %s\n got: %q\nwant: %q", path, st.raw, got, st.expected)
				}
			}
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if failed {
				t.Log("rerun with -update to accept skiff's replies, or -redis-addr to check against Redis")
			}
		})
	}
}
