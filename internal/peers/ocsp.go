package peers

import (
	"crypto/x509"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// OCSPResponder starts `openssl ocsp` answering requests about cert as r
// says, on port (it listens on every address of the namespace).
func OCSPResponder(t testing.TB, ca *testpki.CA, cert *x509.Certificate, r testpki.OCSPRequest, port int) {
	t.Helper()
	bin := testenv.LookPath(t, "openssl")
	dir := t.TempDir()
	args, err := ca.OCSPResponderArgs(dir, cert, r)
	if err != nil {
		t.Fatal(err)
	}
	ready := func(s *Server) bool { return strings.Contains(s.Output(), "waiting for OCSP client connections") }
	startOn(t, loopback{}, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), filepath.Join(dir, "issuer.pem"), nil, ready, bin, append(args, "-port", strconv.Itoa(port))...)
}
