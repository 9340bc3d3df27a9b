package op

// List operations: codes 32-63. Each constant documents its Args and reply.
const (
	listBase Code = 32 + iota
)

var listNames = map[Code]string{}

var _ = listBase
