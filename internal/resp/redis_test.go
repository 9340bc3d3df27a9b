package resp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReader_MatchesRedis is a differential test against a real
// redis-server: each input is sent to Redis, and Redis's replies are compared
// with what this Reader makes of the same bytes (PING and ECHO answered as
// Redis answers them, any other command as an "unknown command" or "wrong
// number of arguments" error, then the protocol error if any).
//
// It is skipped unless SKIFF_TEST_REDIS_ADDR names a throwaway server with
// default settings and no password, e.g.
//
//	redis-server --port 7201 --save '' --appendonly no --daemonize yes
//	SKIFF_TEST_REDIS_ADDR=127.0.0.1:7201 go test -run MatchesRedis ./internal/resp/
//
// SKIFF_TEST_REDIS_RANDOM sets the number of random inputs (default 500).
func TestReader_MatchesRedis(t *testing.T) {
	addr := os.Getenv("SKIFF_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("SKIFF_TEST_REDIS_ADDR not set")
	}
	var inputs []string
	for _, tc := range readerCases {
		// Lines longer than 64 KiB that do end within the input are left out:
		// Redis accepts or rejects them depending on how its 16 KiB reads
		// fall, where this Reader rejects them always (see findLine).
		if tc.lim == nil && onlyPingEcho(tc.want) && !strings.Contains(tc.name, "over limit with") {
			inputs = append(inputs, tc.in)
		}
	}
	n := 500
	if s := os.Getenv("SKIFF_TEST_REDIS_RANDOM"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range n {
		inputs = append(inputs, randomRequestBytes(rng))
	}
	for _, in := range inputs {
		got, err := redisExchange(addr, in)
		if err != nil {
			t.Fatalf("%.60q: %v", in, err)
		}
		if msg := compareWithRedis(in, got); msg != "" {
			t.Errorf("input %.200q:\n%.300s\nredis replied %.200q", in, msg, got)
		}
	}
}

func onlyPingEcho(cmds [][]string) bool {
	for _, c := range cmds {
		if expectedReply(c) == "" {
			return false
		}
	}
	return true
}

// expectedReply is Redis's reply to PING or ECHO, or "" for other commands.
func expectedReply(c []string) string {
	switch {
	case len(c) == 1 && strings.EqualFold(c[0], "PING"):
		return "+PONG\r\n"
	case len(c) == 2 && (strings.EqualFold(c[0], "PING") || strings.EqualFold(c[0], "ECHO")):
		return "$" + strconv.Itoa(len(c[1])) + "\r\n" + c[1] + "\r\n"
	}
	return ""
}

// compareWithRedis returns "" if Redis's output matches this Reader's view of
// in, or a description of the difference.
func compareWithRedis(in string, redisOut []byte) string {
	res := readAll(strings.NewReader(in), 0, nil)
	r := NewReader(bytes.NewReader(redisOut), 0)
	for i, c := range res.cmds {
		reply, err := r.ReadReply()
		if err != nil {
			return "reply " + strconv.Itoa(i) + " missing for " + result{cmds: [][]string{c}}.String()
		}
		want := expectedReply(c)
		if want == "" {
			if !bytes.HasPrefix(reply, []byte("-ERR unknown command")) &&
				!bytes.HasPrefix(reply, []byte("-ERR wrong number of arguments")) {
				return "reply " + strconv.Itoa(i) + " to " + result{cmds: [][]string{c}}.String() + " is " + strconv.Quote(string(reply))
			}
			continue
		}
		if string(reply) != want {
			return "reply " + strconv.Itoa(i) + " is " + strconv.Quote(string(reply)) + ", want " + strconv.Quote(want)
		}
	}
	var p *ProtocolError
	if errors.As(res.err, &p) {
		reply, err := r.ReadReply()
		if want := "-" + p.Error() + "\r\n"; err != nil || string(reply) != want {
			return "want protocol error " + strconv.Quote(want) + ", got " + strconv.Quote(string(reply))
		}
	}
	if rest, err := r.ReadReply(); err != io.EOF {
		return "extra reply " + strconv.Quote(string(rest)) + " (reader: " + res.String() + ")"
	}
	return ""
}

// redisExchange sends in on a fresh connection, half-closes, and returns
// everything Redis sends before it closes.
func redisExchange(addr, in string) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = conn.Write([]byte(in)) // Redis may close first after a protocol error
		_ = conn.(*net.TCPConn).CloseWrite()
	}()
	var out bytes.Buffer
	_, err = io.Copy(&out, conn)
	<-done
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset by peer") {
		return nil, err
	}
	return out.Bytes(), nil
}

// randomRequestBytes glues fragments of requests, headers and quoting into a
// short input.
func randomRequestBytes(rng *rand.Rand) string {
	frags := []string{
		"*1\r\n", "*2\r\n", "*3\r\n", "*0\r\n", "*-1\r\n", "$4\r\nPING\r\n", "$4\r\nECHO\r\n", "$1\r\nx\r\n",
		"$0\r\n\r\n", "$2\r\nab", "*", "$", "-", "0", "1", "2", "01", "\r", "\n", "\r\n", " ", "\t", "\v",
		"\"", "'", "\\", "\\x41", "\\x4", "\\n", "\\'", "PING", "ECHO", "echo", "ping", "x", "ab", ":",
		"\x00", "PING\r\n", "ECHO a\r\n", "ECHO \"a b\"\r\n", "ECHO 'a b'\r\n",
	}
	var b strings.Builder
	for range 1 + rng.IntN(12) {
		b.WriteString(frags[rng.IntN(len(frags))])
	}
	return b.String()
}
