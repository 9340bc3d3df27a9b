// Package main is the skiff command. It runs a skiff node, a
// Redis-compatible data store replicated by Raft; it also runs a local
// development cluster (dev-cluster) and administers a running cluster
// (cluster).
package main
