package store

import "github.com/skiffdb/skiff/internal/op"

// Hashes (TypeHash). Not implemented yet: no op produces a hash.

var hashApply = map[op.Code]applyFunc{}

// hashOps is nil until hashes exist (opsFor then reports an unknown type).
var hashOps *typeOps
