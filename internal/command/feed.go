package command

import "github.com/skiffdb/skiff/internal/store"

// OnEvent is the store's change-feed listener on this node (node installs
// it with store.SetListener). It runs on the apply goroutine under the
// store's write lock: everything it does is a non-blocking hand-off to the
// parts that hang off the feed (pub/sub delivery, keyspace notifications,
// blocked clients, client-side caching).
func (s *Server) OnEvent(ev *store.Event) int64 {
	if ev.Class == store.ClassPublish {
		return s.pubsub.publish(ev.Name == "spublish", ev.Key, ev.Msg)
	}
	s.notifyKeyspace(ev) // ignores ClassDB: not a keyspace notification
	s.blk.onEvent(ev)
	s.track.onEvent(s, ev)
	s.api.watch.onEvent(ev) // watch history and live watchers (watch.go)
	return 0
}
