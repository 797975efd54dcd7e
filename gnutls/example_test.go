package gnutls_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"golang.org/x/sys/unix"
)

// Dial with TCP Fast Open and tell whether the ClientHello rode in the SYN.
func ExampleDial_fastOpen() {
	cfg := &gnutls.Config{FastOpen: true}
	conn, err := gnutls.Dial("tcp", "example.com:443", cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	st := conn.ConnectionState()
	fmt.Println("TCP Fast Open:", st.FastOpen)
}

// An http.Client whose connections are made by GnuTLS.
func ExampleDialer_DialContext() {
	d := &gnutls.Dialer{Config: &gnutls.Config{FastOpen: true, ClientSessionCache: gnutls.NewLRUClientSessionCache(64)}}
	client := &http.Client{Transport: &http.Transport{DialTLSContext: d.DialContext}}
	resp, err := client.Get("https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
}

// Send a request as TLS 1.3 early data, in the SYN with the ClientHello.
// The first connection fetches a session ticket; later ones resume it and
// their first Write leaves with the handshake's first flight, so the
// answer can come one round trip after the SYN. Early data can be
// replayed: send this way only what the server may process twice.
func ExampleDialer_DialEarly() {
	d := &gnutls.Dialer{Config: &gnutls.Config{FastOpen: true, ClientSessionCache: gnutls.NewLRUClientSessionCache(64)}}
	for range 2 {
		conn, err := d.DialEarly(context.Background(), "tcp", "example.com:443")
		if err != nil {
			log.Fatal(err)
		}
		// This Write runs the handshake; with a session to resume, its
		// bytes go as early data up to what the ticket allows.
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"); err != nil {
			log.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		st := conn.ConnectionState()
		fmt.Println(resp.Status, "early data:", st.EarlyData, "fast open:", st.FastOpen)
		conn.Close()
	}
}

// A TLS echo server with a fast-open listening socket.
func ExampleListen() {
	cert, err := tls.LoadX509KeyPair("cert.pem", "key.pem")
	if err != nil {
		log.Fatal(err)
	}
	l, err := gnutls.Listen("tcp", ":8443", &gnutls.Config{Certificates: []tls.Certificate{cert}, FastOpen: true})
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
}

// The fast-open contract is checked before GnuTLS is called: a server
// session is refused instead of being silently ignored.
func ExampleSession_SetFastOpen() {
	s, err := gnutls.NewSession(gnutls.InitServer)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Close(fd)
	err = s.SetFastOpen(fd, &unix.SockaddrInet4{Port: 443, Addr: [4]byte{192, 0, 2, 1}}, 0)
	fmt.Println(errors.Is(err, gnutls.ErrFastOpenServer))
	// Output: true
}

// Errors say what went wrong in terms a caller can branch on.
func ExampleError() {
	_, err := gnutls.Dial("tcp", "example.com:443", &gnutls.Config{})
	var ve *gnutls.CertificateVerificationError
	var ae *gnutls.AlertError
	var ne net.Error
	switch {
	case errors.As(err, &ve):
		fmt.Println("certificate rejected:", ve.Reason)
	case errors.As(err, &ae):
		fmt.Println("the server said:", ae.Description)
	case errors.As(err, &ne) && ne.Timeout():
		fmt.Println("timed out")
	case err != nil:
		fmt.Println(err)
	}
}

// The cipher suites a priority string enables, in preference order.
func ExampleParsePriority() {
	p, err := gnutls.ParsePriority("NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range p.Suites {
		fmt.Printf("%s %#04x %s\n", s.Name, s.ID, s.MinVersion)
	}
	// Output:
	// TLS_AES_128_GCM_SHA256 0x1301 TLS1.3
	// TLS_CHACHA20_POLY1305_SHA256 0x1303 TLS1.3
}

// A server that finds pre-shared keys in a table, and a client with one of
// them: no certificates.
func ExampleConfig_preSharedKey() {
	keys := map[string][]byte{"gateway-17": []byte("32 bytes from wherever keys live")}
	server := &gnutls.Config{GetPSKKey: func(identity string) ([]byte, error) {
		if k, ok := keys[identity]; ok {
			return k, nil
		}
		return nil, gnutls.ErrUnknownPSKIdentity
	}}
	l, err := gnutls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if err := c.(*gnutls.Conn).Handshake(); err == nil {
			fmt.Fprintf(c, "hello %s\n", c.(*gnutls.Conn).ConnectionState().PSKIdentity)
		}
	}()

	client := &gnutls.Config{PSKIdentity: "gateway-17", PSKKey: keys["gateway-17"]}
	conn, err := gnutls.Dial("tcp", l.Addr().String(), client)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	line, _ := bufio.NewReader(conn).ReadString('\n')
	fmt.Print(line)
	<-done
	// Output: hello gateway-17
}
