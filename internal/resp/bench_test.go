package resp

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReadCommand reads pipelined "SET key value" multibulk requests
// from a 16 KiB buffer refilled from an endless stream.
func BenchmarkReadCommand(b *testing.B) {
	one := AppendCommandString(nil, "SET", "key:000000000001", "value-0123456789")
	r := NewReader(&repeatReader{data: bytes.Repeat(one, 128)}, 16<<10)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadInline reads pipelined inline "SET key value" requests.
func BenchmarkReadInline(b *testing.B) {
	one := []byte("SET key:000000000001 value-0123456789\r\n")
	r := NewReader(&repeatReader{data: bytes.Repeat(one, 128)}, 16<<10)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriterBulk writes a 16-byte bulk reply, flushing every 64 replies.
func BenchmarkWriterBulk(b *testing.B) {
	w := NewWriter(io.Discard)
	val := []byte("value-0123456789")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.WriteBulk(val)
		if i++; i%64 == 0 {
			_ = w.Flush()
		}
	}
}

// BenchmarkWriterInt writes an integer reply, flushing every 64 replies.
func BenchmarkWriterInt(b *testing.B) {
	w := NewWriter(io.Discard)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.WriteInt(int64(i) * 7919)
		if i++; i%64 == 0 {
			_ = w.Flush()
		}
	}
}

// BenchmarkWriterDouble writes a RESP3 double, flushing every 64 replies.
func BenchmarkWriterDouble(b *testing.B) {
	w := NewWriter(io.Discard)
	w.SetProto(3)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.WriteDouble(float64(i) / 3)
		if i++; i%64 == 0 {
			_ = w.Flush()
		}
	}
}

// BenchmarkReadReply reads a small RESP3 map reply.
func BenchmarkReadReply(b *testing.B) {
	one := []byte("%2\r\n$3\r\nfoo\r\n:1\r\n$3\r\nbar\r\n*2\r\n,1.5\r\n#t\r\n")
	r := NewReader(&repeatReader{data: bytes.Repeat(one, 128)}, 16<<10)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadReply(); err != nil {
			b.Fatal(err)
		}
	}
}
