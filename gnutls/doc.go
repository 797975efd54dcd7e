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
package gnutls
