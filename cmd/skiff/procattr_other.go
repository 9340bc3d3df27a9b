//go:build !linux

package main

import "os/exec"

// setChildProcAttr does nothing here: the nodes share dev-cluster's process
// group, so a terminal's Ctrl-C reaches them directly as well, and a
// dev-cluster killed with SIGKILL leaves them running.
func setChildProcAttr(*exec.Cmd) {}
