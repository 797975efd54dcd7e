package gnutls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Seeds and committed corpora (testdata/fuzz) hold valid input and broken
// variants of it; `make fuzz` runs each target for a while.

// gnutlsErr fails t unless err is nil or an error of this package that
// names what went wrong.
func gnutlsErr(t *testing.T, what string, err error) {
	t.Helper()
	var ge *Error
	if err != nil && !errors.As(err, &ge) && !strings.HasPrefix(err.Error(), "gnutls: ") {
		t.Fatalf("%s: %v (%T) is not an error of this package", what, err, err)
	}
}

func newFuzzCredentials(t *testing.T) *Credentials {
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cr.Close() })
	return cr
}

func FuzzAddTrustPEM(f *testing.F) {
	f.Add(pki.ca.PEM)
	f.Add(pki.leaf.CertPEM)
	f.Add(pki.ca.PEM[:len(pki.ca.PEM)/2])
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := newFuzzCredentials(t).AddTrustPEM(data)
		gnutlsErr(t, "AddTrustPEM", err)
		if (err == nil) != (n > 0) {
			t.Fatalf("AddTrustPEM: %d certificates with error %v", n, err)
		}
	})
}

func FuzzAddCRLPEM(f *testing.F) {
	f.Add(pki.ca.CRL(pki.leaf.Cert))
	f.Add(pki.ca.CRL())
	f.Add([]byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := newFuzzCredentials(t)
		if _, err := cr.AddTrustPEM(pki.ca.PEM); err != nil {
			t.Fatal(err)
		}
		n, err := cr.AddCRLPEM(data)
		gnutlsErr(t, "AddCRLPEM", err)
		if (err == nil) != (n > 0) {
			t.Fatalf("AddCRLPEM: %d CRLs with error %v", n, err)
		}
	})
}

func FuzzAddKeyPairPEM(f *testing.F) {
	f.Add(pki.leaf.CertPEM, pki.leaf.KeyPEM)
	f.Add(pki.leaf.CertPEM, pki.leaf.CertPEM)
	f.Add(pki.leaf.KeyPEM, pki.leaf.KeyPEM)
	f.Add(pki.leaf.CertPEM[:100], pki.leaf.KeyPEM[:100])
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		gnutlsErr(t, "AddKeyPairPEM", newFuzzCredentials(t).AddKeyPairPEM(certPEM, keyPEM))
	})
}

// DER from the peer: DescribeCertificate and VerifyChain parse it.
func FuzzCertificateDER(f *testing.F) {
	f.Add(pki.leaf.Cert.Raw, "localhost")
	f.Add(pki.ca.Cert.Raw, "")
	f.Add(pki.leaf.Cert.Raw[:200], "x")
	f.Fuzz(func(t *testing.T, der []byte, host string) {
		if _, err := DescribeCertificate(der, true); err != nil {
			gnutlsErr(t, "DescribeCertificate", err)
		}
		cr := newFuzzCredentials(t)
		if _, err := cr.AddTrustPEM(pki.ca.PEM); err != nil {
			t.Fatal(err)
		}
		st, err := cr.VerifyChain([][]byte{der}, host)
		gnutlsErr(t, "VerifyChain", err)
		if err == nil && st == 0 && !bytes.Equal(der, pki.leaf.Cert.Raw) && !bytes.Equal(der, pki.ca.Cert.Raw) {
			t.Fatalf("VerifyChain trusted a certificate the CA did not issue")
		}
	})
}

func FuzzSetPriority(f *testing.F) {
	for _, s := range []string{"NORMAL", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "SECURE256:%COMPAT", "NONE", "NORMAL:+", "@SYSTEM", "NORMAL\x00:+VERS-SSL3.0", ":::", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, priority string) {
		s, err := NewSession(InitClient)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.SetPriority(priority)
		gnutlsErr(t, "SetPriority", err)
		if err == nil && strings.IndexByte(priority, 0) >= 0 {
			t.Fatalf("priority %q with a NUL byte accepted", priority)
		}
		_, perr := ParsePriority(priority)
		gnutlsErr(t, "ParsePriority", perr)
		if priority != "" && (err == nil) != (perr == nil) {
			t.Fatalf("SetPriority says %v, ParsePriority says %v", err, perr)
		}
	})
}

// fastOpenErrors are the contract errors of SetFastOpen.
var fastOpenErrors = []error{ErrFastOpenFlags, ErrFastOpenServer, ErrFastOpenFamily, ErrFastOpenSocket, ErrFastOpenConnected, ErrTransportSet}

// SetFastOpen with an arbitrary socket kind, address and flags either
// accepts or returns one of its contract errors; it never touches a socket
// it should not.
func FuzzSetFastOpen(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint16(443), []byte{127, 0, 0, 1}, uint(0), false)
	f.Add(uint8(1), uint8(1), uint16(443), make([]byte, 16), uint(0), false)
	f.Add(uint8(0), uint8(1), uint16(0), []byte{1}, uint(1), true)
	f.Add(uint8(2), uint8(2), uint16(0), []byte("/tmp/x"), uint(0), false)
	f.Add(uint8(3), uint8(0), uint16(1), []byte{127, 0, 0, 1}, uint(0), false)
	f.Fuzz(func(t *testing.T, sockKind, addrKind uint8, port uint16, addr []byte, flags uint, server bool) {
		var fd int
		var err error
		switch sockKind % 4 {
		case 0:
			fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		case 1:
			fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
		case 2:
			fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		case 3:
			fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		var sa unix.Sockaddr
		switch addrKind % 4 {
		case 0:
			a := &unix.SockaddrInet4{Port: int(port)}
			copy(a.Addr[:], addr)
			sa = a
		case 1:
			a := &unix.SockaddrInet6{Port: int(port)}
			copy(a.Addr[:], addr)
			sa = a
		case 2:
			sa = &unix.SockaddrUnix{Name: string(addr)}
		}
		flag := InitClient
		if server {
			flag = InitServer
		}
		s, err := NewSession(flag)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.SetFastOpen(fd, sa, flags)
		if err == nil {
			if server || flags != 0 || sockKind%4 >= 2 || addrKind%4 >= 2 || int(sockKind%4) != int(addrKind%4) {
				t.Fatalf("SetFastOpen accepted socket kind %d, address kind %d, flags %d, server %v", sockKind%4, addrKind%4, flags, server)
			}
			return
		}
		for _, want := range fastOpenErrors {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("SetFastOpen: %v is none of its contract errors", err)
	})
}

// fuzzReader gives a session's pull callback the fuzzer's bytes, then EOF;
// what the session writes is dropped.
type fuzzReader struct{ r io.Reader }

func (f fuzzReader) Read(b []byte) (int, error)  { return f.r.Read(b) }
func (f fuzzReader) Write(b []byte) (int, error) { return len(b), nil }

// A server's flight made of the fuzzer's bytes ends the client's handshake
// with an error of this package; it never succeeds, crashes or hangs.
func FuzzPeerHandshake(f *testing.F) {
	f.Add([]byte{0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00})
	f.Add([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
	f.Add([]byte{0x16, 0x03, 0x03, 0xff, 0xff})
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := newFuzzCredentials(t)
		if _, err := cr.AddTrustPEM(pki.ca.PEM); err != nil {
			t.Fatal(err)
		}
		s, err := NewSession(InitClient)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, err := range []error{s.SetCredentials(cr), s.SetServerName("localhost"), s.VerifyPeer("localhost"), s.SetTransport(fuzzReader{bytes.NewReader(data)})} {
			if err != nil {
				t.Fatal(err)
			}
		}
		err = s.Handshake()
		if err == nil {
			t.Fatal("handshake with a fuzzed server succeeded")
		}
		gnutlsErr(t, "Handshake", err)
	})
}

// switchConn reads from the real connection until switched, then the
// fuzzer's bytes: the records a server sends after a real handshake.
type switchConn struct {
	net.Conn
	switched atomic.Bool
	fuzz     io.Reader
}

func (c *switchConn) Read(b []byte) (int, error) {
	if c.switched.Load() {
		return c.fuzz.Read(b)
	}
	return c.Conn.Read(b)
}

// After a real handshake with crypto/tls, records made of the fuzzer's
// bytes end Read with an error (or io.EOF); they never crash it.
func FuzzPeerRead(f *testing.F) {
	f.Add([]byte{0x17, 0x03, 0x03, 0x00, 0x20})
	f.Add(append([]byte{0x17, 0x03, 0x03, 0x00, 0x20}, make([]byte, 32)...))
	f.Add([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00})
	f.Add([]byte{0x16, 0x03, 0x03, 0x00, 0x01, 0x04})
	addr := goTLSServer(f, nil)
	cfg := clientConfig()
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		sc := &switchConn{Conn: nc, fuzz: bytes.NewReader(data)}
		c := Client(sc, cfg)
		defer c.Close()
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		sc.switched.Store(true)
		buf := make([]byte, 1024)
		for {
			_, err := c.Read(buf)
			if err == nil {
				continue
			}
			if err != io.EOF {
				gnutlsErr(t, "Read", err)
			}
			return
		}
	})
}

// A NUL byte would cut a string short in C; it is refused instead.
func TestNULRefused(t *testing.T) {
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cr := newFuzzCredentials(t)
	_, perr := ParsePriority("NORMAL\x00:-VERS-ALL")
	_, verr := cr.VerifyChain([][]byte{pki.leaf.Cert.Raw}, "localhost\x00.evil")
	_, terr := cr.AddTrustFile("/etc/ssl/certs/ca-certificates.crt\x00.pem")
	_, cerr := cr.AddCRLFile("crl.pem\x00")
	for what, err := range map[string]error{
		"SetPriority":     s.SetPriority("NORMAL\x00:+VERS-SSL3.0"),
		"SetServerName":   s.SetServerName("localhost\x00.evil"),
		"VerifyPeer":      s.VerifyPeer("localhost\x00.evil"),
		"ParsePriority":   perr,
		"VerifyChain":     verr,
		"AddTrustFile":    terr,
		"AddCRLFile":      cerr,
		"AddKeyPairFiles": cr.AddKeyPairFiles("cert.pem\x00", "key.pem"),
	} {
		if err == nil || !strings.Contains(err.Error(), "NUL byte") {
			t.Errorf("%s with a NUL byte: %v", what, err)
		}
	}
}

// newSessionTicket builds a NewSessionTicket body (RFC 8446, section
// 4.6.1) with the given extensions.
func newSessionTicket(lifetime uint32, nonce, ticket []byte, exts ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, lifetime)
	b = binary.BigEndian.AppendUint32(b, 0x01020304)
	b = append(b, byte(len(nonce)))
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ticket)))
	b = append(b, ticket...)
	var all []byte
	for _, e := range exts {
		all = append(all, e...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(all)))
	return append(b, all...)
}

// earlyDataExt is the early_data extension of a NewSessionTicket.
func earlyDataExt(max uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{0, 42, 0, 4}, max)
}

// refParseTicket is the parser, written again in Go from RFC 8446:
// the early data limit, and the lifetime of a ticket that parses.
func refParseTicket(b []byte) (maxEarly, lifetime uint32) {
	if len(b) < 9 {
		return 0, 0
	}
	life := binary.BigEndian.Uint32(b)
	b = b[8:]
	n := int(b[0])
	b = b[1:]
	if len(b) < n+2 {
		return 0, 0
	}
	b = b[n:]
	n = int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < n+2 {
		return 0, 0
	}
	b = b[n:]
	n = int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) != n {
		return 0, 0
	}
	var max uint32
	for len(b) > 0 {
		if len(b) < 4 {
			return 0, 0
		}
		typ, l := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		b = b[4:]
		if len(b) < l || (typ == 42 && l != 4) {
			return 0, 0
		}
		if typ == 42 {
			max = binary.BigEndian.Uint32(b)
		}
		b = b[l:]
	}
	return max, life
}

// The NewSessionTicket parser behind the ticket hook reads peer bytes: it
// must agree with the Go reference on every input.
func FuzzParseTicket(f *testing.F) {
	f.Add(newSessionTicket(7200, []byte{0}, []byte("ticket"), earlyDataExt(16384)))
	f.Add(newSessionTicket(7200, nil, []byte("ticket")))
	f.Add(newSessionTicket(60, []byte{1, 2}, []byte("t"), []byte{0xfa, 0xfa, 0, 0}, earlyDataExt(1)))
	f.Add(newSessionTicket(60, nil, []byte("t"), []byte{0, 42, 0, 2, 0, 1}))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		max, life := parseTicket(msg)
		wantMax, wantLife := refParseTicket(msg)
		if max != wantMax || life != time.Duration(wantLife)*time.Second {
			t.Fatalf("parsed %d, %v; the reference says %d, %ds", max, life, wantMax, wantLife)
		}
	})
}

// PSK identities and keys come from configuration and command lines:
// any of them gives credentials or an error of this package that does
// not show the key.
func FuzzPSKClientCredentials(f *testing.F) {
	f.Add("alice", []byte("0123456789abcdef"))
	f.Add("", []byte("k"))
	f.Add("a\x00b", []byte{})
	f.Add(strings.Repeat("i", 70000), []byte("secret-key-bytes"))
	f.Fuzz(func(t *testing.T, identity string, key []byte) {
		c, err := NewPSKClientCredentials(identity, key)
		gnutlsErr(t, "NewPSKClientCredentials", err)
		if err != nil {
			if len(key) >= 8 && strings.Contains(err.Error(), string(key)) {
				t.Fatalf("the key is in the error: %v", err)
			}
			return
		}
		if c.identity != identity {
			t.Fatalf("identity %q, want %q", c.identity, identity)
		}
		c.Close()
	})
}

// A client session cache may hold anything (a shared or persisted store):
// decodeEntry takes any bytes without failing, and what it accepts
// encodes back to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(cachedSession{ticket: ticketInfo{16384, time.Unix(1e9, 0)}, verified: true, chain: [][]byte{[]byte("leaf"), []byte("ca")}, data: []byte("session")}))
	f.Add(encodeEntry(cachedSession{data: []byte{0}}))
	f.Add([]byte("GGS2\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\xff\xff\xff\xff"))
	f.Add([]byte("GGS1 an entry of the previous form"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := decodeEntry(b)
		if !ok {
			return
		}
		if len(e.data) == 0 || len(e.chain) > maxEntryChain {
			t.Fatalf("accepted an entry with %d bytes of session data and %d certificates", len(e.data), len(e.chain))
		}
		if got := encodeEntry(e); !bytes.Equal(got, b) {
			t.Fatalf("encodes back to %x, was %x", got, b)
		}
	})
}

// A server session cache may be shared, and written by others:
// decodeServerEntry takes any bytes without failing, and what it accepts
// encodes back to the same bytes.
func FuzzDecodeServerEntry(f *testing.F) {
	f.Add(encodeServerEntry(clientAuthPolicy{1, 2}, [][]byte{[]byte("client"), []byte("ca")}, []byte("session")))
	f.Add(encodeServerEntry(clientAuthPolicy{}, nil, []byte{0}))
	f.Add(append(append([]byte("GSS1"), make([]byte, 32)...), "\x01\x00\x00\x00\x09cert"...))
	f.Add([]byte("raw GnuTLS session data"))
	f.Fuzz(func(t *testing.T, b []byte) {
		policy, chain, data, ok := decodeServerEntry(b)
		if !ok {
			return
		}
		if len(data) == 0 || len(chain) > maxEntryChain {
			t.Fatalf("accepted an entry with %d bytes of session data and %d certificates", len(data), len(chain))
		}
		if got := encodeServerEntry(policy, chain, data); !bytes.Equal(got, b) {
			t.Fatalf("encodes back to %x, was %x", got, b)
		}
	})
}
