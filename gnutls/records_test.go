package gnutls

import (
	"encoding/binary"
	"testing"
)

// refFollowRecords is go_gnutls_records_feed written again in Go: the
// records in stream whose header is complete.
func refFollowRecords(least int, stream []byte) (empty, bytes uint64) {
	for len(stream) >= 5 {
		n := int(binary.BigEndian.Uint16(stream[3:5]))
		if n <= least {
			empty++
		} else {
			bytes += uint64(5 + n)
		}
		stream = stream[min(len(stream), 5+n):]
	}
	return empty, bytes
}

// The record follower counts the same records, however the stream is cut
// into the pieces a pull function hands over.
func FuzzFollowRecords(f *testing.F) {
	f.Add([]byte{23, 3, 3, 0, 17}, uint8(3))
	f.Add(append([]byte{23, 3, 3, 0, 18}, make([]byte, 18+5)...), uint8(1))
	f.Add([]byte{23, 3, 3, 0, 0, 23, 3, 3, 0, 0}, uint8(7))
	f.Fuzz(func(t *testing.T, stream []byte, cut uint8) {
		const least = 17
		step := int(cut%16) + 1
		var chunks [][]byte
		for rest := stream; len(rest) > 0; {
			n := min(step, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		empty, bytes := followRecords(least, chunks)
		wantEmpty, wantBytes := refFollowRecords(least, stream)
		if empty != wantEmpty || bytes != wantBytes {
			t.Fatalf("%d empty, %d bytes; want %d, %d", empty, bytes, wantEmpty, wantBytes)
		}
	})
}
