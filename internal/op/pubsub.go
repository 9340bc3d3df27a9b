package op

// Codes 192-255 hold operations outside the data types. 192 is Publish; 193
// is the transaction (txn.go).
const (
	// Publish: sharded ("0" PUBLISH, "1" SPUBLISH), channel, message. It
	// changes no state: every replica hands the message to its local
	// subscribers as it applies the entry, so a message published on any node
	// reaches subscribers on every node, in log order. Reply: int64 the
	// number of receivers on the applying node.
	Publish Code = 192
)

var pubsubNames = map[Code]string{Publish: "publish"}
