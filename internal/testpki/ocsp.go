package testpki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// mustStaple is the TLS feature extension (RFC 7633) listing
// status_request (5): SEQUENCE { INTEGER 5 }.
var mustStaple = pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}, Value: []byte{0x30, 0x03, 0x02, 0x01, 0x05}}

// OCSPResponder makes a certificate to which ca delegates the signing of
// OCSP responses (extended key usage OCSP signing).
func (ca *CA) OCSPResponder(name string) *Leaf {
	return ca.Issue(Options{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}, name)
}

// OCSP statuses for OCSPRequest.Status.
const (
	OCSPGood    = "good"
	OCSPRevoked = "revoked"
	OCSPUnknown = "unknown"
)

// OCSPRequest says what OCSPResponse answers.
type OCSPRequest struct {
	// Status is OCSPGood (the default), OCSPRevoked or OCSPUnknown.
	Status string
	// Shift moves the responder's clock: thisUpdate is now+Shift.
	Shift time.Duration
	// Validity is nextUpdate-thisUpdate, in whole minutes; default 24h.
	Validity time.Duration
	// SignerCert and SignerKey sign the response; default: the CA itself.
	SignerCert *x509.Certificate
	SignerKey  crypto.Signer
}

// OCSPResponse returns a DER OCSP response about cert, issued by ca, made
// by `openssl ocsp` from an index file (run under faketime when r.Shift is
// set).
func (ca *CA) OCSPResponse(cert *x509.Certificate, r OCSPRequest) ([]byte, error) {
	dir, err := os.MkdirTemp("", "testpki-ocsp-")
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	defer os.RemoveAll(dir)
	responder, err := ca.OCSPResponderArgs(dir, cert, r)
	if err != nil {
		return nil, err
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	if out, err := exec.Command("openssl", "ocsp", "-issuer", f("issuer.pem"), "-cert", f("cert.pem"),
		"-reqout", f("req.der"), "-no_nonce").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testpki: openssl ocsp request: %v: %s", err, out)
	}
	args := append([]string{"openssl"}, append(responder, "-reqin", f("req.der"), "-respout", f("resp.der"))...)
	if r.Shift != 0 {
		args = append([]string{"faketime", "-f", fmt.Sprintf("%+d", int(r.Shift/time.Second))}, args...)
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testpki: %v: %v: %s", args, err, out)
	}
	return os.ReadFile(f("resp.der"))
}

// OCSPResponderArgs writes to dir what `openssl ocsp` needs to answer
// about cert as r says (r.Shift aside) and returns its arguments, from
// "ocsp" on, without the request's source.
func (ca *CA) OCSPResponderArgs(dir string, cert *x509.Certificate, r OCSPRequest) ([]string, error) {
	signerCert, signerKey := ca.Cert, ca.Key
	if r.SignerCert != nil {
		signerCert, signerKey = r.SignerCert, r.SignerKey
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(signerKey)
	if err != nil {
		return nil, fmt.Errorf("testpki: signer key: %w", err)
	}
	serial := fmt.Sprintf("%X", cert.SerialNumber)
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	stamp := func(t time.Time) string { return t.UTC().Format("060102150405Z") }
	var index string
	switch r.Status {
	case OCSPGood, "":
		index = fmt.Sprintf("V\t%s\t\t%s\tunknown\t/CN=x\n", stamp(cert.NotAfter), serial)
	case OCSPRevoked:
		index = fmt.Sprintf("R\t%s\t%s\t%s\tunknown\t/CN=x\n", stamp(cert.NotAfter), stamp(time.Now().Add(-time.Hour)), serial)
	case OCSPUnknown: // a serial the index does not list
	default:
		return nil, fmt.Errorf("testpki: unknown OCSP status %q", r.Status)
	}
	files := map[string][]byte{
		"index.txt":  []byte(index),
		"issuer.pem": encode("CERTIFICATE", ca.Cert.Raw),
		"cert.pem":   encode("CERTIFICATE", cert.Raw),
		"signer.pem": encode("CERTIFICATE", signerCert.Raw),
		"signer.key": encode("PRIVATE KEY", keyDER),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, fmt.Errorf("testpki: %w", err)
		}
	}
	validity := r.Validity
	if validity == 0 {
		validity = 24 * time.Hour
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	return []string{"ocsp", "-index", f("index.txt"), "-CA", f("issuer.pem"), "-rsigner", f("signer.pem"),
		"-rkey", f("signer.key"), "-nmin", strconv.Itoa(int(validity / time.Minute))}, nil
}
