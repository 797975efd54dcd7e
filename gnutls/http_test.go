package gnutls

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// An http.Client dials through this package; an http.Server serves on a
// Listener of this package.
func TestHTTP(t *testing.T) {
	checkLeaks(t)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path)
	})
	get := func(t *testing.T, client *http.Client, url string) string {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("client", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(handler)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
		srv.StartTLS()
		defer srv.Close()
		tr := &http.Transport{DialTLSContext: (&Dialer{Config: clientConfig()}).DialContext}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		for range 3 {
			if got := get(t, client, srv.URL+"/page"); got != "hello /page" {
				t.Fatalf("body %q", got)
			}
		}
	})

	t.Run("server", func(t *testing.T) {
		l, err := Listen("tcp", "127.0.0.1:0", serverConfig())
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: handler}
		go srv.Serve(l)
		defer srv.Close()
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: newPool(pki.ca.Cert), ServerName: "localhost"}}
		defer tr.CloseIdleConnections()
		if got := get(t, &http.Client{Transport: tr}, "https://"+l.Addr().String()+"/served"); got != "hello /served" {
			t.Fatalf("body %q", got)
		}
	})
}
