package gnutls

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"
)

// Error text names the package once and each part once, single-spaced.
func TestErrorText(t *testing.T) {
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	_, garbled := cr.AddTrustPEM([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	_, empty := cr.AddTrustPEM([]byte("not a certificate\n"))
	_, missing := cr.AddTrustFile("/nonexistent/ca.pem")
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	status := CertSignerNotFound | CertInvalid
	for _, tc := range []struct {
		err  error
		want string
	}{
		{garbled, "gnutls: load CA PEM: ASN1 parser: Error in TAG. (GNUTLS_E_ASN1_TAG_ERROR)"},
		{empty, "gnutls: load CA PEM: No certificate was found. (GNUTLS_E_NO_CERTIFICATE_FOUND)"},
		{missing, `gnutls: load CA file "/nonexistent/ca.pem": open /nonexistent/ca.pem: no such file or directory`},
		{s.SetPriority("NORMAL:+NOPE"), `gnutls: set priority: The request is invalid. (GNUTLS_E_INVALID_REQUEST): priority "NORMAL:+NOPE" is invalid at "+NOPE"`},
		{&Error{Op: "handshake", Code: ErrCertificateVerification, Verify: &CertificateVerificationError{Status: status, Reason: status.String()}},
			"gnutls: handshake: certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown. (GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)"},
		{withOp("send Config.EarlyData after the handshake", &Error{Op: "write", Code: ErrPush, Err: syscall.EPIPE}),
			"gnutls: send Config.EarlyData after the handshake: write: Error in the push function. (GNUTLS_E_PUSH_ERROR): broken pipe"},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", tc.err, tc.want)
		}
	}
	var ge *Error
	if !errors.As(garbled, &ge) || !errors.Is(empty, ErrNoCertificateFound) || !errors.Is(missing, fs.ErrNotExist) {
		t.Errorf("credentials errors do not match their codes: %v, %v, %v", garbled, empty, missing)
	}
	var pe *PriorityError
	if err := s.SetPriority("NORMAL:+NOPE"); !errors.As(err, &pe) || !errors.Is(err, ErrInvalidRequest) || pe.Pos != len("NORMAL:") {
		t.Errorf("priority error: %#v", err)
	}
}
