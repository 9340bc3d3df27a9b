package store

import "github.com/skiffdb/skiff/internal/op"

var otherApply = map[op.Code]applyFunc{
	op.Publish: applyPublish,
}

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
