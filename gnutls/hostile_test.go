package gnutls

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fatalGnutls checks that err is a fatal GnuTLS error, not a timeout.
func fatalGnutls(t *testing.T, err error) {
	t.Helper()
	var ge *Error
	if !errors.As(err, &ge) || !ge.Fatal() || ge.Timeout() {
		t.Fatalf("got %v (%T), want a fatal GnuTLS error", err, err)
	}
}

// truncated checks for the error of a stream that ended inside a record:
// GnuTLS says GNUTLS_E_UNEXPECTED_PACKET_LENGTH, or
// GNUTLS_E_PREMATURE_TERMINATION (io.ErrUnexpectedEOF) at a record's start.
func truncated(t *testing.T, err error) {
	t.Helper()
	fatalGnutls(t, err)
	if !errors.Is(err, ErrUnexpectedPacketLength) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want an error for a cut stream", err)
	}
}

// A broken or hostile server ends the handshake with a clear error, or a
// deadline error when it merely stalls, on every transport, and leaves no
// session, handle, fd or goroutine behind.
func TestHostileServerHandshake(t *testing.T) {
	cases := []struct {
		name     string
		server   func(t *testing.T) string
		deadline time.Duration
		check    func(t *testing.T, err error)
	}{
		{"garbage instead of ServerHello", func(t *testing.T) string {
			return hostileServer(t, answer([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")))
		}, 0, fatalGnutls},
		{"stops mid-handshake", func(t *testing.T) string {
			var budget atomic.Int64
			budget.Store(60)
			return cutProxy(t, goTLSServer(t, nil), &budget)
		}, 0, truncated},
		{"closes mid-record", func(t *testing.T) string {
			return hostileServer(t, func(c net.Conn) {
				readClientHello(c)
				c.Write([]byte{0x16, 0x03, 0x03, 0x00, 0x64, 0x02, 0x00, 0x00})
			})
		}, 0, truncated},
		{"oversized record", func(t *testing.T) string {
			return hostileServer(t, answer(append([]byte{0x16, 0x03, 0x03, 0xff, 0xff}, make([]byte, 1024)...)))
		}, 0, func(t *testing.T, err error) {
			if !errors.Is(err, ErrRecordOverflow) && !errors.Is(err, ErrUnexpectedPacketLength) {
				t.Fatalf("got %v, want a record overflow", err)
			}
		}},
		{"malformed record type", func(t *testing.T) string {
			return hostileServer(t, answer([]byte{0x63, 0x03, 0x03, 0x00, 0x04, 1, 2, 3, 4}))
		}, 0, fatalGnutls},
		{"malformed ServerHello", func(t *testing.T) string {
			return hostileServer(t, answer([]byte{0x16, 0x03, 0x03, 0x00, 0x08, 0x02, 0x00, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff}))
		}, 0, fatalGnutls},
		{"fatal alert instead of ServerHello", func(t *testing.T) string {
			return hostileServer(t, answer([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}))
		}, 0, func(t *testing.T, err error) {
			var ae *AlertError
			if !errors.As(err, &ae) || !ae.Fatal || ae.Description != 40 || !errors.Is(err, ErrFatalAlertReceived) {
				t.Fatalf("got %v, want a fatal handshake_failure alert", err)
			}
		}},
		{"never answers", func(t *testing.T) string { return silentServer(t) }, 200 * time.Millisecond, nil},
		{"trickles a byte every 100ms", func(t *testing.T) string {
			return hostileServer(t, func(c net.Conn) {
				readClientHello(c)
				hello := append([]byte{0x16, 0x03, 0x03, 0x00, 0x40}, make([]byte, 0x40)...)
				for _, b := range hello {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			})
		}, 500 * time.Millisecond, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tr := range clientTransports {
				t.Run(tr.name, func(t *testing.T) {
					checkLeaks(t)
					addr := tc.server(t)
					c := Client(tr.dial(t, addr), clientConfig())
					defer c.Close()
					if tc.deadline > 0 {
						c.SetDeadline(time.Now().Add(tc.deadline))
					}
					var err error
					within(t, "Handshake", func() { err = c.Handshake() })
					if err == nil {
						t.Fatal("handshake succeeded")
					}
					t.Log(err)
					if tc.check == nil {
						if !isTimeout(err) {
							t.Fatalf("got %v, want a deadline error", err)
						}
						return
					}
					tc.check(t, err)
					if _, werr := c.Write([]byte("x")); werr == nil {
						t.Fatal("Write after a failed handshake succeeded")
					}
				})
			}
		})
	}
}

// A server that breaks the record stream after the handshake ends Read
// with a clear error.
func TestHostileServerAfterHandshake(t *testing.T) {
	t.Run("closes mid-record", func(t *testing.T) {
		for _, tr := range transports {
			t.Run(tr.name, func(t *testing.T) {
				checkLeaks(t)
				var budget atomic.Int64
				budget.Store(-1)
				c := Client(tr.dial(t, cutProxy(t, goTLSServer(t, nil), &budget)), clientConfig())
				defer c.Close()
				echo(t, c, "whole")
				budget.Store(3)
				if _, err := c.Write([]byte("cut short")); err != nil {
					t.Fatal(err)
				}
				_, err := io.ReadFull(c, make([]byte, 9))
				if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					t.Fatalf("read of a cut record: %v, want io.ErrUnexpectedEOF", err)
				}
				var ge *Error
				if !errors.As(err, &ge) {
					t.Fatalf("read of a cut record: %v (%T), want a GnuTLS error", err, err)
				}
			})
		}
	})
	t.Run("alert mid-stream", func(t *testing.T) {
		for _, tr := range transports {
			t.Run(tr.name, func(t *testing.T) {
				checkLeaks(t)
				alerted := make(chan error, 1)
				addr := hostileServer(t, func(nc net.Conn) {
					s := Server(nc, serverConfig())
					defer s.Close()
					err := s.Handshake()
					if err == nil {
						err = s.Session().SendAlertFor(&Error{Code: ErrDecryptionFailed})
					}
					alerted <- err
					io.Copy(io.Discard, nc)
				})
				c := Client(tr.dial(t, addr), clientConfig())
				defer c.Close()
				if err := c.Handshake(); err != nil {
					t.Fatal(err)
				}
				if err := <-alerted; err != nil {
					t.Fatalf("server: %v", err)
				}
				_, err := c.Read(make([]byte, 1))
				var ae *AlertError
				if !errors.As(err, &ae) || !ae.Fatal || !errors.Is(err, ErrFatalAlertReceived) {
					t.Fatalf("read after the server's alert: %v", err)
				}
				if ae.Description != 20 {
					t.Errorf("alert %d (%v), want bad_record_mac (20)", int(ae.Description), ae.Description)
				}
			})
		}
	})
}

// Writing to a server that went away fails with an error; it raises no
// SIGPIPE: GnuTLS sends with MSG_NOSIGNAL (GNUTLS_NO_SIGNAL), as does the
// fast-open path.
func TestWriteToGonePeer(t *testing.T) {
	// Before any leak check: the first Notify starts a goroutine for good.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGPIPE)
	defer signal.Stop(sigs)
	for _, tr := range clientTransports {
		t.Run(tr.name, func(t *testing.T) {
			checkLeaks(t)
			gone := make(chan struct{})
			addr := hostileServer(t, func(c net.Conn) {
				tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}})
				tc.Handshake()
				c.Close()
				close(gone)
			})
			c := Client(tr.dial(t, addr), clientConfig())
			defer c.Close()
			if err := c.Handshake(); err != nil {
				t.Fatal(err)
			}
			<-gone
			var err error
			for i := 0; i < 1000 && err == nil; i++ {
				_, err = c.Write(make([]byte, 1024))
			}
			if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("write to a closed peer: %v, want EPIPE or ECONNRESET", err)
			}
			t.Log(err)
			if tr.name == "callbacks" {
				// Go's own write(2) may raise SIGPIPE; the runtime ignores it.
				select {
				case <-sigs:
				case <-time.After(100 * time.Millisecond):
				}
				return
			}
			select {
			case s := <-sigs:
				t.Fatalf("%v raised by a write to a closed peer", s)
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}
