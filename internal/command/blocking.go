package command

// clientBlock is a client's blocked-command state.
type clientBlock struct{}
