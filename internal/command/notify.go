package command

import (
	"strconv"
	"sync/atomic"

	"github.com/skiffdb/skiff/internal/store"
)

// Keyspace notifications (Redis's notify.c): with notify-keyspace-events
// selecting an event's class, every change-feed event is published, on the
// node that applies it, as
//
//	__keyspace@<db>__:<key>   message: the event name   (K)
//	__keyevent@<db>__:<event> message: the key          (E)
//
// in that order, through the local pub/sub hub. Every replica applies the
// same log, so a subscriber on any node sees every change, in log order.
// skiff never evicts and does not emit key-miss ('m') or module ('d')
// events: those letters are accepted and change nothing.

// notifyState is notify-keyspace-events as the apply goroutine uses it. It
// lives in Params, which sets flags whenever the parameter is set.
type notifyState struct {
	// flags holds the nk* bits in force, or 0 when nothing can be published
	// (no class, or neither K nor E): the disabled path is one atomic load.
	flags atomic.Uint32
	// buf is reused to format channel names; only the apply goroutine
	// (OnEvent, serialized by the store's write lock) touches it.
	buf []byte
}

// notifyBufMax bounds the formatting buffer kept between events (a huge
// key's channel is formatted in a buffer dropped afterwards).
const notifyBufMax = 64 << 10

// set parses raw, the value as the client gave it (Redis applies the
// letters, including 'n' next to 'A', which its canonical form drops). An
// invalid value (rejected by notifyCheck before it gets here) disables.
func (n *notifyState) set(raw string) {
	f, ok := parseNotifyFlags(raw)
	if !ok || f&(nkKeyspace|nkKeyevent) == 0 || f&(nkAll|nkNew) == 0 {
		f = 0
	}
	n.flags.Store(uint32(f))
}

// parseNotifyFlags parses notify-keyspace-events' letters into nk* bits
// (Redis's keyspaceEventsStringToFlags); ok is false for any other letter.
func parseNotifyFlags(v string) (flags int, ok bool) {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case 'A':
			flags |= nkAll
		case 'g':
			flags |= nkGeneric
		case '$':
			flags |= nkString
		case 'l':
			flags |= nkList
		case 's':
			flags |= nkSet
		case 'h':
			flags |= nkHash
		case 'z':
			flags |= nkZset
		case 'x':
			flags |= nkExpired
		case 'e':
			flags |= nkEvicted
		case 'K':
			flags |= nkKeyspace
		case 'E':
			flags |= nkKeyevent
		case 't':
			flags |= nkStream
		case 'm':
			flags |= nkKeyMiss
		case 'd':
			flags |= nkModule
		case 'n':
			flags |= nkNew
		default:
			return 0, false
		}
	}
	return flags, true
}

// notifyClass maps a change-feed class to its notify-keyspace-events bit
// (0: never a keyspace notification, e.g. ClassDB and ClassPublish).
func notifyClass(c store.EventClass) uint32 {
	switch c {
	case store.ClassGeneric:
		return nkGeneric
	case store.ClassString:
		return nkString
	case store.ClassList:
		return nkList
	case store.ClassSet:
		return nkSet
	case store.ClassHash:
		return nkHash
	case store.ClassZSet:
		return nkZset
	case store.ClassExpired:
		return nkExpired
	case store.ClassEvicted:
		return nkEvicted
	case store.ClassStream:
		return nkStream
	case store.ClassNew:
		return nkNew
	}
	return 0
}

// notifyKeyspace publishes ev's keyspace notifications, if
// notify-keyspace-events selects its class. Called from OnEvent on the
// apply goroutine under the store's write lock: it never blocks (the hub's
// delivery is a non-blocking push), costs one atomic load when
// notifications are off, and allocates nothing of its own.
func (s *Server) notifyKeyspace(ev *store.Event) {
	n := &s.params.notify
	flags := n.flags.Load()
	if flags == 0 || flags&notifyClass(ev.Class) == 0 {
		return
	}
	b := n.buf[:0]
	if flags&nkKeyspace != 0 {
		b = appendKeyspaceChannel(b, ev.DB, ev.Key)
		ch := len(b)
		b = append(b, ev.Name...)
		s.pubsub.publish(false, b[:ch], b[ch:])
	}
	if flags&nkKeyevent != 0 {
		// publish copied what it delivers: the buffer can be reused.
		b = appendKeyeventChannel(b[:0], ev.DB, ev.Name)
		s.pubsub.publish(false, b, ev.Key)
	}
	if cap(b) > notifyBufMax {
		b = nil
	}
	n.buf = b[:0]
}

// appendKeyspaceChannel appends "__keyspace@<db>__:<key>" to b.
func appendKeyspaceChannel(b []byte, db int, key []byte) []byte {
	b = append(b, "__keyspace@"...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, "__:"...)
	return append(b, key...)
}

// appendKeyeventChannel appends "__keyevent@<db>__:<event>" to b.
func appendKeyeventChannel(b []byte, db int, event string) []byte {
	b = append(b, "__keyevent@"...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, "__:"...)
	return append(b, event...)
}
