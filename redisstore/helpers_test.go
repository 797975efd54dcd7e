package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { live.Main(m) }

var (
	testCA   = testpki.NewCA("redisstore test CA")
	testLeaf = testCA.Issue(testpki.Options{}, "localhost", "127.0.0.1", "::1")
)

// redisStore starts a redis-server for the test and returns a Store on
// it, with the server to stop or pause.
func redisStore(t testing.TB, opts Options) (*Store, *redis.Client, *peers.Server) {
	t.Helper()
	srv := peers.Redis(t, 0)
	// No retries: a command that fails fails at once. No read timeout: a
	// command waits for a hanging Redis as long as the Store lets it.
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, ReadTimeout: -1})
	t.Cleanup(func() { client.Close() })
	// The first command dials; a loaded machine can take longer for that
	// than a Store's Timeout allows.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis-server at %s: %v", srv.Addr, err)
	}
	return New(client, opts), client, srv
}

func newKey() [32]byte {
	var k [32]byte
	rand.Read(k[:])
	return k
}

// fleetConfig is a server Config of a fleet sharing keys and store,
// accepting early data. Its anti-replay checks wait as long as the
// store's commands.
func fleetConfig(keys [][32]byte, store *Store) *gnutls.Config {
	// A window longer than the tests: GnuTLS refuses early data of tickets
	// issued before its window last began.
	sc := &gnutls.Config{Certificates: []tls.Certificate{testLeaf.TLS}, MaxEarlyData: 16384,
		EarlyDataWindow: time.Minute, AntiReplayTimeout: store.timeout}
	sc.SetSessionTicketKeys(keys)
	sc.AntiReplay, sc.ServerSessionCache = store, store
	return sc
}

func clientConfig() *gnutls.Config {
	return &gnutls.Config{ServerName: "localhost", RootCAPEM: testCA.PEM, ClientSessionCache: &peers.LastSession{}}
}

// served is what a server saw on one connection.
type served struct {
	early   []byte // read with ReadEarlyData
	resumed bool
	err     error
}

// fleetServer listens with sc, reads early data, echoes, and reports each
// connection once the client has gone. It has served one connection
// before it returns, so that its anti-replay window began before the
// test's tickets are issued (GnuTLS refuses early data of older tickets).
func fleetServer(t *testing.T, sc *gnutls.Config) (string, <-chan served) {
	t.Helper()
	l, err := gnutls.Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan served, 16)
	stop := peers.Serve(l, func(nc net.Conn) {
		c := nc.(*gnutls.Conn)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		var s served
		buf := make([]byte, 256)
		for {
			n, err := c.ReadEarlyData(buf)
			s.early = append(s.early, buf[:n]...)
			if err != nil {
				if err != io.EOF {
					s.err = err
				}
				break
			}
		}
		if s.err == nil {
			if _, err := c.Write(s.early); err != nil {
				s.err = err
			}
			io.Copy(c, c)
		}
		s.resumed = c.ConnectionState().DidResume
		ch <- s
	})
	t.Cleanup(func() { stop(); stop = nil })
	c, err := gnutls.Dial("tcp", l.Addr().String(), &gnutls.Config{ServerName: "localhost", RootCAPEM: testCA.PEM})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "warm")
	io.ReadFull(c, make([]byte, 4))
	c.Close()
	<-ch
	return l.Addr().String(), ch
}

// dial connects with cfg, sends data first (as early data when the
// session allows), reads its echo and returns the client's state and the
// server's report.
func dial(t *testing.T, addr string, cfg *gnutls.Config, data []byte, seen <-chan served) (gnutls.ConnectionState, served) {
	t.Helper()
	c, err := (&gnutls.Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("echo: %q, %v", got, err)
	}
	st := c.ConnectionState()
	c.Close()
	select {
	case s := <-seen:
		return st, s
	case <-time.After(20 * time.Second):
		t.Fatal("the server reported no connection")
	}
	panic("unreachable")
}

// recorder keeps what a client writes before its first read: its first
// flight.
type recorder struct {
	net.Conn
	read   bool
	flight bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.read {
		r.flight.Write(b)
	}
	return r.Conn.Write(b)
}

func (r *recorder) Read(b []byte) (int, error) {
	r.read = true
	return r.Conn.Read(b)
}

// recordFlight makes a 0-RTT connection to addr through a recorder and
// returns its first flight, checking that the early data was accepted.
func recordFlight(t *testing.T, addr string, cfg *gnutls.Config, data []byte, seen <-chan served) []byte {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Conn: nc}
	c := gnutls.ClientEarly(rec, cfg)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, len(data))); err != nil || !c.ConnectionState().EarlyData.Accepted {
		t.Fatalf("recorded connection: %v, early data %v", err, c.ConnectionState().EarlyData)
	}
	c.Close()
	if s := <-seen; !bytes.Equal(s.early, data) {
		t.Fatalf("server, recorded connection: early data %q", s.early)
	}
	return rec.flight.Bytes()
}

// replay sends a recorded first flight and hangs up once the server has
// answered, as an attacker without the keys must; it returns what the
// server then reported.
func replay(t *testing.T, addr string, flight []byte, seen <-chan served) served {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(flight)
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	io.Copy(io.Discard, c)
	c.Close()
	select {
	case s := <-seen:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("the server reported no connection")
	}
	panic("unreachable")
}
