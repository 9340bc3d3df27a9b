package command

// clientTracker is a client's client-side caching state (CLIENT TRACKING).
type clientTracker struct{}
