//go:build cgo

package gnutls

import "crypto/x509"

// ConnectionState describes the connection, after the handshake.
type ConnectionState struct {
	Version            uint16 // as in crypto/tls: tls.VersionTLS13
	HandshakeComplete  bool
	DidResume          bool
	CipherSuite        uint16 // IANA id, as in crypto/tls
	NegotiatedProtocol string // ALPN
	ServerName         string // SNI: sent by the client, received by the server
	// PSKIdentity is the pre-shared key identity the handshake
	// authenticated with, or ""; PSKIdentityHint, for a client, the hint
	// the server sent (TLS 1.2).
	PSKIdentity      string
	PSKIdentityHint  string
	PeerCertificates []*x509.Certificate
	// VerifyStatus is the verification result of the peer's chain (0:
	// trusted or not verified).
	VerifyStatus      CertStatus
	EarlyDataAccepted bool
	FastOpen          FastOpenState
	KTLSRecv          bool
	KTLSSend          bool
	// Info names the negotiated algorithms as GnuTLS does.
	Info Info
	// EarlyData tells what became of TLS 1.3 early data.
	EarlyData EarlyDataState
	// OCSPResponse is the OCSP response the server stapled (DER), if any
	// (ParseOCSPResponse reads it); OCSPVerified, whether certificate
	// verification found it valid (Session.OCSPVerified). Set on a client.
	OCSPResponse []byte
	OCSPVerified bool

	verified bool // GnuTLS verified the peer's chain (see TLS)
	// anchors are the credentials that verified the peer's chain, until
	// ConnectionState finds the verified path (verifiedpath.go) with
	// their trust store; issuers, for credentials that can be closed
	// before that, are the trusted CAs found at the handshake's end.
	anchors        *Credentials
	issuers        [][]byte
	verifiedChains [][]*x509.Certificate
	ekm            *exporter // nil before the handshake
}

// ConnectionState returns the connection's state. It is taken when the
// handshake completes, so it stays available after Close, as in crypto/tls.
func (c *Conn) ConnectionState() ConnectionState {
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	if !c.handshakeDone.Load() {
		return ConnectionState{FastOpen: c.state.FastOpen}
	}
	if c.peerDER != nil {
		if c.state.anchors != nil {
			c.state.PeerCertificates, c.state.verifiedChains = c.state.anchors.verifiedPeer(c.peerDER)
		} else {
			c.state.PeerCertificates = parseChain(c.peerDER)
			if c.state.issuers != nil {
				if path := verifiedPath(c.state.PeerCertificates, c.state.issuers); path != nil {
					c.state.verifiedChains = [][]*x509.Certificate{path}
				}
			}
		}
		c.peerDER = nil
		c.state.anchors, c.state.issuers = nil, nil
	}
	return c.state
}

// parseChain parses a peer's chain (DER), up to the first certificate
// crypto/x509 cannot parse, as Session.PeerCertificates does.
func parseChain(der [][]byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for _, d := range der {
		cert, err := x509.ParseCertificate(d)
		if err != nil {
			break
		}
		certs = append(certs, cert)
	}
	return certs
}

// takeState records the connection's state once the handshake completed;
// the caller holds the handshake lock. The peer's chain is kept as DER and
// parsed by the first ConnectionState, which also looks up its trusted
// issuers, so a handshake does not pay for either.
func (c *Conn) takeState() {
	s := c.sess
	st := ConnectionState{HandshakeComplete: true, FastOpen: c.state.FastOpen}
	st.Version = s.Version()
	st.DidResume = s.Resumed()
	st.Info = s.Info()
	st.CipherSuite = st.Info.SuiteID
	st.NegotiatedProtocol = s.ALPN()
	if c.isClient {
		st.ServerName = c.serverName
	} else {
		st.ServerName = s.ServerName()
	}
	st.PSKIdentity = s.PSKIdentity()
	if c.isClient {
		st.PSKIdentityHint = s.PSKIdentityHint()
		st.OCSPResponse, st.OCSPVerified = s.OCSPResponse(), s.OCSPVerified()
	}
	c.peerDER = s.PeerCertificatesDER()
	st.VerifyStatus = s.VerifyStatus()
	st.EarlyDataAccepted = s.EarlyDataAccepted()
	st.ekm = s.exporter(st.Version)
	st.verified = c.verifiedPeer()
	if st.verified && st.VerifyStatus == 0 {
		st.anchors, st.issuers = c.trustAnchors(c.peerDER)
	}
	st.EarlyData = c.early.state(st.EarlyDataAccepted)
	st.KTLSRecv, st.KTLSSend = s.KTLS()
	c.state = st
}
