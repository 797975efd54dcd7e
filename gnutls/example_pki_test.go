package gnutls_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// A server whose key stays in a PKCS#11 token, stapling an OCSP response
// it refreshes every hour while it serves.
func ExampleConfig_SetOCSPStaple() {
	cfg := &gnutls.Config{
		CertFile: "pkcs11:token=web;object=server;type=cert",
		KeyFile:  "pkcs11:token=web;object=server;type=private",
		GetPIN: func(r gnutls.PINRequest) ([]byte, error) {
			return []byte(os.Getenv("TOKEN_PIN")), nil
		},
	}
	staple := func() {
		der, err := os.ReadFile("/var/cache/ocsp/server.der") // fetched by a responder client
		if err == nil {
			err = cfg.SetOCSPStaple(der)
		}
		if err != nil {
			log.Print(err)
		}
	}
	staple()
	go func() {
		for range time.Tick(time.Hour) {
			staple()
		}
	}()
	l, err := gnutls.Listen("tcp", ":8443", cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
}

// What a client learns of the server's stapled OCSP response.
func ExampleConnectionState_ocsp() {
	conn, err := gnutls.Dial("tcp", "example.com:443", &gnutls.Config{})
	if err != nil {
		log.Fatal(err) // a revoked or stale staple is refused here
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if st.OCSPResponse == nil {
		fmt.Println("no staple")
		return
	}
	r, err := gnutls.ParseOCSPResponse(st.OCSPResponse)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.CertStatus, "verified:", st.OCSPVerified, "next update:", r.NextUpdate)
}
