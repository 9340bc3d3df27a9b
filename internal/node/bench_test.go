package node_test

import (
	"net"
	"testing"

	"github.com/skiffdb/skiff/internal/node/nodetest"
	"github.com/skiffdb/skiff/internal/resp"
)

// benchSocket sends cmd b.N times over one real TCP connection, depth
// requests per write, and reads every reply: the whole RESP path (reader,
// table, store, writer, one flush per batch) without a client library.
func benchSocket(b *testing.B, depth int, setup, cmd []string) {
	n := nodetest.Start(b, nil)
	c, err := net.Dial("tcp", n.Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	rd := resp.NewReader(c, 64<<10)
	if setup != nil {
		if _, err := c.Write(resp.AppendCommandString(nil, setup...)); err != nil {
			b.Fatal(err)
		}
		if _, err := rd.ReadReply(); err != nil {
			b.Fatal(err)
		}
	}
	one := resp.AppendCommandString(nil, cmd...)
	var batch []byte
	for i := 0; i < depth; i++ {
		batch = append(batch, one...)
	}
	b.SetBytes(int64(len(one)))
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		k := min(depth, b.N-i)
		if _, err := c.Write(batch[:k*len(one)]); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < k; j++ {
			r, err := rd.ReadReply()
			if err != nil {
				b.Fatal(err)
			}
			if r[0] == '-' {
				b.Fatalf("error reply %q", r)
			}
		}
	}
}

func BenchmarkSocketSET(b *testing.B) {
	benchSocket(b, 1, nil, []string{"SET", "key:000000000001", "xxx"})
}

func BenchmarkSocketGET(b *testing.B) {
	benchSocket(b, 1, []string{"SET", "key:000000000001", "xxx"}, []string{"GET", "key:000000000001"})
}

func BenchmarkSocketSETPipeline16(b *testing.B) {
	benchSocket(b, 16, nil, []string{"SET", "key:000000000001", "xxx"})
}

func BenchmarkSocketGETPipeline16(b *testing.B) {
	benchSocket(b, 16, []string{"SET", "key:000000000001", "xxx"}, []string{"GET", "key:000000000001"})
}
