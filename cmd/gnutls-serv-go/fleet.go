package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/redisstore"
	"github.com/redis/go-redis/v9"
)

// redisPrefix is put before every key the servers write to Redis.
const redisPrefix = "gnutls-serv-go:"

// setupFleet gives cfg what servers of a fleet share: the ticket keys of
// --ticket-key-file, and with --redis one store for 0-RTT anti-replay
// and the TLS 1.2 session cache. It returns what closes the store.
func setupFleet(o *options, cfg *gnutls.Config, stderr io.Writer) (func(), error) {
	if o.ticketKeyFile != "" {
		keys, err := readTicketKeys(o.ticketKeyFile)
		if err != nil {
			return nil, err
		}
		cfg.SetSessionTicketKeys(keys)
		clear(keys)
	}
	if o.redis == "" {
		return func() {}, nil
	}
	// go-redis heeds the store's per-command deadlines only with
	// ContextTimeoutEnabled; without it a command the store gave up on
	// holds its connection until the 3 s read timeout.
	t := o.redisTimeout
	if t == 0 {
		t = redisstore.DefaultTimeout
	}
	ro, err := redisOptions(o)
	if err != nil {
		return nil, err
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = t, t, t
	ro.ContextTimeoutEnabled, ro.MaxRetries = true, -1
	client := redis.NewClient(ro)
	w := &redisWatch{addr: o.redis, w: stderr}
	store := redisstore.New(client, redisstore.Options{Prefix: redisPrefix, Timeout: t, Report: w.report})
	cfg.AntiReplay, cfg.AntiReplayTimeout = store, t
	if !o.noDB {
		cfg.ServerSessionCache = store
	}
	// A Redis that is down now is not fatal: until it answers, early data
	// is refused and handshakes are full ones.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	w.report(client.Ping(ctx).Err())
	return func() { client.Close() }, nil
}

// redisWatch says on stderr when Redis starts failing and when it works
// again, once each time. A key of the wrong type (garbage in Redis) is
// not a failure of Redis; any other error is, error replies such as
// READONLY included.
type redisWatch struct {
	addr    string
	mu      sync.Mutex
	w       io.Writer
	failing bool
}

func (r *redisWatch) report(err error) {
	var reply redis.Error
	failing := err != nil && !(errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "WRONGTYPE"))
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case failing && !r.failing:
		fmt.Fprintf(r.w, "Warning: --redis %s failed (%v): early data is refused and TLS 1.2 sessions are not resumed by ID until it works again.\n", r.addr, err)
	case !failing && r.failing:
		fmt.Fprintf(r.w, "--redis %s works again.\n", r.addr)
	}
	r.failing = failing
}

// readTicketKeys reads --ticket-key-file: one key a line, base64 of 32
// bytes as `openssl rand -base64 32` writes it; blank lines and lines
// starting with # are skipped.
func readTicketKeys(path string) ([][32]byte, error) {
	b, err := readFile("--ticket-key-file", path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return parseTicketKeys(path, b)
}

// parseTicketKeys parses the content b of the --ticket-key-file path.
func parseTicketKeys(path string, b []byte) ([][32]byte, error) {
	var keys [][32]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		buf := make([]byte, base64.StdEncoding.DecodedLen(len(line)))
		m, err := base64.StdEncoding.Decode(buf, []byte(line))
		if err != nil || m != 32 {
			clear(buf)
			return nil, failf("--ticket-key-file %s: line %d is not base64 of 32 bytes (as openssl rand -base64 32 writes)", path, n)
		}
		keys = append(keys, [32]byte(buf[:32]))
		clear(buf)
	}
	if len(keys) == 0 {
		return nil, failf("--ticket-key-file %s: no key in the file", path)
	}
	return keys, nil
}

// parseRedis reads --redis: HOST:PORT, or a redis:// or rediss:// URL
// without a password, and that does not turn off the check of Redis's
// certificate.
func parseRedis(v string) (*redis.Options, error) {
	if !strings.Contains(v, "://") {
		return &redis.Options{Addr: v}, checkRedisAddr(v)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return nil, fmt.Errorf("%q is neither HOST:PORT nor a redis:// or rediss:// URL", v)
	}
	if _, ok := u.User.Password(); ok {
		return nil, fmt.Errorf("%s holds a password: give it in --redis-password-file, kept off the command line", u.Redacted())
	}
	if u.Query().Has("skip_verify") {
		return nil, fmt.Errorf("%q: skip_verify would take Redis's certificate unchecked: give its CA in --redis-ca-file", v)
	}
	if err := checkRedisAddr(u.Host); err != nil {
		return nil, fmt.Errorf("%q: %v", v, err)
	}
	ro, err := redis.ParseURL(v)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", v, err)
	}
	return ro, nil
}

// checkRedisAddr checks that --redis is HOST:PORT.
func checkRedisAddr(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not HOST:PORT", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 1 to 65535", v)
	}
	return nil
}

// redisOptions is how to reach --redis, with the password of
// --redis-password-file and the CAs of --redis-ca-file.
func redisOptions(o *options) (*redis.Options, error) {
	ro := o.redisOpts
	if o.redisPasswordFile != "" {
		b, err := readFile("--redis-password-file", o.redisPasswordFile)
		if err != nil {
			return nil, err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if ro.Password = strings.TrimSuffix(line, "\r"); ro.Password == "" {
			return nil, failf("--redis-password-file %s: the first line is empty", o.redisPasswordFile)
		}
	}
	if o.redisCAFile != "" {
		b, err := readFile("--redis-ca-file", o.redisCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, failf("--redis-ca-file %s: no PEM certificate in the file", o.redisCAFile)
		}
		ro.TLSConfig.RootCAs = pool
	}
	return ro, nil
}
