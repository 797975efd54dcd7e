package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"golang.org/x/sys/unix"
)

// Loopback benchmarks: both ends in one process (one program for C), TLS
// 1.3 with AES-128-GCM and X25519, an ECDSA P-256 certificate. Each
// iteration is one batch; the reported figure is the median over the
// batches (-benchtime=Nx sets N).

const (
	bulkBytes      = 1 << 30
	bulkWrite      = 16 << 10
	handshakeBatch = 300
	pingPongSize   = 64
	pingPongRounds = 5000
)

// One client configuration per stack, shared by its connections as an
// application would (the C program loads its credentials once too).
var (
	oursClient = clientConfig()
	goClient   = goClientConfig()
)

// Go's net turns TCP keep-alive on for every connection it dials or
// accepts, four setsockopt calls per socket the C program does not make;
// the loopback benchmarks turn it off so that all three do the same work.
var (
	noKeepAliveDialer = &net.Dialer{KeepAlive: -1}
	oursDialer        = &gnutls.Dialer{NetDialer: noKeepAliveDialer, Config: oursClient}
)

// listenLoopback listens on 127.0.0.1 without keep-alive.
func listenLoopback(b *testing.B) net.Listener {
	lc := net.ListenConfig{KeepAlive: -1}
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// impl is one TLS stack: how to listen and dial on loopback.
type impl struct {
	name   string
	listen func(b *testing.B, tickets bool) net.Listener
	dial   func(addr string) (net.Conn, error)
}

var impls = []impl{
	{
		name: "ours",
		listen: func(b *testing.B, tickets bool) net.Listener {
			sc := serverConfig()
			sc.SessionTicketsDisabled = !tickets
			return gnutls.NewListener(listenLoopback(b), sc)
		},
		dial: func(addr string) (net.Conn, error) { return oursDialer.Dial("tcp", addr) },
	},
	{
		name: "crypto-tls",
		listen: func(b *testing.B, tickets bool) net.Listener {
			sc := goServerConfig()
			sc.SessionTicketsDisabled = !tickets
			return tls.NewListener(listenLoopback(b), sc)
		},
		dial: func(addr string) (net.Conn, error) {
			return tls.DialWithDialer(noKeepAliveDialer, "tcp", addr, goClient)
		},
	},
}

// handshaker is a connection whose handshake can be run on its own.
type handshaker interface {
	Handshake() error
}

// runC runs the C program and returns the seconds it reports.
func runC(b *testing.B, mode string, n int) time.Duration {
	caFile, certFile, keyFile := pkiFiles(b)
	out, err := exec.Command(cProgram(b), mode, caFile, certFile, keyFile, tls13AES128, strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		b.Fatalf("tlsbench %s: %v: %s", mode, err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		b.Fatalf("tlsbench %s printed %q", mode, out)
	}
	secs, err := strconv.ParseFloat(f[2], 64)
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration(secs * float64(time.Second))
}

// batches runs one batch per iteration and reports the median of what
// each returns, per unit.
func batches(b *testing.B, unit string, batch func() float64) {
	var vals []time.Duration // the values, scaled to sort as durations
	for range b.N {
		vals = append(vals, time.Duration(batch()*1e6))
	}
	b.ReportMetric(float64(median(vals))/1e6, unit)
	b.ReportMetric(0, "ns/op")
}

// pair listens with im, dials it and returns both ends.
func pair(b *testing.B, im impl, tickets bool) (client, server net.Conn, done func()) {
	l := im.listen(b, tickets)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			err = c.(handshaker).Handshake()
		}
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := im.dial(l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		b.Fatal("server handshake failed")
	}
	return c, s, func() { c.Close(); s.Close(); l.Close() }
}

// BenchmarkBulk: the client writes bulkBytes in bulkWrite writes; the time
// runs until the server, having read them all, answers one byte.
func BenchmarkBulk(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			batches(b, "MB/s", func() float64 {
				c, s, done := pair(b, im, true)
				defer done()
				go func() {
					buf := make([]byte, bulkWrite)
					for got := 0; got < bulkBytes; {
						n, err := s.Read(buf)
						if err != nil {
							return
						}
						got += n
					}
					s.Write([]byte{'k'})
				}()
				buf := make([]byte, bulkWrite)
				start := time.Now()
				for sent := 0; sent < bulkBytes; sent += bulkWrite {
					if _, err := c.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := io.ReadFull(c, buf[:1]); err != nil {
					b.Fatal(err)
				}
				return bulkBytes / time.Since(start).Seconds() / 1e6
			})
		})
	}
	b.Run("c", func(b *testing.B) {
		batches(b, "MB/s", func() float64 {
			return bulkBytes / runC(b, "bulk", bulkBytes).Seconds() / 1e6
		})
	})
}

// BenchmarkHandshake: full TLS 1.3 handshakes, one connection each, client
// and server in the same process; session tickets off for all three, so
// that each server does only the handshake.
func BenchmarkHandshake(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			l := im.listen(b, false)
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.(handshaker).Handshake()
					c.Close()
				}
			}()
			batches(b, "handshakes/s", func() float64 {
				start := time.Now()
				for range handshakeBatch {
					c, err := im.dial(l.Addr().String())
					if err != nil {
						b.Fatal(err)
					}
					c.Close()
				}
				return handshakeBatch / time.Since(start).Seconds()
			})
		})
	}
	b.Run("ours-blocking-session", benchmarkBlockingSessions)
	b.Run("c", func(b *testing.B) {
		batches(b, "handshakes/s", func() float64 {
			return handshakeBatch / runC(b, "handshakes", handshakeBatch).Seconds()
		})
	})
}

// benchmarkBlockingSessions does what the C program does, through the
// package's Session API on blocking sockets (one goroutine per end, each
// blocking its thread in C): GnuTLS in a Go process without the netpoller.
func benchmarkBlockingSessions(b *testing.B) {
	serverCreds, clientCreds := newCredentials(b), newCredentials(b)
	if err := serverCreds.AddKeyPairPEM(pki.leaf.CertPEM, pki.leaf.KeyPEM); err != nil {
		b.Fatal(err)
	}
	if _, err := clientCreds.AddTrustPEM(pki.ca.PEM); err != nil {
		b.Fatal(err)
	}
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(lfd)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		b.Fatal(err)
	}
	if err := unix.Listen(lfd, 128); err != nil {
		b.Fatal(err)
	}
	addr, err := unix.Getsockname(lfd)
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		for range b.N * handshakeBatch {
			fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
			if err == nil {
				err = blockingHandshake(fd, gnutls.InitServer, serverCreds)
			}
			if err != nil {
				served <- err
				return
			}
		}
		served <- nil
	}()
	batches(b, "handshakes/s", func() float64 {
		start := time.Now()
		for range handshakeBatch {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err == nil {
				if err = unix.Connect(fd, addr); err != nil {
					unix.Close(fd)
				}
			}
			if err == nil {
				err = blockingHandshake(fd, gnutls.InitClient, clientCreds)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		return handshakeBatch / time.Since(start).Seconds()
	})
	if err := <-served; err != nil {
		b.Fatal(err)
	}
}

func newCredentials(b *testing.B) *gnutls.Credentials {
	c, err := gnutls.NewCredentials()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// blockingHandshake runs one handshake on the blocking socket fd as the C
// program does, sends close_notify and closes fd.
func blockingHandshake(fd int, flags gnutls.InitFlags, creds *gnutls.Credentials) error {
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return err
	}
	s, err := gnutls.NewSession(flags)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetPriority(tls13AES128); err != nil {
		return err
	}
	if err := s.SetCredentials(creds); err != nil {
		return err
	}
	if flags&gnutls.InitClient != 0 {
		if err := s.SetServerName("localhost"); err != nil {
			return err
		}
		if err := s.VerifyPeer("localhost"); err != nil {
			return err
		}
	}
	if err := s.SetTransportInt(fd); err != nil {
		return err
	}
	for {
		err := s.Handshake()
		var e *gnutls.Error
		if !errors.As(err, &e) || e.Code != gnutls.ErrAgain {
			if err != nil {
				return err
			}
			break
		}
	}
	return s.Bye(true)
}

// BenchmarkPingPong: 64-byte request and reply on one connection.
func BenchmarkPingPong(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			c, s, done := pair(b, im, true)
			defer done()
			go func() {
				buf := make([]byte, pingPongSize)
				for {
					if _, err := io.ReadFull(s, buf); err != nil {
						return
					}
					if _, err := s.Write(buf); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, pingPongSize)
			batches(b, "µs/round-trip", func() float64 {
				start := time.Now()
				for range pingPongRounds {
					if _, err := c.Write(buf); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						b.Fatal(err)
					}
				}
				return float64(time.Since(start).Microseconds()) / pingPongRounds
			})
		})
	}
	b.Run("c", func(b *testing.B) {
		batches(b, "µs/round-trip", func() float64 {
			return float64(runC(b, "pingpong", pingPongRounds).Microseconds()) / pingPongRounds
		})
	})
}
