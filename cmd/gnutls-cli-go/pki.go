package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// isTokenURL reports whether an --x509certfile or --x509keyfile names an
// object in a PKCS#11 token.
func isTokenURL(s string) bool { return strings.HasPrefix(s, "pkcs11:") }

// envPIN gives a token the PIN in GNUTLS_PIN, as gnutls-cli does when it
// cannot ask on a terminal (the PIN is never read from stdin, which
// carries the data).
func envPIN(gnutls.PINRequest) ([]byte, error) {
	pin := os.Getenv("GNUTLS_PIN")
	if pin == "" {
		return nil, errors.New("no PIN given (set GNUTLS_PIN)")
	}
	return []byte(pin), nil
}

// tokenKeyPair sets a client certificate and key of which at least one is
// in a PKCS#11 token, after checking that they load.
func tokenKeyPair(o *options, cfg *gnutls.Config) error {
	cr, err := gnutls.NewCredentials()
	if err != nil {
		return err
	}
	defer cr.Close()
	if err := cr.SetPINFunc(envPIN); err != nil {
		return err
	}
	if err := cr.AddKeyPairFiles(o.certFile, o.keyFile); err != nil {
		return failf("--x509certfile %s with --x509keyfile %s: %v", gnutls.RedactURL(o.certFile), gnutls.RedactURL(o.keyFile), tokenReason(err))
	}
	cfg.CertFile, cfg.KeyFile, cfg.GetPIN = o.certFile, o.keyFile, envPIN
	return nil
}

// tokenReason is why a token object did not load.
func tokenReason(err error) string {
	switch {
	case errors.Is(err, gnutls.ErrPINIncorrect):
		return "the token refused the PIN"
	case errors.Is(err, gnutls.ErrPKCS11PIN):
		msg := err.Error()
		return msg[strings.LastIndex(msg, ": ")+2:]
	}
	return gnutlsReason(err)
}

// saveOCSP writes the server's stapled OCSP response (DER) for --save-ocsp;
// with none, the file stays empty and stderr says so, as with gnutls-cli.
func (c *client) saveOCSP(st gnutls.ConnectionState) error {
	if err := os.WriteFile(c.o.saveOCSP, st.OCSPResponse, 0o644); err != nil {
		return failf("--save-ocsp: cannot write %s: %v", c.o.saveOCSP, unwrapPath(err))
	}
	if st.OCSPResponse == nil {
		fmt.Fprintln(c.report, "no OCSP response for certificate 0")
	}
	return nil
}

// checkOCSP is --ocsp: the server's certificate must come with a stapled
// OCSP response that verification found valid. gnutls-cli would then ask
// the responder named in the certificate; gnutls-cli-go does not, and
// fails with gnutls-cli's line.
func (c *client) checkOCSP(st gnutls.ConnectionState) error {
	if st.DidResume || st.OCSPVerified {
		return nil
	}
	fmt.Fprintln(c.report, "*** Verifying (with OCSP) server certificate chain failed...")
	if c.o.insecure {
		return nil
	}
	return failf("--ocsp: the server stapled no valid OCSP response (gnutls-cli-go does not ask the responder itself)")
}

// printOCSP is the -V description of a stapled response.
func (c *client) printOCSP(st gnutls.ConnectionState) {
	if st.OCSPResponse == nil {
		return
	}
	if r, err := gnutls.ParseOCSPResponse(st.OCSPResponse); err == nil {
		fmt.Fprint(c.report, r.Text)
	}
}
