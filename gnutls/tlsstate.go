//go:build cgo

package gnutls

import (
	"crypto/tls"
	"crypto/x509"
)

// TLS returns the state as crypto/tls describes it, for code that expects
// a tls.ConnectionState: net/http's Response.TLS and Request.TLS, and
// golang.org/x/net/http2, which looks for a ConnectionState method
// returning one. CipherSuite is already the IANA id crypto/tls uses.
//
// VerifiedChains holds the chain the peer sent when GnuTLS verified it
// (a client without InsecureSkipVerify, a server whose ClientAuth verifies
// a given certificate); it ends where the peer's chain ends, without the
// trust anchor unless the peer sent it.
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
	if s.verified && s.VerifyStatus == 0 && len(s.PeerCertificates) > 0 {
		st.VerifiedChains = [][]*x509.Certificate{s.PeerCertificates}
	}
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
