// Package arch holds no code: its test keeps the dependency direction that
// docs/architecture.md draws (which internal packages each may import, and
// that the state machine never imports the clock, randomness or networking).
package arch
