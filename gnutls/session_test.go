package gnutls

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"golang.org/x/sys/unix"
)

// The Session layer on its own, as a C programmer would use GnuTLS: a
// blocking socket, credentials, SNI, verification, ALPN, records, Bye.
func TestSessionDirect(t *testing.T) {
	checkLeaks(t)
	srv := peers.GnutlsServ(t, pki.ca, pki.leaf, "--alpn", "h2")
	creds, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer creds.Close()
	if n, err := creds.AddTrustPEM(pki.ca.PEM); n != 1 || err != nil {
		t.Fatalf("AddTrustPEM: %d, %v", n, err)
	}
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, err := range []error{
		s.SetPriority("NORMAL:-VERS-ALL:+VERS-TLS1.3"),
		s.SetCredentials(creds),
		s.SetServerName("localhost"),
		s.VerifyPeer("localhost"),
		s.SetALPN([]string{"h2"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, ErrNoTransport) {
		t.Fatalf("Write without a transport: %v", err)
	}
	if err := s.SetTransportInt(blockingSocket(t, srv.Addr)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTransportInt(0); !errors.Is(err, ErrTransportSet) {
		t.Fatalf("second SetTransportInt: %v", err)
	}
	if err := s.Handshake(); err != nil {
		t.Fatal(err)
	}
	in := s.Info()
	if in.Version != "TLS1.3" || in.Cipher == "" || in.SuiteID>>8 != 0x13 || !strings.HasPrefix(in.Description, "(TLS1.3") {
		t.Fatalf("Info: %+v", in)
	}
	if s.ALPN() != "h2" || s.Resumed() || s.VerifyStatus() != 0 {
		t.Fatalf("ALPN %q, resumed %v, status %v", s.ALPN(), s.Resumed(), s.VerifyStatus())
	}
	if certs := s.PeerCertificatesDER(); len(certs) != 1 {
		t.Fatalf("%d peer certificates", len(certs))
	}
	if _, err := s.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := s.Read(buf)
	for errors.Is(err, ErrAgain) { // a NewSessionTicket arrives first under TLS 1.3
		n, err = s.Read(buf)
	}
	if err != nil || string(buf[:n]) != "ping\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if err := s.Bye(false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

func TestSessionBadInput(t *testing.T) {
	checkLeaks(t)
	if _, err := NewSession(InitClient | InitServer); !errors.Is(err, ErrBadFlags) {
		t.Fatalf("client and server: %v", err)
	}
	if _, err := NewSession(0); !errors.Is(err, ErrBadFlags) {
		t.Fatalf("neither client nor server: %v", err)
	}
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.SetPriority("NORMAL:+NO-SUCH-THING")
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), `"+NO-SUCH-THING"`) {
		t.Fatalf("bad priority: %v", err)
	}
	if err := s.SetALPN([]string{strings.Repeat("x", 256)}); err == nil {
		t.Fatal("a 256-byte ALPN protocol was accepted")
	}
	creds, _ := NewCredentials()
	defer creds.Close()
	if _, err := creds.AddTrustPEM([]byte("not PEM")); err == nil {
		t.Fatal("garbage accepted as a CA")
	}
	if _, err := creds.AddTrustFile("/nonexistent/ca.pem"); err == nil || !strings.Contains(err.Error(), "/nonexistent/ca.pem") {
		t.Fatalf("missing CA file: %v", err)
	}
	if err := creds.AddKeyPairPEM(pki.leaf.CertPEM, []byte("no key")); err == nil {
		t.Fatal("a bad key was accepted")
	}
}

// After Close every method that would call GnuTLS returns net.ErrClosed,
// or its zero value when it returns no error, as Session's doc says.
func TestSessionClosed(t *testing.T) {
	checkLeaks(t)
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	fd := socket(t, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err := s.SetFastOpen(fd, loop4, 0); err != nil {
		t.Fatal(err)
	}
	if !s.FastOpenReport().Requested {
		t.Fatal("FastOpenReport before Close does not say fast open was requested")
	}
	creds, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer creds.Close()
	s.Close()
	fd2 := socket(t, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	buf := make([]byte, 16)
	for name, call := range map[string]func() error{
		"SetPriority":         func() error { return s.SetPriority("NORMAL") },
		"SetCredentials":      func() error { return s.SetCredentials(creds) },
		"SetServerName":       func() error { return s.SetServerName("localhost") },
		"VerifyPeer":          func() error { return s.VerifyPeer("localhost") },
		"SetALPN":             func() error { return s.SetALPN([]string{"h2"}) },
		"RequestClientCert":   func() error { return s.RequestClientCert(true) },
		"SetTransportInt":     func() error { return s.SetTransportInt(fd2) },
		"SetTransport":        func() error { return s.SetTransport(nopConn{}) },
		"SetFastOpen":         func() error { return s.SetFastOpen(fd2, loop4, 0) },
		"Handshake":           s.Handshake,
		"Read":                func() error { _, err := s.Read(buf); return err },
		"Write":               func() error { _, err := s.Write(buf); return err },
		"SendAlertFor":        func() error { return s.SendAlertFor(&Error{Code: ErrDecryptionFailed}) },
		"Bye":                 func() error { return s.Bye(true) },
		"SessionData":         func() error { _, err := s.SessionData(); return err },
		"SetSessionData":      func() error { return s.SetSessionData(buf) },
		"SendEarlyData":       func() error { return s.SendEarlyData(buf) },
		"SetMaxEarlyDataSize": func() error { return s.SetMaxEarlyDataSize(1) },
	} {
		if err := call(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s after Close: %v, want net.ErrClosed", name, err)
		}
	}
	n, ok := s.RecvEarlyData(buf)
	recv, send := s.KTLS()
	for name, zero := range map[string]bool{
		"FastOpenReport":       s.FastOpenReport() == FastOpenState{},
		"Version":              s.Version() == 0,
		"Info":                 s.Info() == Info{},
		"ALPN":                 s.ALPN() == "",
		"ServerName":           s.ServerName() == "",
		"PeerCertificatesDER":  s.PeerCertificatesDER() == nil,
		"VerifyStatus":         s.VerifyStatus() == 0,
		"Pending":              s.Pending() == 0,
		"Direction":            !s.Direction(),
		"Resumed":              !s.Resumed(),
		"EarlyDataAccepted":    !s.EarlyDataAccepted(),
		"TicketReceived":       !s.TicketReceived(),
		"MaxEarlyDataSize":     s.MaxEarlyDataSize() == 0,
		"KTLS":                 !recv && !send,
		"CertificateRequested": !s.CertificateRequested(),
		"CertificateSent":      !s.CertificateSent(),
		"RecvEarlyData":        n == 0 && !ok,
	} {
		if !zero {
			t.Errorf("%s after Close is not its zero value", name)
		}
	}
}
