package op

// Hash operations: codes 64-95. Each constant documents its Args and reply.
// Field names and values are carried as the client sent them; integers are
// decimal ASCII (Itoa).
const (
	// HSet: key, field, value, field, value ... (at least one pair). Sets
	// every field. Reply: int64 number of fields that were added.
	HSet Code = 64 + iota
	// HSetNX: key, field, value. Sets field only if it does not exist.
	// Reply: int64 (1 set, 0 field existed).
	HSetNX
	// HDel: key, field ... (at least one). Removes the fields; an emptied
	// hash removes the key. Reply: int64 number of fields removed.
	HDel
	// HIncrBy: key, field, delta. Reply: int64 new value.
	HIncrBy
	// HIncrByFloat: key, field, delta (as the client sent it, already
	// validated as a finite long double). Reply: []byte new value.
	HIncrByFloat
)

var hashNames = map[Code]string{
	HSet: "hset", HSetNX: "hsetnx", HDel: "hdel", HIncrBy: "hincrby", HIncrByFloat: "hincrbyfloat",
}
