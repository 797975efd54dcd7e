package gnutls

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
)

// earlyClient is a client Config with a session cache.
func earlyClient(cache ClientSessionCache) *Config {
	cfg := clientConfig()
	cfg.ClientSessionCache = cache
	return cfg
}

// A first Write larger than the ticket allows: the ticket's limit goes as
// early data, the rest after the handshake, all of it once and in order.
func TestDialEarlyLargerThanLimit(t *testing.T) {
	sc := serverConfig()
	sc.MaxEarlyData = 100
	addr, seen := earlyServer(t, sc)
	cfg := earlyClient(NewLRUClientSessionCache(4))
	dialEarly(t, addr, cfg, []byte("first\n"))
	<-seen

	data := make([]byte, 1000)
	for i := range data {
		data[i] = 'a' + byte(i%26)
	}
	st := dialEarly(t, addr, cfg, data)
	rec := <-seen
	want := EarlyDataState{Limit: 100, Offered: true, Bytes: 100, Accepted: true}
	if st.EarlyData != want {
		t.Fatalf("early data %+v, want %+v", st.EarlyData, want)
	}
	if !bytes.Equal(rec.early, data[:100]) || !rec.beforeDone {
		t.Fatalf("server read %d bytes of early data (%q), want the first 100", len(rec.early), rec.early)
	}
}

// A server that resumes the session but rejects its early data: GnuTLS's
// anti-replay check refuses a ticket issued before its current window
// began. (The window moves on when early data is checked after it ended:
// another client's early data does that.)
// By default the bytes are sent again after the handshake and arrive
// once; with EarlyDataNoResend the Write fails with ErrEarlyDataRejected
// and none of them arrive, and the connection goes on.
func TestDialEarlyRejected(t *testing.T) {
	const window = 100 * time.Millisecond
	sc := earlyServerConfig()
	sc.EarlyDataWindow = window
	addr, seen := earlyServer(t, sc)
	for _, noResend := range []bool{false, true} {
		t.Run(fmt.Sprintf("EarlyDataNoResend=%v", noResend), func(t *testing.T) {
			cfg := earlyClient(NewLRUClientSessionCache(4))
			cfg.EarlyDataNoResend = noResend
			dialEarly(t, addr, cfg, []byte("first\n"))
			<-seen
			time.Sleep(3 * window)
			other := earlyClient(NewLRUClientSessionCache(4))
			for range 2 {
				dialEarly(t, addr, other, []byte("another client\n"))
				<-seen
			}

			req := []byte("request\n")
			c, err := (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			n, err := c.Write(req)
			st := c.ConnectionState()
			if !st.DidResume || st.EarlyData != (EarlyDataState{Limit: 16384, Offered: true, Bytes: len(req), Rejected: true, Resent: !noResend}) {
				t.Fatalf("resumed %v, early data %+v", st.DidResume, st.EarlyData)
			}
			if noResend {
				if n != 0 || !errors.Is(err, ErrEarlyDataRejected) {
					t.Fatalf("Write: %d, %v; want 0, ErrEarlyDataRejected", n, err)
				}
				t.Logf("Write: %v", err)
				// The echo brings back only what follows: nothing of req
				// reached the server.
				echo(t, c, "after\n")
			} else {
				if n != len(req) || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
				got := make([]byte, len(req)+len("after\n"))
				io.WriteString(c, "after\n")
				if _, err := io.ReadFull(c, got); err != nil || string(got) != "request\nafter\n" {
					t.Fatalf("echo %q, %v", got, err)
				}
			}
			c.Close()
			if rec := <-seen; len(rec.early) != 0 || rec.state.EarlyDataAccepted || rec.err != nil {
				t.Fatalf("server: early data %q, accepted %v, err %v", rec.early, rec.state.EarlyDataAccepted, rec.err)
			}
		})
	}
}

// Whether a ticket allows early data is read from the ticket. Server B
// shares server A's ticket key but takes no early data: it resumes A's
// ticket and rejects the early data, and its own tickets carry no
// early_data extension. GnuTLS still reports A's limit for B's ticket (it
// keeps the resumed session's value), so that ticket must not be offered
// early data.
func TestDialEarlyTicketWithoutEarlyData(t *testing.T) {
	sa, sb := earlyServerConfig(), serverConfig()
	key, err := sa.serverTicketKey()
	if err != nil {
		t.Fatal(err)
	}
	sb.ticketKey = key
	addrA, seenA := earlyServer(t, sa)
	addrB, seenB := earlyServer(t, sb)
	cfg := earlyClient(&oneSessionCache{})

	dialEarly(t, addrA, cfg, []byte("to A\n"))
	<-seenA
	st := dialEarly(t, addrB, cfg, []byte("to B with A's ticket\n"))
	<-seenB
	if !st.DidResume || !st.EarlyData.Rejected || !st.EarlyData.Resent || st.EarlyData.Limit != 16384 {
		t.Fatalf("B with A's ticket: resumed %v, early data %+v", st.DidResume, st.EarlyData)
	}

	c, err := (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addrB)
	if err != nil {
		t.Fatal(err)
	}
	gnutlsSays := c.Session().MaxEarlyDataSize()
	c.Close()
	st = dialEarly(t, addrB, cfg, []byte("to B with B's ticket\n"))
	<-seenB
	if !st.DidResume || st.EarlyData != (EarlyDataState{}) {
		t.Fatalf("B with B's ticket: resumed %v, early data %+v (GnuTLS's max_early_data_size for the ticket: %d)", st.DidResume, st.EarlyData, gnutlsSays)
	}
	t.Logf("B's ticket: no early data offered; GnuTLS's max_early_data_size for it: %d", gnutlsSays)
}

// A Read or a Handshake before any Write runs the handshake without early
// data: a protocol where the server speaks first works on DialEarly.
func TestDialEarlyReadFirst(t *testing.T) {
	sc := earlyServerConfig()
	addr := serveOn(t, sc, func(c *Conn) {
		io.WriteString(c, "hello\n")
		io.Copy(c, c)
	})
	cfg := earlyClient(NewLRUClientSessionCache(4))
	first := func(c *Conn) error {
		_, err := io.ReadFull(c, make([]byte, 6))
		return err
	}
	for i, tc := range []struct {
		name  string
		first func(*Conn) error
	}{
		{"Read", first},
		{"Read", first}, // resumed
		{"Handshake", func(c *Conn) error {
			if err := c.Handshake(); err != nil {
				return err
			}
			return first(c)
		}},
	} {
		c, err := (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := tc.first(c); err != nil {
			t.Fatalf("%s first: %v", tc.name, err)
		}
		echo(t, c, "then a write\n")
		st := c.ConnectionState()
		c.Close()
		if st.DidResume != (i > 0) || st.EarlyData.Offered || st.EarlyData.Bytes != 0 {
			t.Fatalf("%s first, connection %d: resumed %v, early data %+v", tc.name, i, st.DidResume, st.EarlyData)
		}
		if i > 0 && st.EarlyData.Limit == 0 {
			t.Fatalf("%s first, connection %d: the ticket's limit is not reported", tc.name, i)
		}
	}
}

// nginxGet is an HTTP/1.1 request on a connection kept alive: nginx
// closing it after answering in 0.5-RTT data could reset the connection
// before the client's Finished is out.
func nginxGet(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

// getEarly sends req first on a DialEarly connection and returns the
// response, the connection's state and the first Write's error. When that
// is ErrEarlyDataRejected, it sends retry instead, if given.
func getEarly(t *testing.T, addr string, cfg *Config, req, retry []byte) (string, ConnectionState, error) {
	t.Helper()
	c, err := (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, werr := c.Write(req)
	if errors.Is(werr, ErrEarlyDataRejected) && retry != nil {
		if _, err := c.Write(retry); err != nil {
			t.Fatal(err)
		}
	} else if werr != nil {
		return "", c.ConnectionState(), werr
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return resp.Status + " " + string(body), c.ConnectionState(), werr
}

// nginxLogged waits until s has logged n requests and returns them.
func nginxLogged(t *testing.T, s *peers.Server, n int) []string {
	t.Helper()
	got := peers.NginxAccessLog(t, s, n)
	if len(got) != n {
		t.Fatalf("nginx logged %d requests, want %d:\n%s", len(got), n, strings.Join(got, "\n"))
	}
	return got
}

// nginx with ssl_early_data on takes the request as early data; each
// request reaches it once. (Whether it answered before its handshake
// completed, $ssl_early_data, depends on the race with the client's
// Finished over loopback; the lab benchmark times it.)
func TestDialEarlyNginx(t *testing.T) {
	s := peers.Nginx(t, pki.ca, pki.leaf, peers.NginxOptions{EarlyData: true})
	cfg := earlyClient(NewLRUClientSessionCache(4))
	for i := range 3 {
		req := nginxGet(fmt.Sprintf("/early/%d", i))
		resp, st, err := getEarly(t, s.Addr, cfg, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		early := i > 0
		if resp != "200 OK \n" && (!early || resp != "200 OK 1\n") {
			t.Fatalf("connection %d: response %q", i, resp)
		}
		want := EarlyDataState{}
		if early {
			want = EarlyDataState{Limit: 16384, Offered: true, Bytes: len(req), Accepted: true}
		}
		if st.DidResume != early || st.EarlyData != want {
			t.Fatalf("connection %d: resumed %v, early data %+v, want %+v", i, st.DidResume, st.EarlyData, want)
		}
		logged := nginxLogged(t, s, i+1)
		mark := "-" // $ssl_early_data, as the response said it
		if resp == "200 OK 1\n" {
			mark = "1"
		}
		if l := logged[i]; l != fmt.Sprintf("GET /early/%d %s 200", i, mark) {
			t.Fatalf("connection %d: nginx logged %q", i, l)
		}
		t.Logf("connection %d: %v; nginx logged %s", i, st.EarlyData, logged[i])
	}
}

// Two nginx servers share a ticket key; B has early data off. A ticket of
// A resumes at B, which rejects the early data: the request is sent again
// after the handshake, or with EarlyDataNoResend not at all. B's own
// tickets allow no early data, and none is offered on them.
func TestDialEarlyNginxRejected(t *testing.T) {
	key := make([]byte, 80)
	rand.Read(key)
	a := peers.Nginx(t, pki.ca, pki.leaf, peers.NginxOptions{EarlyData: true, TicketKey: key})
	b := peers.Nginx(t, pki.ca, pki.leaf, peers.NginxOptions{TicketKey: key})
	for _, noResend := range []bool{false, true} {
		t.Run(fmt.Sprintf("EarlyDataNoResend=%v", noResend), func(t *testing.T) {
			cfg := earlyClient(&oneSessionCache{})
			cfg.EarlyDataNoResend = noResend
			if _, _, err := getEarly(t, a.Addr, cfg, nginxGet("/early/a"), nil); err != nil {
				t.Fatal(err)
			}
			before := len(peers.NginxAccessLog(t, b, 0))
			// With EarlyDataNoResend the caller decides what to send
			// instead; here another request.
			resp, st, err := getEarly(t, b.Addr, cfg, nginxGet("/early/b-with-a-ticket"), nginxGet("/early/b-instead"))
			if !st.DidResume || st.EarlyData != (EarlyDataState{Limit: 16384, Offered: true, Bytes: len(nginxGet("/early/b-with-a-ticket")), Rejected: true, Resent: !noResend}) {
				t.Fatalf("B with A's ticket: resumed %v, early data %+v", st.DidResume, st.EarlyData)
			}
			if noResend != errors.Is(err, ErrEarlyDataRejected) || (!noResend && err != nil) || resp != "200 OK \n" {
				t.Fatalf("B with A's ticket: response %q, %v", resp, err)
			}
			resp, st, err = getEarly(t, b.Addr, cfg, nginxGet("/early/b-with-b-ticket"), nil)
			if err != nil || !st.DidResume || st.EarlyData != (EarlyDataState{}) || resp != "200 OK \n" {
				t.Fatalf("B with B's ticket: resumed %v, early data %+v, response %q, %v", st.DidResume, st.EarlyData, resp, err)
			}
			want := []string{"GET /early/b-with-a-ticket - 200", "GET /early/b-with-b-ticket - 200"}
			if noResend {
				want[0] = "GET /early/b-instead - 200"
			}
			logged := nginxLogged(t, b, before+len(want))[before:]
			for i, w := range want {
				if logged[i] != w {
					t.Fatalf("B logged %q, want %q once, not as early data", logged, want)
				}
			}
		})
	}
}

// openssl s_server with a small max_early_data: the Write is split at
// that limit and the server prints every byte once.
func TestDialEarlyOpenSSLLimit(t *testing.T) {
	s := peers.OpenSSLSink(t, pki.ca, pki.leaf, "-early_data", "-tls1_3", "-max_early_data", "256")
	cfg := earlyClient(NewLRUClientSessionCache(4))
	for i := range 2 {
		var data bytes.Buffer
		for j := 0; data.Len() < 1000; j++ {
			fmt.Fprintf(&data, "connection %d line %03d\n", i, j)
		}
		c := writeFirst(t, s.Addr, cfg, data.Bytes())
		// OpenSSL sends its tickets after the handshake; wait for one.
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		c.Read(make([]byte, 1))
		st := c.ConnectionState()
		c.Close()
		want := EarlyDataState{}
		if i > 0 {
			want = EarlyDataState{Limit: 256, Offered: true, Bytes: 256, Accepted: true}
		}
		if st.EarlyData != want {
			t.Fatalf("connection %d: early data %+v, want %+v", i, st.EarlyData, want)
		}
		if !waitFor(func() bool { return strings.Contains(s.Output(), data.String()) }) {
			t.Fatalf("connection %d: openssl s_server did not print the %d bytes in order: %s", i, data.Len(), s.Output())
		}
		if n := strings.Count(s.Output(), fmt.Sprintf("connection %d line 000\n", i)); n != 1 {
			t.Fatalf("connection %d: openssl s_server printed the first line %d times", i, n)
		}
	}
}

// A Read and the first Write racing on a DialEarly connection, as a
// reader goroutine and a writer do: whichever runs the handshake, the
// data arrives once, and early data only when the Write ran it.
func TestDialEarlyConcurrentReadWrite(t *testing.T) {
	addr := echoListener(t, earlyServerConfig())
	cfg := earlyClient(NewLRUClientSessionCache(4))
	early := 0
	for i := range 20 {
		c, err := (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		err = echoConcurrently(c, []byte(fmt.Sprintf("request %d\n", i)))
		st := c.ConnectionState()
		c.Close()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if st.EarlyData.Offered {
			early++
			if !st.EarlyData.Accepted {
				t.Fatalf("connection %d: early data %+v", i, st.EarlyData)
			}
		}
	}
	t.Logf("%d of 20 connections had the Write run the handshake, with early data", early)
}

// A ticket allowing math.MaxUint32 bytes of early data: the limit is read
// from the ticket, so the data goes as early data on every GnuTLS
// version, although before 3.8.9 GnuTLS reports the same number for a
// ticket that allows none.
func TestDialEarlyTicketAllowsMaxUint32(t *testing.T) {
	sc := serverConfig()
	sc.MaxEarlyData = math.MaxUint32
	addr, seen := earlyServer(t, sc)
	cfg := earlyClient(NewLRUClientSessionCache(4))
	dialEarly(t, addr, cfg, []byte("first\n"))
	<-seen
	req := []byte("early line\n")
	st := dialEarly(t, addr, cfg, req)
	rec := <-seen
	want := EarlyDataState{Limit: math.MaxUint32, Offered: true, Bytes: len(req), Accepted: true}
	if !st.DidResume || st.EarlyData != want || !bytes.Equal(rec.early, req) {
		t.Fatalf("GnuTLS %s: resumed %v, early data %+v, server read %q as early data", Version(), st.DidResume, st.EarlyData, rec.early)
	}
}
