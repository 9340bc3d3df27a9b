package main

import (
	"os/exec"
	"syscall"
)

// setChildProcAttr puts a dev-cluster node in its own process group, so a
// Ctrl-C in the terminal reaches only dev-cluster, which then stops the
// nodes in order; and asks the kernel to send the node SIGTERM if
// dev-cluster dies without stopping it (SIGKILL, crash), so no node is left
// behind.
func setChildProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
