package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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
		pem, n, err := loadPEM("--x509cafile", o.caFile, cr.AddTrustPEM)
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
		pem, n, err := loadPEM("--x509crlfile", o.crlFile, cr.AddCRLPEM)
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
		certPEM, err := readFile("--x509certfile", o.certFile)
		if err != nil {
			return fail(err)
		}
		keyPEM, err := readFile("--x509keyfile", o.keyFile)
		if err != nil {
			return fail(err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return fail(failf("--x509certfile %s with --x509keyfile %s: %v", o.certFile, o.keyFile, err))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, cr, nil
}

// loadPEM reads the file an option names and hands it to add, which
// parses it and returns how many items it found.
func loadPEM(opt, path string, add func([]byte) (int, error)) ([]byte, int, error) {
	pem, err := readFile(opt, path)
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

// gnutlsReason is the last part of a credentials error: GnuTLS's text
// for the code, or what was wrong.
func gnutlsReason(err error) string {
	var e *gnutls.Error
	if errors.As(err, &e) {
		return e.Code.Message()
	}
	msg := err.Error()
	return msg[strings.LastIndex(msg, ": ")+2:]
}
