package command_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// raft's transport goroutines end shortly after a node's shutdown.
		goleak.IgnoreAnyFunction("github.com/hashicorp/raft.(*NetworkTransport).listen"),
		goleak.IgnoreAnyFunction("github.com/hashicorp/raft.(*deferError).Error"),
	)
}
