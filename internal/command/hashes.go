package command

// hashCommands: the hash family (issue 4). Empty until implemented.
func hashCommands() []*Command { return nil }
