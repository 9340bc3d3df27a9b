package command

// listCommands: the list family (issue 4). Empty until implemented.
func listCommands() []*Command { return nil }
