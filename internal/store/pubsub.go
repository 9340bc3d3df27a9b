package store

import "github.com/skiffdb/skiff/internal/op"

var otherApply = map[op.Code]applyFunc{
	op.Publish: applyPublish,
}

// Serve applies other operations through applyTable, so it joins the table
// after it is built.
func init() { applyTable[op.Serve] = applyServe }

// applyPublish hands a published message to the change feed.
func applyPublish(s *Store, o *op.Op) (any, error) {
	if len(o.Args) != 3 {
		return nil, ErrMalformedOp
	}
	name := "publish"
	if string(o.Args[0]) == "1" {
		name = "spublish"
	}
	return s.emitMsg(o.DB, name, o.Args[1], o.Args[2]), nil
}

// applyServe applies a blocked client's pop and hands its result to the
// change feed under the client's token.
func applyServe(s *Store, o *op.Op) (any, error) {
	if len(o.Args) < 2 {
		return nil, ErrMalformedOp
	}
	code, ok := op.ParseInt(o.Args[1])
	if !ok || code <= 0 || code >= int64(len(applyTable)) || op.Code(code) == op.Serve || applyTable[code] == nil {
		return nil, ErrMalformedOp
	}
	inner := op.Op{Code: op.Code(code), DB: o.DB, Time: o.Time, Args: o.Args[2:]}
	v, aerr := applyTable[code](s, &inner)
	if l := s.listener.Load(); l != nil {
		s.ev = Event{DB: o.DB, Class: ClassServed, Name: "served", Key: o.Args[0], Rev: s.rev, Value: v, Err: aerr}
		(*l)(&s.ev)
	}
	return v, aerr
}
