package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// buildConfig checks every file and setting before anything connects, so
// that a mistake is reported as such, and returns the client Config and
// credentials holding the same trust, which --insecure verifies with after
// the handshake. The caller closes them.
func buildConfig(o *options, report io.Writer) (*gnutls.Config, *gnutls.Credentials, error) {
	cfg := &gnutls.Config{
		ServerName:         o.host,
		VerifyHostname:     o.verifyHostname,
		DisableSNI:         o.disableSNI,
		InsecureSkipVerify: o.insecure,
		NextProtos:         o.alpn,
		Priority:           o.priority,
		FastOpen:           o.fastOpen,
	}
	if o.sniHostname != "" {
		cfg.ServerName = o.sniHostname
	}
	if o.priority != "" {
		if _, err := gnutls.ParsePriority(o.priority); err != nil {
			return nil, nil, badPriority(err)
		}
	}
	// Files are read here, so that an unreadable one is named as such,
	// and parsed by GnuTLS to count what they hold.
	cr, err := gnutls.NewCredentials()
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*gnutls.Config, *gnutls.Credentials, error) {
		cr.Close()
		return nil, nil, err
	}
	if o.caFile != "" {
		pem, n, err := loadPEM(o, "--x509cafile", o.caFile, "CERTIFICATE", cr.AddTrustPEM)
		if err != nil {
			return fail(err)
		}
		cfg.RootCAPEM = pem
		fmt.Fprintf(report, "Processed %d CA certificate(s).\n", n)
	} else {
		n, err := cr.SetSystemTrust()
		switch {
		case err != nil && o.insecure:
			fmt.Fprintf(report, "- No system trust store (%v): verification cannot succeed\n", gnutlsReason(err))
		case err != nil:
			return fail(failf("cannot load the system's trusted CAs (use --x509cafile): %v", gnutlsReason(err)))
		default:
			fmt.Fprintf(report, "Processed %d CA certificate(s).\n", n)
		}
	}
	if o.crlFile != "" {
		pem, n, err := loadPEM(o, "--x509crlfile", o.crlFile, "X509 CRL", cr.AddCRLPEM)
		if err != nil {
			return fail(err)
		}
		cfg.CRLPEM = pem
		fmt.Fprintf(report, "Processed %d CRL(s).\n", n)
	}
	if isTokenURL(o.certFile) || isTokenURL(o.keyFile) {
		if err := tokenKeyPair(o, cfg); err != nil {
			return fail(err)
		}
	} else if o.certFile != "" {
		certPEM, err := readX509(o, "--x509certfile", o.certFile, "CERTIFICATE")
		if err != nil {
			return fail(err)
		}
		keyPEM, err := readX509(o, "--x509keyfile", o.keyFile, "PRIVATE KEY")
		if err != nil {
			return fail(err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return fail(failf("--x509certfile %s with --x509keyfile %s: %v", o.certFile, o.keyFile, err))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if o.pskUsername != "" {
		cfg.PSKIdentity, cfg.PSKKey = o.pskUsername, o.pskKey
	}
	cfg.SessionTicketsDisabled = o.noTicket
	return cfg, cr, nil
}

// loadPEM reads the file an option names (as readX509) and hands it to
// add, which parses it and returns how many items it found.
func loadPEM(o *options, opt, path, pemType string, add func([]byte) (int, error)) ([]byte, int, error) {
	pem, err := readX509(o, opt, path, pemType)
	if err != nil {
		return nil, 0, err
	}
	n, err := add(pem)
	if err != nil {
		return nil, 0, failf("%s %s: %v", opt, path, gnutlsReason(err))
	}
	return pem, n, nil
}

// readFile reads a file an option names; the error says which option.
func readFile(opt, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, failf("%s: cannot read %s: %v", opt, path, unwrapPath(err))
	}
	return b, nil
}

// unwrapPath drops what an *os.PathError repeats of the message around it.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// gnutlsReason is why credentials did not load: GnuTLS's text for the
// code.
func gnutlsReason(err error) string {
	var e *gnutls.Error
	if errors.As(err, &e) {
		return e.Code.Message()
	}
	return err.Error()
}
