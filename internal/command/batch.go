package command

import (
	"bytes"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

// Pipeline batching: the write commands of one batch of input from a
// connection are encoded into one log entry and proposed together (one
// Raft round, one fsync), instead of one proposal each.
//
// Order is kept exactly: every reply is queued in arrival order, either as
// a reply function waiting for its operation's result or as bytes a handler
// wrote directly (a validation error); before any non-write command runs,
// and before the connection waits for more input, the batch is proposed and
// every queued reply written.

const (
	maxBatchOps   = 1024
	maxBatchBytes = 1 << 20
)

type pendingReply struct {
	fn  ReplyFunc // waits for an operation's result; nil for raw
	raw []byte    // bytes already formed
	cmd *Command
}

type batch struct {
	entry   []byte // encoded operations
	ops     int
	replies []pendingReply
	scratch bytes.Buffer
	sw      *resp.Writer // handlers of batched writes write here
}

// batching reports whether this client batches writes (connections served
// by respserver do; unit tests that call Exec directly do not).
func (c *Client) batching() bool { return c.Batching }

// queueRaw moves what a write handler wrote directly into the queue.
func (b *batch) queueRaw(cmd *Command) {
	if b.sw == nil || b.sw.Buffered() == 0 {
		return
	}
	_ = b.sw.Flush()
	b.replies = append(b.replies, pendingReply{raw: bytes.Clone(b.scratch.Bytes()), cmd: cmd})
	b.scratch.Reset()
}

func (b *batch) empty() bool { return len(b.replies) == 0 }

// writerFor returns the writer a batched write handler writes to.
func (b *batch) writerFor(proto int) *resp.Writer {
	if b.sw == nil {
		b.sw = resp.NewWriter(&b.scratch)
	}
	b.sw.SetProto(proto)
	return b.sw
}

// enqueue adds an operation and its reply to the batch.
func (c *Ctx) enqueue(o *op.Op, reply ReplyFunc) {
	b := &c.Client.batch
	b.queueRaw(c.Cmd)
	b.entry = op.AppendEncode(b.entry, o)
	b.ops++
	b.replies = append(b.replies, pendingReply{fn: reply, cmd: c.Cmd})
}

// FlushBatch proposes the client's pending writes as one entry and writes
// every queued reply to w, in order. respserver calls it before the
// connection waits for input; Exec calls it before a non-write command.
func (s *Server) FlushBatch(c *Client, w *resp.Writer) {
	b := &c.batch
	b.queueRaw(nil)
	if b.empty() {
		return
	}
	var results []store.Result
	var perr error
	if b.ops > 0 {
		if tr := s.tracer(); tr == nil {
			results, perr = s.eng.ProposeBatch(s.ctx, b.entry, b.ops)
		} else {
			results, perr = s.proposeBatchTraced(tr, c, b) // trace.go
		}
	}
	ctx := &c.ctx
	ctx.W = w
	i := 0
	for _, p := range b.replies {
		if p.fn == nil {
			w.WriteRaw(p.raw)
			continue
		}
		ctx.Cmd, ctx.failed = p.cmd, false
		switch {
		case perr != nil:
			ctx.Error(perr)
		case results[i].Err != nil:
			ctx.Error(results[i].Err)
		default:
			p.fn(ctx, results[i].Value)
		}
		if ctx.failed {
			p.cmd.stats.failed.Add(1)
			s.stats.errorReplies.Add(1)
		}
		i++
	}
	clear(b.replies)
	b.replies = b.replies[:0]
	b.entry = nil // handed to the log with the proposal (ProposeBatch owns it)
	b.ops = 0
}
