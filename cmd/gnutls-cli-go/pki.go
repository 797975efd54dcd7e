package main

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

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

// checkOCSP is --ocsp, as gnutls-cli does it: unless the server stapled
// an OCSP response that verification found valid, it asks the responder
// named in each certificate of the chain and fails when one says revoked
// or none could be checked.
func (c *client) checkOCSP(st gnutls.ConnectionState, chain [][]byte) error {
	if st.DidResume || st.OCSPVerified {
		return nil
	}
	n, err := c.queryOCSP(chain)
	switch {
	case err != nil:
		fmt.Fprintln(c.report, "*** Verifying (with OCSP) server certificate chain failed...")
		if !c.o.insecure {
			return failf("--ocsp: %v", err)
		}
	case n == 0:
		fmt.Fprintln(c.report, "*** OCSP: nothing to check.")
	default:
		fmt.Fprintf(c.report, "*** OCSP: verified %d certificate(s).\n", n)
	}
	return nil
}

// queryOCSP asks about each certificate of the chain and returns how many
// the responders said were not revoked.
func (c *client) queryOCSP(chain [][]byte) (int, error) {
	ok := 0
	for i, der := range chain {
		issuer, err := c.trust.FindIssuer(der)
		if err != nil && i+1 < len(chain) {
			issuer = chain[i+1]
		} else if err != nil {
			if i == 0 {
				fmt.Fprintf(c.report, "Cannot find issuer: %s\n", gnutlsReason(err))
			}
			break
		}
		url := responderURL(der, issuer)
		if url == "" {
			fmt.Fprintln(c.report, "*** Cannot find OCSP server URI in certificate: The requested data were not available.")
			continue
		}
		nonce := make([]byte, 23)
		rand.Read(nonce)
		req, err := gnutls.NewOCSPRequest(der, issuer, nonce)
		if err != nil {
			return ok, err
		}
		resp, err := c.askResponder(url, req)
		if err != nil {
			fmt.Fprintln(c.report, "Cannot contact OCSP server")
			return ok, err
		}
		good, err := c.checkResponse(resp, der, issuer, nonce)
		if err != nil {
			return ok, err
		}
		if good {
			ok++
		}
	}
	if ok == 0 {
		return 0, errors.New("no certificate of the chain could be checked with OCSP")
	}
	return ok, nil
}

// responderURL is the OCSP responder a certificate names, else the one
// its issuer names.
func responderURL(cert, issuer []byte) string {
	for _, der := range [][]byte{cert, issuer} {
		if x, err := x509.ParseCertificate(der); err == nil && len(x.OCSPServer) > 0 {
			return x.OCSPServer[0]
		}
	}
	return ""
}

// askResponder posts an OCSP request over HTTP, as gnutls-cli does.
func (c *client) askResponder(url string, req []byte) ([]byte, error) {
	if !strings.HasPrefix(url, "http://") {
		return nil, fmt.Errorf("OCSP responder %s: only http:// is supported", url)
	}
	host, _, _ := strings.Cut(strings.TrimPrefix(url, "http://"), "/")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	fmt.Fprintf(c.report, "Connecting to OCSP server: %s...\n", host)
	hc := &http.Client{Timeout: c.o.connectTimeout, Transport: &http.Transport{Proxy: nil}}
	r, err := hc.Post(url, "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("OCSP responder %s: HTTP status %s", url, r.Status)
	}
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}

// checkResponse judges a responder's answer with gnutls-cli's lines: good
// is true when it verified and says not revoked; an answer that cannot be
// trusted or is out of date is ignored; revoked is an error.
func (c *client) checkResponse(resp, cert, issuer, nonce []byte) (good bool, err error) {
	r, vs, err := gnutls.VerifyOCSPResponse(resp, cert, issuer, nonce)
	switch {
	case errors.Is(err, gnutls.ErrOCSPMismatch):
		fmt.Fprintln(c.report, "*** Got OCSP response on an unrelated certificate (ignoring)")
		return false, nil
	case errors.Is(err, gnutls.ErrOCSPNonce):
		return false, errors.New("nonce in the response doesn't match")
	case err != nil:
		return false, err
	case vs != 0:
		fmt.Fprintf(c.report, "*** Verifying OCSP Response: %s.\n", vs)
		return false, nil
	case r.CertStatus == gnutls.OCSPRevoked:
		fmt.Fprintf(c.report, "*** Certificate was revoked at %s\n", ctime(r.RevokedAt))
		return false, errors.New("the OCSP responder says the certificate was revoked")
	case !r.NextUpdate.IsZero() && r.NextUpdate.Before(time.Now()):
		fmt.Fprintf(c.report, "*** The OCSP response was issued at: %s but there is a newer issue at %s\n", ctime(r.ThisUpdate), ctime(r.NextUpdate))
		return false, nil
	}
	fmt.Fprintf(c.report, "- OCSP server flags certificate not revoked as of %s\n", ctime(r.ThisUpdate))
	return true, nil
}

// ctime formats a time as C's strftime %c does in the C locale.
func ctime(t time.Time) string { return t.Local().Format("Mon Jan _2 15:04:05 2006") }

// printOCSP is the -V description of a stapled response.
func (c *client) printOCSP(st gnutls.ConnectionState) {
	if st.OCSPResponse == nil {
		return
	}
	if text, err := gnutls.DescribeOCSPResponse(st.OCSPResponse, true); err == nil {
		fmt.Fprint(c.report, text)
	}
}
