package command_test

// A small family that checks the harness itself: a few string commands.
func init() {
	registerDiffFamily(diffFamily{
		name: "smoke",
		gen: func(g *diffGen) []string {
			switch g.IntN(4) {
			case 0:
				return []string{"SET", g.Key(), g.Value()}
			case 1:
				return []string{"GET", g.Key()}
			case 2:
				return []string{"INCRBY", g.Key(), g.Int()}
			default:
				return []string{"SADD", g.Key(), g.Member(), g.Member()}
			}
		},
	})
}
