package redisstore_test

import (
	"crypto/tls"
	"log"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/redisstore"
	"github.com/redis/go-redis/v9"
)

// A server of a fleet: every server has the same ticket keys and the
// same Redis.
func ExampleNew() {
	var fleetKey [32]byte // the same on every server, kept as private keys are
	cert, err := tls.LoadX509KeyPair("cert.pem", "key.pem")
	if err != nil {
		log.Fatal(err)
	}
	store := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}), redisstore.Options{Prefix: "www:"})
	cfg := &gnutls.Config{Certificates: []tls.Certificate{cert}, MaxEarlyData: 16384}
	cfg.SetSessionTicketKeys([][32]byte{fleetKey})
	cfg.AntiReplay = store         // early data accepted once fleet-wide
	cfg.ServerSessionCache = store // TLS 1.2 sessions, sealed
	l, err := gnutls.Listen("tcp", ":443", cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
}
