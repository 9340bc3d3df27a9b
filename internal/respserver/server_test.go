package respserver

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// panicEngine is an engine whose writes panic: a stand-in for a bug in a
// command's write path.
type panicEngine struct{ *engine.Engine }

func (panicEngine) ProposeBatch(context.Context, []byte, int) ([]store.Result, error) {
	panic("boom")
}

// TestServe_PanicClosesOnlyItsConnection: a command that panics closes its
// own connection; the process, the server and the other clients go on.
func TestServe_PanicClosesOnlyItsConnection(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := panicEngine{engine.New(store.New(store.Options{}), engine.Options{})}
	exec, err := command.NewServer(ctx, command.Options{Engine: eng, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(Options{Addr: "127.0.0.1:0", Exec: exec, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}
	other, otherRd := dial()
	bad, badRd := dial()
	if _, err := io.WriteString(bad, "SET k v\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := badRd.ReadString('\n'); err != io.EOF {
		t.Fatalf("panicking command: read %q, %v; want the connection closed", line, err)
	}
	if _, err := io.WriteString(other, "PING\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := otherRd.ReadString('\n'); err != nil || strings.TrimSpace(line) != "+PONG" {
		t.Fatalf("another client after the panic: %q %v", line, err)
	}
	fresh, freshRd := dial()
	if _, err := io.WriteString(fresh, "PING\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := freshRd.ReadString('\n'); err != nil || strings.TrimSpace(line) != "+PONG" {
		t.Fatalf("a new client after the panic: %q %v", line, err)
	}
}
