package gnutlshttp_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/gnutlshttp"
)

// An http.Client over GnuTLS: HTTP/2 or HTTP/1.1 by ALPN, TCP Fast Open,
// and sessions resumed from one cache. A GET that opens a new connection
// to a server seen before goes as TLS 1.3 early data, in the SYN.
func ExampleTransport() {
	tr := &gnutlshttp.Transport{
		Config: &gnutls.Config{FastOpen: true}, // the system's trust store
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	resp, err := client.Get("https://example.com/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Proto, resp.TLS.NegotiatedProtocol, tls.VersionName(resp.TLS.Version), len(body))
}

// Marking a request that is safe to process twice lets it go as early
// data even though its method is not one that always is.
func ExampleMarkReplaySafe() {
	client := &http.Client{Transport: &gnutlshttp.Transport{}}
	req, err := http.NewRequestWithContext(gnutlshttp.MarkReplaySafe(context.Background()),
		http.MethodPut, "https://example.com/status/42", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
}

// An HTTPS server over GnuTLS: HTTP/2 and HTTP/1.1 by ALPN, fast open on
// the listening socket, early data accepted. A handler refuses to act on
// a request an attacker could have replayed; the client sends it again
// after the handshake. Ctrl-C shuts it down gracefully.
func ExampleServer() {
	cert, err := tls.LoadX509KeyPair("cert.pem", "key.pem")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s, %s\n", r.Proto, tls.VersionName(r.TLS.Version))
	})
	mux.HandleFunc("POST /order", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Early-Data") == "1" {
			w.WriteHeader(http.StatusTooEarly) // RFC 8470: not before the handshake
			return
		}
		io.WriteString(w, "ordered\n")
	})
	srv := &gnutlshttp.Server{
		Addr:    ":8443",
		Handler: mux,
		Config: &gnutls.Config{
			Certificates: []tls.Certificate{cert},
			FastOpen:     true,
			MaxEarlyData: 16384,
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
