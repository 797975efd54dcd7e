//go:build cgo

package gnutls

import "crypto/tls"

// TLS returns the state as crypto/tls describes it, for code that expects
// a tls.ConnectionState: net/http's Response.TLS and Request.TLS, and
// golang.org/x/net/http2, which looks for a ConnectionState method
// returning one. CipherSuite is already the IANA id crypto/tls uses.
//
// ExportKeyingMaterial is ConnectionState.ExportKeyingMaterial's.
//
// VerifiedChains holds the one path GnuTLS verified when it verified the
// peer (a client without InsecureSkipVerify, a server whose ClientAuth
// verifies a given certificate): the leaf, the intermediates that link it
// to the trust store, and the trust anchor, as crypto/x509 reports it;
// other certificates the peer sent are not in it. It is nil without a
// verification, and also when crypto/x509 cannot check a signature on the
// path that GnuTLS accepted (an algorithm Go refuses, such as SHA-1).
func (s ConnectionState) TLS() tls.ConnectionState {
	st := tls.ConnectionState{
		Version:            s.Version,
		HandshakeComplete:  s.HandshakeComplete,
		DidResume:          s.DidResume,
		CipherSuite:        s.CipherSuite,
		NegotiatedProtocol: s.NegotiatedProtocol,
		ServerName:         s.ServerName,
		PeerCertificates:   s.PeerCertificates,
		OCSPResponse:       s.OCSPResponse,
	}
	if s.verified && s.VerifyStatus == 0 {
		st.VerifiedChains = s.verifiedChains
	}
	setEKM(&st, s.ExportKeyingMaterial)
	return st
}

// verifiedPeer reports whether GnuTLS verified the peer's certificate on
// this connection (VerifyPeer was set up for it).
func (c *Conn) verifiedPeer() bool {
	if c.isClient {
		return !c.config.InsecureSkipVerify
	}
	return c.config.ClientAuth == VerifyClientCertIfGiven || c.config.ClientAuth == RequireAndVerifyClientCert
}
