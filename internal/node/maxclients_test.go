package node_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node/nodetest"
)

// A connection past maxclients is refused with Redis's error and counted in
// INFO stats rejected_connections.
func TestNode_MaxClientsCountsRejections(t *testing.T) {
	n := nodetest.Start(t, func(c *config.Config) { c.MaxClients = 1 })
	first, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	rd := bufio.NewReader(first)
	_ = first.SetDeadline(time.Now().Add(10 * time.Second))
	first.Write([]byte("PING\r\n"))
	if l, _ := rd.ReadString('\n'); l != "+PONG\r\n" {
		t.Fatalf("PING = %q", l)
	}
	second, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = second.SetDeadline(time.Now().Add(10 * time.Second))
	if l, _ := bufio.NewReader(second).ReadString('\n'); l != "-ERR max number of clients reached\r\n" {
		t.Fatalf("second connection got %q", l)
	}
	second.Close()
	first.Write([]byte("INFO stats\r\n"))
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("INFO stats: %v", err)
		}
		if strings.HasPrefix(l, "rejected_connections:") {
			if l != "rejected_connections:1\r\n" {
				t.Fatalf("INFO says %q, want 1", l)
			}
			return
		}
	}
}
