package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/resp"
)

func TestRequestTemplate_FixedKey(t *testing.T) {
	tests := []struct {
		name string
		want string // one request, as sent
	}{
		{"ping", "*1\r\n$4\r\nPING\r\n"},
		{"set", "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n"},
		{"get", "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n"},
		{"incr", "*2\r\n$4\r\nINCR\r\n$20\r\ncounter:__rand_int__\r\n"},
		{"lpush", "*3\r\n$5\r\nLPUSH\r\n$6\r\nmylist\r\n$3\r\nxxx\r\n"},
		{"rpop", "*2\r\n$4\r\nRPOP\r\n$6\r\nmylist\r\n"},
		{"mset", "*21\r\n$4\r\nMSET\r\n" + strings.Repeat("$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n", 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, ok := findRespCommand(tt.name)
			if !ok {
				t.Fatalf("no test %q", tt.name)
			}
			tpl := newRequestTemplate(cmd.args, []byte("xxx"), 3)
			if tpl.size != len(tt.want) {
				t.Fatalf("size %d, want %d", tpl.size, len(tt.want))
			}
			for k := 1; k <= 3; k++ {
				// keyspace 0: the tag stays, nothing is rewritten.
				if got := string(tpl.batch(k, 0)); got != strings.Repeat(tt.want, k) {
					t.Fatalf("batch(%d) = %q, want %q", k, got, strings.Repeat(tt.want, k))
				}
			}
			wantTags := 3 * strings.Count(tt.want, randTag)
			if len(tpl.randAt) != wantTags {
				t.Fatalf("%d random keys recorded, want %d", len(tpl.randAt), wantTags)
			}
		})
	}
}

func TestRequestTemplate_RandomKeys(t *testing.T) {
	cmd, _ := findRespCommand("mset")
	tpl := newRequestTemplate(cmd.args, []byte("vv"), 4)
	const keyspace = 1000
	keyRe := regexp.MustCompile(`^key:0{9}(\d{3})$`)
	seen := map[string]bool{}
	for round := range 50 {
		k := round%4 + 1
		b := tpl.batch(k, keyspace)
		if len(b) != k*tpl.size {
			t.Fatalf("batch(%d): %d bytes, want %d", k, len(b), k*tpl.size)
		}
		// The batch must still parse as k MSETs of 10 keys in the keyspace.
		rd := resp.NewReader(bytes.NewReader(b), 0)
		for range k {
			args, err := rd.ReadCommand()
			if err != nil {
				t.Fatalf("ReadCommand: %v", err)
			}
			if len(args) != 21 || string(args[0]) != "MSET" {
				t.Fatalf("got %q", args)
			}
			for i := 1; i < len(args); i += 2 {
				m := keyRe.FindSubmatch(args[i])
				if m == nil {
					t.Fatalf("key %q not in key:000000000NNN form", args[i])
				}
				if n, _ := strconv.Atoi(string(m[1])); n >= keyspace {
					t.Fatalf("key %q outside keyspace", args[i])
				}
				seen[string(args[i])] = true
				if string(args[i+1]) != "vv" {
					t.Fatalf("value %q, want vv", args[i+1])
				}
			}
		}
	}
	// 50 batches of up to 40 keys: the keys must actually vary.
	if len(seen) < 100 {
		t.Fatalf("only %d distinct keys", len(seen))
	}
}

// Workers rewrite keys in their own copy; the test's template stays intact.
func TestRequestTemplate_CloneIsolated(t *testing.T) {
	cmd, _ := findRespCommand("get")
	tpl := newRequestTemplate(cmd.args, []byte("x"), 2)
	orig := bytes.Clone(tpl.buf)
	c := tpl.clone()
	c.batch(2, 10)
	if !bytes.Equal(tpl.buf, orig) {
		t.Fatal("clone shares its buffer with the template")
	}
	if bytes.Equal(c.buf, orig) {
		t.Fatal("random keys were not written")
	}
}

func TestPutDigits(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "000000000000"},
		{123, "000000000123"},
		{maxKeyspace - 1, "999999999999"},
	}
	for _, tt := range tests {
		b := make([]byte, 12)
		putDigits(b, tt.v)
		if string(b) != tt.want {
			t.Errorf("putDigits(%d) = %q, want %q", tt.v, b, tt.want)
		}
	}
}

func TestRespTests_Unknown(t *testing.T) {
	cfg := &config{tests: []string{"set", "nope"}, dataSize: 3, pipeline: 1}
	if _, err := respTests(cfg); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("err = %v, want unknown test nope", err)
	}
}

func BenchmarkRequestTemplate_BatchMset(b *testing.B) {
	cmd, _ := findRespCommand("mset")
	tpl := newRequestTemplate(cmd.args, []byte("xxx"), 16)
	b.ReportAllocs()
	for b.Loop() {
		tpl.batch(16, 1_000_000)
	}
}
