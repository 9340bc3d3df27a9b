package store

import "github.com/skiffdb/skiff/internal/op"

// Lists (TypeList). Not implemented yet: no op produces a list.

var listApply = map[op.Code]applyFunc{}

// listOps is nil until lists exist (opsFor then reports an unknown type).
var listOps *typeOps
