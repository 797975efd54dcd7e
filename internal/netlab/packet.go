package netlab

import "encoding/binary"

// IP protocol numbers that synWithPayload looks at.
const (
	protoHopByHop = 0
	protoTCP      = 6
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDestOpts = 60
)

// synWithPayload reports whether the IPv4 or IPv6 packet p is a TCP segment
// with the SYN flag set that carries payload, as TCP Fast Open sends.
func synWithPayload(p []byte) bool {
	be := binary.BigEndian
	var (
		proto byte
		l4    []byte // what follows the IP headers
	)
	switch {
	case len(p) >= 20 && p[0]>>4 == 4:
		hl, total := int(p[0]&0x0f)*4, int(be.Uint16(p[2:]))
		if hl < 20 || total < hl || total > len(p) || be.Uint16(p[6:])&0x1fff != 0 {
			return false // malformed, or not the first fragment
		}
		proto, l4 = p[9], p[hl:total]
	case len(p) >= 40 && p[0]>>4 == 6:
		end := 40 + int(be.Uint16(p[4:]))
		if end > len(p) {
			return false
		}
		proto, l4 = p[6], p[40:end]
		for proto != protoTCP {
			var n int
			switch {
			case len(l4) < 8:
				return false
			case proto == protoHopByHop || proto == protoRouting || proto == protoDestOpts:
				n = (int(l4[1]) + 1) * 8
			case proto == protoFragment:
				if be.Uint16(l4[2:])&^7 != 0 {
					return false // not the first fragment
				}
				n = 8
			case proto == protoAH:
				n = (int(l4[1]) + 2) * 4
			default:
				return false
			}
			if n > len(l4) {
				return false
			}
			proto, l4 = l4[0], l4[n:]
		}
	default:
		return false
	}
	if proto != protoTCP || len(l4) < 20 {
		return false
	}
	const flagSYN = 0x02
	off := int(l4[12]>>4) * 4
	return l4[13]&flagSYN != 0 && off >= 20 && len(l4) > off
}
