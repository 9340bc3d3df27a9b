package store

// The change feed (DESIGN.md principle 8). Every applied mutation emits one
// Event per key it changes, in apply order, on every replica: blocking
// commands, keyspace notifications, client-side caching invalidations, WATCH
// and pub/sub delivery hang off it; nothing polls.

// EventClass is an event's notify-keyspace-events class; the classes are
// Redis's flags (g $ l s h z x e t n) plus skiff's own for whole databases
// and published messages.
type EventClass uint16

// Event classes.
const (
	ClassGeneric EventClass = 1 << iota // g: del, expire, rename_from, rename_to, copy_to, move_from, move_to, persist ...
	ClassString                         // $: set, setrange, incrby, incrbyfloat, append
	ClassList                           // l: lpush, rpush, lpop, rpop, linsert, lset, lrem, ltrim
	ClassSet                            // s: sadd, srem, spop, sinterstore, sunionstore, sdiffstore
	ClassHash                           // h: hset, hdel, hincrby, hincrbyfloat
	ClassZSet                           // z: zadd, zincr, zrem, zpopmin, zpopmax, zrangestore ...
	ClassExpired                        // x: expired
	ClassEvicted                        // e: evicted (skiff never evicts)
	ClassStream                         // t: stream events
	ClassNew                            // n: new (a key was created)
	// ClassDB is a change to a whole database (FLUSHDB, FLUSHALL, SWAPDB):
	// Key is nil, Name names the command, DB the database (-1 = every
	// database). Not a keyspace notification; blocking commands and
	// client-side caching use it.
	ClassDB
	// ClassPublish is a message published through the log (PUBLISH,
	// SPUBLISH): Key is the channel, Msg the message, Name "publish" or
	// "spublish". Not a keyspace notification.
	ClassPublish
	// ClassServed is the result of a blocked client's pop (op.Serve): Key is
	// the waiting client's token, Value and Err the pop's reply.
	ClassServed
)

// Event is one change-feed record.
type Event struct {
	DB    int
	Class EventClass
	// Name is Redis's keyspace event name ("set", "lpush", "del",
	// "expired" ...), or the command for ClassDB and ClassPublish.
	Name string
	// Key is the changed key (the channel for ClassPublish). It aliases the
	// operation or the store: valid only during the listener call.
	Key []byte
	Msg []byte // ClassPublish: the message (valid during the call only)
	// Value and Err are a served pop's reply (ClassServed only).
	Value any
	Err   error
	// StrValue is the key's string value after the change, for events of
	// keys that hold a string (set, append, incrby, expire, rename_to ...);
	// nil for other types and for deletions (never nil for a string). It
	// aliases the store's value, which is never modified within its length
	// (DESIGN.md), so a listener may keep it after the call but must not
	// modify it.
	StrValue []byte
	// Rev is the store revision of the operation that emitted the event
	// (strictly increasing across operations; equal within one).
	Rev uint64
}

// Listener receives every event during apply, on the apply goroutine and
// under the store's write lock: it must return quickly, must not block and
// must not call the store. Its return value matters only for ClassPublish
// (the number of local receivers, PUBLISH's reply on this node).
type Listener func(ev *Event) int64

// SetListener installs the change-feed listener (nil removes it). It may be
// called at any time; events of operations applied before it see the old one.
func (s *Store) SetListener(l Listener) {
	if l == nil {
		s.listener.Store(nil)
		return
	}
	s.listener.Store(&l)
}

// emit sends one event to the listener, if any. Called only from apply.
// It is small enough to inline, so a store without a listener pays one
// atomic load per event.
func (s *Store) emit(db int, class EventClass, name string, key []byte) int64 {
	if l := s.listener.Load(); l != nil {
		return s.emitTo(*l, db, class, name, key)
	}
	return 0
}

func (s *Store) emitTo(l Listener, db int, class EventClass, name string, key []byte) int64 {
	s.ev = Event{DB: db, Class: class, Name: name, Key: key, Rev: s.rev}
	return l(&s.ev)
}

// emitStr is emit for a key that holds a string after the change: the
// event carries the value (Event.StrValue).
func (s *Store) emitStr(db int, class EventClass, name string, key, val []byte) int64 {
	if l := s.listener.Load(); l != nil {
		if val == nil {
			val = []byte{} // a string is present: nil means "not a string"
		}
		s.ev = Event{DB: db, Class: class, Name: name, Key: key, Rev: s.rev, StrValue: val}
		return (*l)(&s.ev)
	}
	return 0
}

// emitEntry is emit for a key that still exists after the change: a
// string's value rides along.
func (s *Store) emitEntry(db int, class EventClass, name string, key []byte, e *entry) int64 {
	if e.typ == TypeString {
		return s.emitStr(db, class, name, key, e.str)
	}
	return s.emit(db, class, name, key)
}

// emitMsg sends a published message to the listener.
func (s *Store) emitMsg(db int, name string, channel, msg []byte) int64 {
	l := s.listener.Load()
	if l == nil {
		return 0
	}
	s.ev = Event{DB: db, Class: ClassPublish, Name: name, Key: channel, Msg: msg, Rev: s.rev}
	return (*l)(&s.ev)
}
