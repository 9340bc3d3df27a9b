package resp

import "strconv"

// AppendCommand appends args encoded as a RESP multibulk request
// (*N, then $len arg per argument) to dst and returns the extended slice. For
// clients, benchmarks and forwarding; ReadCommand returns the same args.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	return appendCommand(dst, args)
}

// AppendCommandString is AppendCommand for string arguments.
func AppendCommandString(dst []byte, args ...string) []byte {
	return appendCommand(dst, args)
}

func appendCommand[T string | []byte](dst []byte, args []T) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}
