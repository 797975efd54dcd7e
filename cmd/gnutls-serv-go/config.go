package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// sessionCacheSize is how many TLS 1.2 sessions the in-memory resumption
// database holds.
const sessionCacheSize = 4096

// buildConfig checks every file and setting before anything listens, so
// that a mistake is reported as such, and returns the server Config and
// what closes the store it shares with other servers.
func buildConfig(o *options, stderr io.Writer) (*gnutls.Config, func(), error) {
	cfg, err := serverConfig(o)
	if err != nil {
		return nil, nil, err
	}
	closeStore, err := setupFleet(o, cfg, stderr)
	if err != nil {
		return nil, nil, err
	}
	return cfg, closeStore, nil
}

func serverConfig(o *options) (*gnutls.Config, error) {
	cfg := &gnutls.Config{
		Priority:               o.priority,
		MaxEarlyData:           o.maxEarlyData,
		EarlyDataWindow:        o.earlyDataWindow,
		SessionTicketsDisabled: o.noTicket,
		FastOpen:               o.fastOpen,
	}
	if o.priority != "" {
		if _, err := gnutls.ParsePriority(o.priority); err != nil {
			var pe *gnutls.PriorityError
			if errors.As(err, &pe) {
				return nil, failf("bad --priority: %s", pe.Reason())
			}
			return nil, failf("bad --priority: %v", err)
		}
	}
	for i := range o.certFiles {
		pair, err := loadPair(o.certFiles[i], o.keyFiles[i])
		if err != nil {
			return nil, err
		}
		cfg.Certificates = append(cfg.Certificates, pair)
	}
	if o.ocspResponse != "" {
		der, err := readFile("--ocsp-response", o.ocspResponse)
		if err != nil {
			return nil, err
		}
		if err := checkStaple(cfg.Certificates[0], der); err != nil {
			return nil, failf("--ocsp-response %s: %v", o.ocspResponse, err)
		}
		cfg.Certificates[0].OCSPStaple = der
	}
	if o.caFile != "" {
		pem, err := readFile("--x509cafile", o.caFile)
		if err != nil {
			return nil, err
		}
		if err := countCAs(pem); err != nil {
			return nil, failf("--x509cafile %s: %v", o.caFile, err)
		}
		cfg.ClientCAPEM = pem
	}
	cfg.ClientAuth = clientAuth(o)
	if o.pskPasswd != "" {
		keys, err := readPSKPasswd(o.pskPasswd)
		if err != nil {
			return nil, err
		}
		cfg.GetPSKKey = func(identity string) ([]byte, error) {
			if k, ok := keys[identity]; ok {
				return k, nil
			}
			return nil, gnutls.ErrUnknownPSKIdentity
		}
		cfg.PSKIdentityHint = o.pskHint
	}
	if !o.noDB {
		cfg.ServerSessionCache = gnutls.NewLRUServerSessionCache(sessionCacheSize)
	}
	return cfg, nil
}

// clientAuth is gnutls-serv's client certificate policy: it asks for a
// certificate unless -a, requires one with -r, and verifies one sent
// with --verify-client-cert.
func clientAuth(o *options) gnutls.ClientAuthType {
	switch {
	case o.disableClientCert:
		return gnutls.NoClientCert
	case o.requireClientCert && o.verifyClientCert:
		return gnutls.RequireAndVerifyClientCert
	case o.requireClientCert:
		return gnutls.RequireAnyClientCert
	case o.verifyClientCert:
		return gnutls.VerifyClientCertIfGiven
	}
	return gnutls.RequestClientCert
}

// loadPair reads a certificate chain and its key.
func loadPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := readFile("--x509certfile", certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readFile("--x509keyfile", keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, failf("--x509certfile %s with --x509keyfile %s: %v", certFile, keyFile, strings.TrimPrefix(err.Error(), "tls: "))
	}
	return pair, nil
}

// checkStaple checks that GnuTLS would staple der for the certificate:
// a successful response about it, not out of date.
func checkStaple(cert tls.Certificate, der []byte) error {
	cr, err := gnutls.NewCredentials()
	if err != nil {
		return err
	}
	defer cr.Close()
	var certPEM []byte
	for _, c := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	if err := cr.AddKeyPairPEM(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})); err != nil {
		return err
	}
	if err := cr.SetOCSPStaple(der); err != nil {
		if errors.Is(err, gnutls.ErrOCSPMismatch) {
			return errors.New("the response is not about the first certificate")
		}
		return errors.New(strings.TrimPrefix(err.Error(), "gnutls: OCSP staple: "))
	}
	return nil
}

// countCAs checks that GnuTLS finds at least one certificate in pem.
func countCAs(pem []byte) error {
	cr, err := gnutls.NewCredentials()
	if err != nil {
		return err
	}
	defer cr.Close()
	n, err := cr.AddTrustPEM(pem)
	switch {
	case err != nil:
		return errors.New(gnutlsReason(err))
	case n == 0:
		return errors.New("no certificate in the file")
	}
	return nil
}

// readPSKPasswd reads a PSK password file as GnuTLS writes it (psktool):
// one IDENTITY:HEXKEY a line.
func readPSKPasswd(path string) (map[string][]byte, error) {
	b, err := readFile("--pskpasswd", path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return parsePSKPasswd(path, b)
}

// parsePSKPasswd parses the content b of the --pskpasswd file path.
func parsePSKPasswd(path string, b []byte) (map[string][]byte, error) {
	keys := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		id, hexKey, ok := strings.Cut(line, ":")
		if !ok || id == "" {
			return nil, failf("--pskpasswd %s: line %d is not IDENTITY:HEXKEY", path, n)
		}
		key, err := hex.DecodeString(hexKey)
		if err != nil || len(key) == 0 {
			return nil, failf("--pskpasswd %s: line %d: the key of %q is not hex", path, n, id)
		}
		keys[id] = key
	}
	if len(keys) == 0 {
		return nil, failf("--pskpasswd %s: no IDENTITY:HEXKEY line", path)
	}
	return keys, nil
}

// readFile reads a file an option names; the error says which option.
func readFile(opt, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, failf("%s: cannot read %s: %v", opt, path, err)
	}
	return b, nil
}

// gnutlsReason is GnuTLS's text for the code of err.
func gnutlsReason(err error) string {
	var e *gnutls.Error
	if errors.As(err, &e) {
		return e.Code.Message()
	}
	return err.Error()
}

// failure is an error whose text already says everything.
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func failf(format string, a ...any) error { return &failure{fmt.Sprintf(format, a...)} }
