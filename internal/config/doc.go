// Package config owns the node's settings: Config, its defaults, Validate,
// and the only reader of command-line flags and SKIFF_* environment
// variables. It imports nothing internal.
package config
