package gnutlshttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"golang.org/x/net/http2"
)

// A server connection reads the client's TLS 1.3 early data during its
// handshake, before net/http sees a byte, and marks the requests that
// began in it with "Early-Data: 1" (RFC 8470, section 5.1): over HTTP/1.1
// by counting the requests the early data holds, as requests on one
// connection are served in order; over HTTP/2 by adding the header to
// the header block of each stream the early data opened.

// serverConn is a server connection after its handshake; Read returns
// the early data first.
type serverConn struct {
	*stateConn
	early []byte
	// earlyRequests is how many HTTP/1.1 requests began in early data;
	// served counts the requests handed to the handler so far.
	earlyRequests int
	served        atomic.Int64
}

func (c *serverConn) Read(b []byte) (int, error) {
	if len(c.early) > 0 {
		n := copy(b, c.early)
		c.early = c.early[n:]
		return n, nil
	}
	return c.stateConn.Read(b)
}

// earlyBufs holds the buffers readEarly reads into: every connection
// needs one for its handshake, few keep anything from it.
var earlyBufs = sync.Pool{New: func() any { return new([16 << 10]byte) }}

// readEarly runs the handshake until the client's early data has all
// arrived and keeps it for Read, marked for the protocol ALPN selected.
func (c *serverConn) readEarly() error {
	var early []byte
	buf := earlyBufs.Get().(*[16 << 10]byte)
	defer earlyBufs.Put(buf)
	for {
		n, err := c.Conn.ReadEarlyData(buf[:])
		early = append(early, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if len(early) == 0 {
		return nil
	}
	if c.Conn.ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
		marked, err := markH2(early, c.Conn)
		c.early = marked
		return err
	}
	c.early = early
	c.earlyRequests = countRequests(early)
	return nil
}

// countRequests returns how many HTTP/1.1 requests begin in b: those
// parsed whole, and one cut short by its end. As net/http's server does,
// up to 4 CR or LF after a POST begin no request (RFC 9112, section 2.2).
func countRequests(b []byte) int {
	r := bytes.NewReader(b)
	br := bufio.NewReader(r)
	n := 0
	last := ""
	for {
		if last == http.MethodPost {
			peek, _ := br.Peek(4)
			br.Discard(numLeadingCRorLF(peek))
		}
		if r.Len()+br.Buffered() == 0 {
			return n
		}
		n++
		req, err := http.ReadRequest(br)
		if err != nil {
			return n
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return n
		}
		last = req.Method
	}
}

func numLeadingCRorLF(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
		n++
	}
	return n
}

type serverConnKey struct{}

// withEarlyRequests is the HTTP/1.1 server's ConnContext: it gives the
// handler the connection, to tell which requests came in early data.
func withEarlyRequests(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*serverConn); ok && sc.earlyRequests > 0 {
		return context.WithValue(ctx, serverConnKey{}, sc)
	}
	return ctx
}

// earlyHandler gives each request that began in early data exactly one
// "Early-Data: 1", over HTTP/1.1 by counting them and over HTTP/2 where
// markH2 added the field. A request not in early data keeps an
// Early-Data field it came with, which a previous hop that received it
// in early data added (RFC 8470, section 5.1): the server must not lose
// that. Every instance, repeated or with another value, counts as a
// single "1" (the same section), so it becomes exactly that.
type earlyHandler struct{ h http.Handler }

func (e earlyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	early := false
	if sc, ok := r.Context().Value(serverConnKey{}).(*serverConn); ok && r.ProtoMajor == 1 {
		early = sc.served.Add(1) <= int64(sc.earlyRequests)
	}
	if early || len(r.Header.Values("Early-Data")) > 0 {
		r.Header.Set("Early-Data", "1")
	}
	e.h.ServeHTTP(w, r)
}

// earlyDataField is "early-data: 1" as an HPACK literal header field
// without indexing and with a literal name (RFC 7541, section 6.2.2): it
// leaves the decoder's dynamic table as it was, so it can be appended to
// a header block without touching what follows.
var earlyDataField = []byte("\x00\x0aearly-data\x011")

const (
	frameHeaderLen = 9
	// maxEarlyFrame is the largest frame a client may send before it has
	// the server's SETTINGS (RFC 9113, section 4.2).
	maxEarlyFrame   = 16384
	flagEndHeaders  = 0x4
	flagPadded      = 0x8
	clientPrefaceH2 = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

var errEarlyFrame = errors.New("gnutlshttp: HTTP/2 frame in early data larger than 16384 bytes")

// markH2 returns the HTTP/2 byte stream b (the early data) with
// earlyDataField appended to the header block of every stream a HEADERS
// frame in b opens. A frame or header block that b cuts short is
// completed from more. Bytes that are not HTTP/2 are returned as they
// are, for the HTTP/2 server to refuse.
func markH2(b []byte, more io.Reader) ([]byte, error) {
	need := func(n int) error {
		for len(b) < n {
			chunk := make([]byte, max(n-len(b), 4096))
			m, err := more.Read(chunk)
			b = append(b, chunk[:m]...)
			if err != nil && len(b) < n {
				return err
			}
		}
		return nil
	}
	early := len(b)
	if err := need(len(clientPrefaceH2)); err != nil {
		return b, err
	}
	if string(b[:len(clientPrefaceH2)]) != clientPrefaceH2 {
		return b, nil
	}
	out := []byte(clientPrefaceH2)
	pos := len(clientPrefaceH2)
	opened := map[uint32]bool{}
	marking := false // a header block to mark has not ended yet
	for pos < early || marking {
		if err := need(pos + frameHeaderLen); err != nil {
			return append(out, b[pos:]...), err
		}
		h := b[pos : pos+frameHeaderLen]
		length := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		typ, flags := http2.FrameType(h[3]), h[4]
		stream := binary.BigEndian.Uint32(h[5:]) & (1<<31 - 1)
		if length > maxEarlyFrame {
			return append(out, b[pos:]...), errEarlyFrame
		}
		if err := need(pos + frameHeaderLen + length); err != nil {
			return append(out, b[pos:]...), err
		}
		payload := b[pos+frameHeaderLen : pos+frameHeaderLen+length]
		pos += frameHeaderLen + length
		switch {
		case typ == http2.FrameHeaders && !opened[stream]:
			opened[stream] = true
			marking = true
		case typ == http2.FrameContinuation && marking:
		default:
			out = append(out, h...)
			out = append(out, payload...)
			continue
		}
		if flags&flagEndHeaders == 0 {
			out = append(out, h...)
			out = append(out, payload...)
			continue
		}
		marking = false
		out = appendMarked(out, typ, flags, stream, payload)
	}
	return append(out, b[pos:]...), nil
}

// appendMarked appends the frame that ends a header block with
// earlyDataField added at the end of its fragment (before any padding),
// or, when that would pass maxEarlyFrame, the frame unchanged but for its
// END_HEADERS flag and a CONTINUATION frame holding the field.
func appendMarked(out []byte, typ http2.FrameType, flags byte, stream uint32, payload []byte) []byte {
	if len(payload)+len(earlyDataField) > maxEarlyFrame {
		out = appendFrame(out, typ, flags&^flagEndHeaders, stream, payload)
		return appendFrame(out, http2.FrameContinuation, flagEndHeaders, stream, earlyDataField)
	}
	end := len(payload)
	if typ == http2.FrameHeaders && flags&flagPadded != 0 && len(payload) > 0 {
		end -= min(int(payload[0]), len(payload))
	}
	p := make([]byte, 0, len(payload)+len(earlyDataField))
	p = append(append(append(p, payload[:end]...), earlyDataField...), payload[end:]...)
	return appendFrame(out, typ, flags, stream, p)
}

func appendFrame(out []byte, typ http2.FrameType, flags byte, stream uint32, payload []byte) []byte {
	n := len(payload)
	out = append(out, byte(n>>16), byte(n>>8), byte(n), byte(typ), flags)
	out = binary.BigEndian.AppendUint32(out, stream)
	return append(out, payload...)
}
