// Package gnutls binds the system's GnuTLS through cgo, for what Go's
// crypto/tls cannot do: TCP Fast Open for TLS clients
// (gnutls_transport_set_fastopen), TLS 1.3 early data, pre-shared keys
// (Config.PSKIdentity, Config.GetPSKKey), a server session cache for
// session-ID resumption, GnuTLS priority strings and the system's crypto
// policy and trust setup.
//
// Two layers:
//
//   - Session, Credentials and SetFastOpen are thin wrappers over GnuTLS
//     calls. Each checks GnuTLS's documented rules in Go before calling C
//     and returns a typed error that errors.Is matches (ErrFastOpenServer,
//     ErrTransportSet, ...) where GnuTLS would silently ignore the call.
//   - Config, Dial, Dialer, Client, Server, Listen and Conn have the shape
//     of crypto/tls. A Conn over a socket runs on the Go netpoller.
//
// A TLS client with TCP Fast Open:
//
//	cfg := &gnutls.Config{ServerName: "example.com", FastOpen: true}
//	conn, err := gnutls.Dial("tcp", "example.com:443", cfg)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer conn.Close()
//	io.WriteString(conn, "GET / HTTP/1.0\r\nHost: example.com\r\n\r\n")
//	io.Copy(os.Stdout, conn)
//	// "used, the ClientHello travelled in the SYN" from the second
//	// connection on, once the kernel holds the server's cookie.
//	log.Println("TCP Fast Open:", conn.ConnectionState().FastOpen)
//
// With a session to resume, DialEarly sends the first Write as TLS 1.3
// early data, in that same SYN:
//
//	cfg.ClientSessionCache = gnutls.NewLRUClientSessionCache(64)
//	conn, err := (&gnutls.Dialer{Config: cfg}).DialEarly(ctx, "tcp", "example.com:443")
//	...
//	conn.Write(idempotentRequest) // 0-RTT when the ticket allows it
//	log.Println("early data:", conn.ConnectionState().EarlyData)
//
// The kernel's net.ipv4.tcp_fastopen must enable the client side (bit 0;
// see FastOpenSupported); when it does not, the connection is made without
// fast open and ConnectionState says why.
//
// Errors from GnuTLS are *Error values carrying the code, its name and
// message, and the operation. A clean close_notify reads as io.EOF, a
// deadline as os.ErrDeadlineExceeded, a received alert as *AlertError and a
// rejected certificate as *CertificateVerificationError, a refused
// pre-shared key as *PSKError. A fatal error sends the peer the alert
// GnuTLS names for it, and nothing after it.
//
// # Resumption, session caches and early data
//
// A resumed connection is accepted only when a fresh handshake with the
// same Config would be, as in crypto/tls; a cache may be shared by Configs
// that trust differently, and a client may offer any session it holds.
//
//   - A client's ClientSessionCache is keyed by ServerName (or the host of
//     the address without one). Its entries carry whether the server's
//     chain was verified, and the chain. A session is offered only when
//     its leaf has not expired and, if the Config verifies, it was
//     verified and its chain verifies now against the Config's roots and
//     CRLs for the Config's name. A resumed handshake fails with
//     ErrResumedPeerMismatch unless GnuTLS restored that same chain; it is
//     what PeerCertificates and VerifiedChains report.
//   - A server resumes a session only under the client-auth policy it was
//     made under (ClientAuth, the client CAs and CRLs): ServerSessionCache
//     entries record the policy and the ticket key is derived from it, so
//     another policy gives a full handshake. Within it, a session whose
//     client certificate expired or no longer verifies is refused: by a
//     full handshake for a session ID, with ErrResumeRefused for a ticket
//     (GnuTLS cannot set a decrypted ticket aside).
//
// What they do not promise:
//
//   - A cache holds session secrets. Whoever can write to it chooses the
//     keys of the connections that resume from it, and a client's early
//     data goes out under them before any check can run: the checks keep
//     a shared cache from widening what a Config trusts, not a writable
//     one from an attacker who also holds the network.
//   - Early data can be replayed. GnuTLS's anti-replay check is per Config
//     and per process unless Config.AntiReplay is a store the servers
//     share (see MaxEarlyData and AntiReplayStore). A server reads the early data of
//     a resumed TLS 1.3 session before its client certificate is checked
//     again, which happens only when the client's Finished arrives.
//   - A stapled OCSP response is not asked for again on resumption.
//   - ConnectionState is taken when the handshake completes and stays
//     after Close. On a resumed connection VerifyStatus is zero: no chain
//     was verified in that handshake, the checks above stand in for it.
package gnutls
