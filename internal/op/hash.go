package op

// Hash operations: codes 64-95. Each constant documents its Args and reply.
const (
	hashBase Code = 64 + iota
)

var hashNames = map[Code]string{}

var _ = hashBase
