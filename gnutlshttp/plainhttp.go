package gnutlshttp

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// plainHTTPResponse is what net/http answers a plain HTTP request sent
// to its TLS port.
const plainHTTPResponse = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

// answerPlainHTTP writes net/http's 400 answer to a plain HTTP request,
// then ends the connection's sending side and reads what the client still
// sends, for up to half a second, so that closing it does not reset it
// (a reset can make the client lose the answer).
func answerPlainHTTP(nc net.Conn) {
	io.WriteString(nc, plainHTTPResponse)
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.Copy(io.Discard, io.LimitReader(nc, 1<<16))
}

// looksLikeHTTP peeks, without consuming them, at the first five bytes
// the client sent on nc and reports whether they start a plain HTTP
// request rather than a TLS record: the check net/http makes on
// crypto/tls's RecordHeaderError. It waits for them until deadline; a
// connection that is not a socket is taken as TLS.
func looksLikeHTTP(nc net.Conn, deadline time.Time) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var hdr [5]byte
	for {
		n := 0
		err := rc.Read(func(fd uintptr) bool {
			var rerr error
			n, _, rerr = unix.Recvfrom(int(fd), hdr[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		switch {
		case err != nil || n <= 0:
			return false
		case n == len(hdr):
			switch string(hdr[:]) {
			case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
				return true
			}
			return false
		case hdr[0] == 0x16, time.Now().After(deadline):
			// A TLS handshake record, or a client that stalls: the
			// handshake decides.
			return false
		}
		time.Sleep(5 * time.Millisecond) // the rest of the header is on its way
	}
}
