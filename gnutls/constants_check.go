package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
// #include <gnutls/ocsp.h>
// #include <gnutls/pkcs11.h>
import "C"

// The exported constants are written as numbers and strings, so that go
// doc shows their values; each index below is out of range, a compile
// error, when one differs from the C constant it stands for.
var _ = [...]int{
	[1]int{}[int64(ErrAgain)-int64(C.GNUTLS_E_AGAIN)],
	[1]int{}[int64(ErrInterrupted)-int64(C.GNUTLS_E_INTERRUPTED)],
	[1]int{}[int64(ErrWarningAlertReceived)-int64(C.GNUTLS_E_WARNING_ALERT_RECEIVED)],
	[1]int{}[int64(ErrFatalAlertReceived)-int64(C.GNUTLS_E_FATAL_ALERT_RECEIVED)],
	[1]int{}[int64(ErrCertificateVerification)-int64(C.GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)],
	[1]int{}[int64(ErrPremature)-int64(C.GNUTLS_E_PREMATURE_TERMINATION)],
	[1]int{}[int64(ErrPush)-int64(C.GNUTLS_E_PUSH_ERROR)],
	[1]int{}[int64(ErrPull)-int64(C.GNUTLS_E_PULL_ERROR)],
	[1]int{}[int64(ErrUnexpectedPacket)-int64(C.GNUTLS_E_UNEXPECTED_PACKET)],
	[1]int{}[int64(ErrUnexpectedPacketLength)-int64(C.GNUTLS_E_UNEXPECTED_PACKET_LENGTH)],
	[1]int{}[int64(ErrUnsupportedVersion)-int64(C.GNUTLS_E_UNSUPPORTED_VERSION_PACKET)],
	[1]int{}[int64(ErrDecryptionFailed)-int64(C.GNUTLS_E_DECRYPTION_FAILED)],
	[1]int{}[int64(ErrNoCipherSuites)-int64(C.GNUTLS_E_NO_CIPHER_SUITES)],
	[1]int{}[int64(ErrInvalidRequest)-int64(C.GNUTLS_E_INVALID_REQUEST)],
	[1]int{}[int64(ErrInvalidSession)-int64(C.GNUTLS_E_INVALID_SESSION)],
	[1]int{}[int64(ErrRecordOverflow)-int64(C.GNUTLS_E_RECORD_OVERFLOW)],
	[1]int{}[int64(ErrTimedOut)-int64(C.GNUTLS_E_TIMEDOUT)],
	[1]int{}[int64(ErrNoApplicationProtocol)-int64(C.GNUTLS_E_NO_APPLICATION_PROTOCOL)],
	[1]int{}[int64(ErrCertificateRequired)-int64(C.GNUTLS_E_CERTIFICATE_REQUIRED)],
	[1]int{}[int64(ErrFileError)-int64(C.GNUTLS_E_FILE_ERROR)],
	[1]int{}[int64(ErrNoCertificateFound)-int64(C.GNUTLS_E_NO_CERTIFICATE_FOUND)],
	[1]int{}[int64(ErrBase64Decoding)-int64(C.GNUTLS_E_BASE64_DECODING_ERROR)],
	[1]int{}[int64(ErrEarlyDataRejected)-int64(C.GNUTLS_E_EARLY_DATA_REJECTED)],
	[1]int{}[int64(CertInvalid)-int64(C.GNUTLS_CERT_INVALID)],
	[1]int{}[int64(CertRevoked)-int64(C.GNUTLS_CERT_REVOKED)],
	[1]int{}[int64(CertSignerNotFound)-int64(C.GNUTLS_CERT_SIGNER_NOT_FOUND)],
	[1]int{}[int64(CertSignerNotCA)-int64(C.GNUTLS_CERT_SIGNER_NOT_CA)],
	[1]int{}[int64(CertInsecureAlgorithm)-int64(C.GNUTLS_CERT_INSECURE_ALGORITHM)],
	[1]int{}[int64(CertNotActivated)-int64(C.GNUTLS_CERT_NOT_ACTIVATED)],
	[1]int{}[int64(CertExpired)-int64(C.GNUTLS_CERT_EXPIRED)],
	[1]int{}[int64(CertUnexpectedOwner)-int64(C.GNUTLS_CERT_UNEXPECTED_OWNER)],
	[1]int{}[int64(CertSignerConstraints)-int64(C.GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)],
	[1]int{}[int64(CertPurposeMismatch)-int64(C.GNUTLS_CERT_PURPOSE_MISMATCH)],
	[1]int{}[int64(CertMissingOCSP)-int64(C.GNUTLS_CERT_MISSING_OCSP_STATUS)],
	[1]int{}[int64(CertInvalidOCSP)-int64(C.GNUTLS_CERT_INVALID_OCSP_STATUS)],
	[1]int{}[int64(ErrOCSPMismatch)-int64(C.GNUTLS_E_OCSP_MISMATCH_WITH_CERTS)],
	[1]int{}[int64(ErrExpired)-int64(C.GNUTLS_E_EXPIRED)],
	[1]int{}[int64(CertRevocationDataSuperseded)-int64(C.GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED)],
	[1]int{}[int64(OCSPSuccessful)-int64(C.GNUTLS_OCSP_RESP_SUCCESSFUL)],
	[1]int{}[int64(OCSPMalformedRequest)-int64(C.GNUTLS_OCSP_RESP_MALFORMEDREQUEST)],
	[1]int{}[int64(OCSPInternalError)-int64(C.GNUTLS_OCSP_RESP_INTERNALERROR)],
	[1]int{}[int64(OCSPTryLater)-int64(C.GNUTLS_OCSP_RESP_TRYLATER)],
	[1]int{}[int64(OCSPSigRequired)-int64(C.GNUTLS_OCSP_RESP_SIGREQUIRED)],
	[1]int{}[int64(OCSPUnauthorized)-int64(C.GNUTLS_OCSP_RESP_UNAUTHORIZED)],
	[1]int{}[int64(OCSPGood)-int64(C.GNUTLS_OCSP_CERT_GOOD)],
	[1]int{}[int64(OCSPRevoked)-int64(C.GNUTLS_OCSP_CERT_REVOKED)],
	[1]int{}[int64(OCSPUnknown)-int64(C.GNUTLS_OCSP_CERT_UNKNOWN)],
	[1]int{}[int64(OCSPSignerNotFound)-int64(C.GNUTLS_OCSP_VERIFY_SIGNER_NOT_FOUND)],
	[1]int{}[int64(OCSPSignerKeyUsage)-int64(C.GNUTLS_OCSP_VERIFY_SIGNER_KEYUSAGE_ERROR)],
	[1]int{}[int64(OCSPUntrustedSigner)-int64(C.GNUTLS_OCSP_VERIFY_UNTRUSTED_SIGNER)],
	[1]int{}[int64(OCSPInsecureAlgorithm)-int64(C.GNUTLS_OCSP_VERIFY_INSECURE_ALGORITHM)],
	[1]int{}[int64(OCSPSignatureFailure)-int64(C.GNUTLS_OCSP_VERIFY_SIGNATURE_FAILURE)],
	[1]int{}[int64(OCSPSignerNotActivated)-int64(C.GNUTLS_OCSP_VERIFY_CERT_NOT_ACTIVATED)],
	[1]int{}[int64(OCSPSignerExpired)-int64(C.GNUTLS_OCSP_VERIFY_CERT_EXPIRED)],
	[1]int{}[int64(PINUser)-int64(C.GNUTLS_PIN_USER)],
	[1]int{}[int64(PINSO)-int64(C.GNUTLS_PIN_SO)],
	[1]int{}[int64(PINFinalTry)-int64(C.GNUTLS_PIN_FINAL_TRY)],
	[1]int{}[int64(PINCountLow)-int64(C.GNUTLS_PIN_COUNT_LOW)],
	[1]int{}[int64(PINContextSpecific)-int64(C.GNUTLS_PIN_CONTEXT_SPECIFIC)],
	[1]int{}[int64(PINWrong)-int64(C.GNUTLS_PIN_WRONG)],
	[1]int{}[int64(ErrPKCS11PIN)-int64(C.GNUTLS_E_PKCS11_PIN_ERROR)],
	[1]int{}[int64(InitClient)-int64(C.GNUTLS_CLIENT)],
	[1]int{}[int64(InitServer)-int64(C.GNUTLS_SERVER)],
	[1]int{}[int64(InitNonBlock)-int64(C.GNUTLS_NONBLOCK)],
	[1]int{}[int64(InitNoSignal)-int64(C.GNUTLS_NO_SIGNAL)],
	[1]int{}[int64(InitEnableEarlyData)-int64(C.GNUTLS_ENABLE_EARLY_DATA)],
	[1]int{}[int64(InitNoTickets)-int64(C.GNUTLS_NO_TICKETS)],
}

// MinVersion is C's GO_GNUTLS_MIN_VERSION: a duplicate key when not.
var _ = map[bool]int{false: 0, MinVersion == C.GO_GNUTLS_MIN_VERSION: 1}
