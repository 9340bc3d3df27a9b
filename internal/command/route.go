package command

import (
	"errors"

	"github.com/skiffdb/skiff/internal/engine"
)

// route decides where a keyspace command (write or read flag) runs. It
// returns true when the handler should run on this node; otherwise it has
// already written the reply: the leader's reply to the forwarded request, or
// a retriable error.
//
//   - On the leader: writes run here; a read first takes the read fence (once
//     per batch of input), which makes it linearizable.
//   - On a follower: a read by a client that asked for stale reads (READONLY)
//     runs here on local state; everything else is forwarded to the leader
//     and its reply relayed byte for byte.
func (s *Server) route(ctx *Ctx) bool {
	c, cmd := ctx.Client, ctx.Cmd
	isRead := cmd.Flags&Write == 0
	if isRead && c.ReadOnly {
		return true
	}
	for attempt := 0; attempt < 2; attempt++ {
		if s.eng.IsLeader() {
			if !isRead || !c.needFence {
				return true
			}
			err := s.eng.ReadBarrier(s.ctx)
			if err == nil {
				c.needFence = false
				return true
			}
			if !errors.Is(err, engine.ErrNotLeader) {
				ctx.Error(err)
				return false
			}
			// Lost leadership just now: forward instead.
		}
		if c.Internal {
			ctx.Error(engine.ErrNotLeader) // forwarded to a node that no longer leads
			return false
		}
		reply, err := s.eng.Forward(s.routeCtx(ctx), c.DB, c.Proto, ctx.Args)
		if errors.Is(err, engine.ErrNotLeader) {
			continue // became leader meanwhile: run here
		}
		if err != nil {
			if errors.Is(err, engine.ErrForward) && !isRead {
				err = engine.ErrOutcomeUnknown
			}
			ctx.Error(err)
			return false
		}
		if len(reply) > 0 && reply[0] == '-' {
			ctx.failed = true
		}
		ctx.W.WriteRaw(reply)
		return false
	}
	ctx.Error(engine.ErrNoLeader)
	return false
}
