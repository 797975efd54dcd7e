package gnutls

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/tlsrecord"
)

// alertVersion is a protocol version and record protection a hostile
// peer uses.
type alertVersion struct {
	name  string
	tls13 bool
	suite uint16 // TLS 1.2
}

var alertVersions = []alertVersion{
	{"TLS1.3", true, 0},
	{"TLS1.2 AES-GCM", false, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	{"TLS1.2 AES-CBC", false, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
}

// alertPriority leaves out what tlsrecord cannot protect (ChaCha20, CCM).
const alertPriority = "NORMAL:-CHACHA20-POLY1305:-AES-128-CCM:-AES-256-CCM"

// goTLSConfig is the hostile peer's crypto/tls configuration for v.
func (v alertVersion) goTLSConfig(kl io.Writer) *tls.Config {
	cfg := &tls.Config{
		ServerName: "localhost", RootCAs: newPool(pki.ca.Cert),
		Certificates: []tls.Certificate{pki.leaf.TLS}, KeyLogWriter: kl,
		MinVersion: tls.VersionTLS13,
	}
	if !v.tls13 {
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		cfg.CipherSuites = []uint16{v.suite}
	}
	return cfg
}

// hostileAct is what a hostile peer writes after the handshake.
type hostileAct func(c *tlsrecord.Conn, v alertVersion) error

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// rawRecord is a record written as it is, unprotected.
func rawRecord(typ byte, body []byte) func(*tlsrecord.Conn, alertVersion) error {
	return func(c *tlsrecord.Conn, _ alertVersion) error {
		return c.WriteRaw(append(tlsrecord.Header(typ, len(body)), body...))
	}
}

// sealed is a record protected under the traffic keys.
func sealed(typ byte, payload []byte) func(*tlsrecord.Conn, alertVersion) error {
	return func(c *tlsrecord.Conn, _ alertVersion) error { return c.WriteRecord(typ, payload) }
}

// hostileCases are records a peer must not send after the handshake
// (RFC 8446 sections 4.6.3, 5 and 6; RFC 5246 section 7.2.2), under the
// versions whose name starts with prefix.
var hostileCases = []struct {
	name   string
	prefix string
	act    hostileAct
}{
	// A record that fails to decrypt: bad_record_mac.
	{"garbage record", "", rawRecord(tlsrecord.ApplicationData, randomBytes(64))},
	// Longer than any protected record may be: record_overflow.
	{"ciphertext too long", "", rawRecord(tlsrecord.ApplicationData, randomBytes(1<<14+2048+1))},
	// Decrypts to more than 2^14 bytes: record_overflow.
	{"plaintext too long", "", sealed(tlsrecord.ApplicationData, make([]byte, 1<<14+1))},
	// An alert must have two bytes. (TLS 1.2 GnuTLS skips empty records of
	// any type: see TestEmptyRecords.)
	{"empty alert", "TLS1.3", sealed(tlsrecord.Alert, nil)},
	// change_cipher_spec after the handshake: unexpected_message. TLS 1.3
	// sends it in the clear, TLS 1.2 under the record keys.
	{"ChangeCipherSpec after Finished", "", func(c *tlsrecord.Conn, v alertVersion) error {
		if v.tls13 {
			return rawRecord(tlsrecord.ChangeCipherSpec, []byte{1})(c, v)
		}
		return c.WriteRecord(tlsrecord.ChangeCipherSpec, []byte{1})
	}},
	// KeyUpdate whose body is two bytes instead of one: decode_error.
	{"KeyUpdate too long", "TLS1.3", sealed(tlsrecord.Handshake, []byte{24, 0, 0, 2, 0, 0})},
	// KeyUpdate with a request_update value that does not exist.
	{"KeyUpdate with an undefined value", "TLS1.3", sealed(tlsrecord.Handshake, []byte{24, 0, 0, 1, 5})},
	// A second Finished (TLS 1.3); a KeyUpdate under TLS 1.2, which has no
	// such message.
	{"unexpected handshake message", "", func(c *tlsrecord.Conn, v alertVersion) error {
		if v.tls13 {
			return c.WriteRecord(tlsrecord.Handshake, append([]byte{20, 0, 0, 32}, make([]byte, 32)...))
		}
		return c.WriteRecord(tlsrecord.Handshake, []byte{24, 0, 0, 1, 0})
	}},
}

// alertsUntilEnd reads c's records until the peer ends the stream and
// returns the alerts among them, each as level and description.
func alertsUntilEnd(raw net.Conn, c *tlsrecord.Conn) ([][2]byte, error) {
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	var alerts [][2]byte
	for {
		r, err := c.ReadRecord()
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
			return alerts, nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return alerts, fmt.Errorf("the peer did not end the connection (alerts so far %v)", alerts)
		case err != nil:
			return alerts, err
		}
		if r.Type == tlsrecord.Alert {
			if len(r.Payload) != 2 {
				return alerts, fmt.Errorf("alert record of %d bytes", len(r.Payload))
			}
			alerts = append(alerts, [2]byte(r.Payload))
		}
	}
}

// hostileClient connects to addr and runs the handshake with crypto/tls;
// the test then writes and reads records itself.
func hostileClient(t *testing.T, addr string, v alertVersion) (*tlsrecord.Conn, net.Conn, error) {
	raw := dialTCP(t, addr)
	rec := tlsrecord.NewRecorder(raw)
	kl := &tlsrecord.KeyLog{}
	tc := tls.Client(rec, v.goTLSConfig(kl))
	if err := tc.Handshake(); err != nil {
		return nil, nil, err
	}
	c, err := tlsrecord.New(tc, rec, kl)
	return c, raw, err
}

// readData reads records until n bytes of application data came, and
// fails on an alert.
func readData(c *tlsrecord.Conn, n int) ([]byte, error) {
	var data []byte
	for len(data) < n {
		r, err := c.ReadRecord()
		if err != nil {
			return data, err
		}
		switch r.Type {
		case tlsrecord.ApplicationData:
			data = append(data, r.Payload...)
		case tlsrecord.Alert:
			return data, fmt.Errorf("alert % x after %q", r.Payload, data)
		}
	}
	return data, nil
}

// alertsFromServer plays a hostile client against the server at addr: a
// line echoed, then act, then the alerts the server sends until it closes.
func alertsFromServer(t *testing.T, addr string, v alertVersion, act hostileAct) ([][2]byte, error) {
	c, raw, err := hostileClient(t, addr, v)
	if err != nil {
		return nil, err
	}
	if err := c.WriteRecord(tlsrecord.ApplicationData, []byte("ping\n")); err != nil {
		return nil, err
	}
	if echoed, err := readData(c, 5); err != nil || string(echoed) != "ping\n" {
		return nil, fmt.Errorf("echo: %q, %v", echoed, err)
	}
	if err := act(c, v); err != nil {
		return nil, err
	}
	return alertsUntilEnd(raw, c)
}

// hostileServerFor plays a hostile server: a Client over the connection
// dial makes to it runs client, whose error comes on the channel, and
// closes; the handshake done with crypto/tls, the test writes and reads
// records itself.
func hostileServerFor(t *testing.T, v alertVersion, dial func(testing.TB, string) net.Conn, client func(*Conn) error) (*tlsrecord.Conn, net.Conn, <-chan error, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nc := dial(t, l.Addr().String())
	clientErr := make(chan error, 1)
	go func() {
		cfg := clientConfig()
		cfg.Priority = alertPriority
		c := Client(nc, cfg)
		defer c.Close()
		clientErr <- client(c)
	}()
	raw, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	rec := tlsrecord.NewRecorder(raw)
	kl := &tlsrecord.KeyLog{}
	ts := tls.Server(rec, v.goTLSConfig(kl))
	if err := ts.Handshake(); err != nil {
		return nil, nil, nil, err
	}
	c, err := tlsrecord.New(ts, rec, kl)
	return c, raw, clientErr, err
}

// alertsFromClient plays a hostile server against a Client over the
// connection dial makes: after the handshake, act, then the alerts the
// client sends until it closes. It also returns the error the client's
// Read ended with.
func alertsFromClient(t *testing.T, v alertVersion, dial func(testing.TB, string) net.Conn, act hostileAct) ([][2]byte, error, error) {
	c, raw, clientErr, err := hostileServerFor(t, v, dial, func(c *Conn) error {
		_, err := io.Copy(io.Discard, c)
		if err == nil {
			err = errors.New("Read ended with io.EOF")
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if err := act(c, v); err != nil {
		return nil, nil, err
	}
	alerts, err := alertsUntilEnd(raw, c)
	raw.Close() // ends a client still reading, when the test fails
	return alerts, <-clientErr, err
}

// echoServerOver listens with the package's server over wrap of each
// socket; it echoes until Read fails, and the error goes to the channel.
func echoServerOver(t *testing.T, wrap func(net.Conn) net.Conn) (string, <-chan error) {
	served := make(chan error, 1)
	sc := serverConfig()
	sc.Priority = alertPriority
	addr := hostileServer(t, func(nc net.Conn) {
		s := Server(wrap(nc), sc)
		defer s.Close()
		_, err := io.Copy(s, s)
		served <- err
	})
	return addr, served
}

// After the handshake, a record a peer must not send ends the connection
// with the fatal alert gnutls-serv, on the same GnuTLS, sends for it, in
// the server role on both kinds of socket and in the client role on every
// transport, and nothing follows it: no close_notify.
func TestFatalAlertAfterHandshake(t *testing.T) {
	for _, v := range alertVersions {
		t.Run(v.name, func(t *testing.T) {
			ref := peers.GnutlsServ(t, pki.ca, pki.leaf, "--priority", alertPriority).Addr
			for _, hc := range hostileCases {
				if !strings.HasPrefix(v.name, hc.prefix) {
					continue
				}
				t.Run(hc.name, func(t *testing.T) {
					want, err := alertsFromServer(t, ref, v, hc.act)
					if err != nil {
						t.Fatalf("gnutls-serv: %v", err)
					}
					if len(want) != 1 || want[0][0] != 2 {
						t.Fatalf("gnutls-serv sent %v, not one fatal alert", want)
					}
					t.Logf("gnutls-serv: %v", Alert(want[0][1]))
					for _, w := range socketKinds {
						t.Run("server "+w.name, func(t *testing.T) {
							checkLeaks(t)
							addr, served := echoServerOver(t, w.wrap)
							got, err := alertsFromServer(t, addr, v, hc.act)
							if err != nil {
								t.Fatal(err)
							}
							if !slices.Equal(got, want) {
								t.Fatalf("alerts %v, want %v as gnutls-serv", got, want)
							}
							fatalGnutls(t, <-served)
						})
					}
					for _, tr := range transports {
						t.Run("client "+tr.name, func(t *testing.T) {
							checkLeaks(t)
							got, readErr, err := alertsFromClient(t, v, tr.dial, hc.act)
							if err != nil {
								t.Fatal(err)
							}
							if !slices.Equal(got, want) {
								t.Fatalf("alerts %v, want %v as gnutls-serv", got, want)
							}
							fatalGnutls(t, readErr)
						})
					}
				})
			}
		})
	}
}

// A TLS 1.2 renegotiation a client starts is refused at once with a
// no_renegotiation warning: gnutls-cli --rehandshake fails instead of
// waiting for an answer, and the server's Read says why.
func TestRenegotiationRefusedByServer(t *testing.T) {
	checkLeaks(t)
	readErr := make(chan error, 1)
	addr := serveOn(t, serverConfig(), func(c *Conn) {
		_, err := io.Copy(c, c)
		readErr <- err
	})
	_, port, _ := net.SplitHostPort(addr)
	caFile, _, _ := peers.Files(t, pki.ca, pki.leaf)
	start := time.Now()
	out, err := peers.Client(t, "ping\n", testenv.LookPath(t, "gnutls-cli"), "-p", port, "--x509cafile", caFile,
		"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "--rehandshake", "127.0.0.1")
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("gnutls-cli --rehandshake took %v: the request went unanswered", took)
	}
	if err == nil || !strings.Contains(out, "- Handshake was completed") || !strings.Contains(out, "*** ReHandshake has failed") ||
		!strings.Contains(out, "warning alert") {
		t.Fatalf("gnutls-cli --rehandshake: %v, want the rehandshake refused with a warning alert", err)
	}
	if err := <-readErr; !errors.Is(err, ErrRenegotiation) {
		t.Fatalf("server read: %v, want ErrRenegotiation", err)
	}
}

// A server's request to renegotiate (openssl s_server's "r" command sends a
// HelloRequest) is refused at once with a no_renegotiation warning, which
// s_server answers with a fatal alert, instead of being ignored while the
// server waits for a ClientHello and the client for data.
func TestRenegotiationRefusedByClient(t *testing.T) {
	checkLeaks(t)
	srv, commands := peers.OpenSSLTLS12(t, pki.ca, pki.leaf)
	c, err := Dial("tcp", srv.Addr, clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(srv.Output(), "ping"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("s_server did not receive the data: %s", srv.Output())
		}
	}
	if _, err := io.WriteString(commands, "r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 10))
	// OpenSSL ends a renegotiation it asked for and the peer refused with
	// handshake_failure (40).
	var ae *AlertError
	if !errors.As(err, &ae) || !ae.Fatal || ae.Description != 40 {
		t.Fatalf("read: %v, want the handshake_failure alert s_server answers no_renegotiation with\n%s", err, srv.Output())
	}
}
