package op

// Codes 192-255 hold operations outside the data types. 192 is Publish, 193
// the transaction (txn.go), 194 Serve.
const (
	// Publish: sharded ("0" PUBLISH, "1" SPUBLISH), channel, message. It
	// changes no state: every replica hands the message to its local
	// subscribers as it applies the entry, so a message published on any node
	// reaches subscribers on every node, in log order. Reply: int64 the
	// number of receivers on the applying node.
	Publish Code = 192

	// Serve: token, code, arg ... A blocked client's pop (BLPOP, BLMOVE,
	// BZPOPMIN ...) as the pop it performs: the inner operation (code and its
	// args) is applied as itself, and its result is handed to the change feed
	// with the token, which names the waiting client on the node it is
	// connected to; that node delivers the reply from its own apply, so a
	// client blocked on a follower gets exactly the element popped for it even
	// when the reply from the leader is lost. Reply: the inner operation's.
	Serve Code = 194
)

var pubsubNames = map[Code]string{Publish: "publish", Serve: "serve"}
