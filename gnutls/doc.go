// Package gnutls binds the system's GnuTLS through cgo, for what Go's
// crypto/tls cannot do: TCP Fast Open for TLS clients
// (gnutls_transport_set_fastopen), TLS 1.3 early data, GnuTLS priority
// strings and the system's trust setup.
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
// The kernel's net.ipv4.tcp_fastopen must enable the client side (bit 0;
// see FastOpenSupported); when it does not, the connection is made without
// fast open and ConnectionState says why.
//
// Errors from GnuTLS are *Error values carrying the code, its name and
// message, and the operation. A clean close_notify reads as io.EOF, a
// deadline as os.ErrDeadlineExceeded, a received alert as *AlertError and a
// rejected certificate as *CertificateVerificationError.
//
// The source keeps one concern per file: session.go, credentials.go and
// errors.go are the thin layer; socket.go the fast-open contract and
// report; earlydata.go and antireplay.go TLS 1.3 early data; config.go,
// conn.go, dial.go and listen.go the crypto/tls-shaped layer; netpoll.go
// how a Conn over a socket waits, asking readahead.go (the read-ahead
// buffer) or earlydata_syn.go (the socket that sends early data in the
// SYN) what poll(2) cannot see; fastopen_conn.go and blackhole.go the
// socket Dial makes for fast open and the destinations where it is off;
// transport.go and callbacks.go Go transports; ktls.go and
// systemconfig.go kernel TLS and GnuTLS's system configuration.
package gnutls
