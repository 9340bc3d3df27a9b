package command

// pubsubHub holds this node's channel and pattern subscriptions and
// delivers published messages to local subscribers.
type pubsubHub struct{}

// publish delivers msg on channel (a shard channel when sharded) to every
// local subscriber without blocking, and returns how many received it.
func (h *pubsubHub) publish(sharded bool, channel, msg []byte) int64 { return 0 }
