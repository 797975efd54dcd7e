//go:build cgo

package gnutls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ClientAuthType is a server's policy for client certificates.
type ClientAuthType int

// Client certificate policies, as in crypto/tls (GnuTLS verifies a given
// certificate against ClientCAFile/ClientCAPEM in the Verify cases).
const (
	NoClientCert ClientAuthType = iota
	RequestClientCert
	RequireAnyClientCert
	VerifyClientCertIfGiven
	RequireAndVerifyClientCert
)

// Config configures a client or server. After its first use it must not be
// modified (Clone makes a copy that may be). A use that failed to load
// what it names (a missing file, a bad priority string) does not count:
// the next use loads it again, so the Config may be corrected.
type Config struct {
	// ServerName is sent as SNI and checked against the server's
	// certificate. Dial fills it from the address when empty.
	ServerName string
	// VerifyHostname, when set, is the name checked instead of ServerName.
	VerifyHostname string
	// DisableSNI sends no server name (it is never sent for an IP address).
	DisableSNI bool
	// InsecureSkipVerify accepts any certificate the server presents.
	InsecureSkipVerify bool

	// RootCAFile and RootCAPEM hold the CAs a client trusts; with neither,
	// the system's trust store is used.
	RootCAFile string
	RootCAPEM  []byte
	// CRLFile and CRLPEM hold revocation lists checked during verification.
	CRLFile string
	CRLPEM  []byte

	// Certificates are presented to the peer: a server's certificates, or a
	// client certificate. GnuTLS picks, for each handshake, the first that
	// suits the peer (its key type, signature algorithms, server name); a
	// server staples the first one's OCSPStaple (see SetOCSPStaple).
	Certificates []tls.Certificate
	// CertFile and KeyFile, used when Certificates is empty, are a
	// certificate chain and its private key as PEM files or pkcs11: URLs
	// of objects in a PKCS#11 token (Credentials.AddKeyPairFiles).
	CertFile, KeyFile string
	// GetPIN is asked for the PIN of a token that holds them
	// (Credentials.SetPINFunc).
	GetPIN PINFunc

	// ClientAuth is a server's client certificate policy; ClientCAFile and
	// ClientCAPEM hold the CAs it trusts for them.
	ClientAuth   ClientAuthType
	ClientCAFile string
	ClientCAPEM  []byte

	// NextProtos are the ALPN protocols, in preference order.
	NextProtos []string

	// Priority is a GnuTLS priority string; empty means the system's
	// default (GnuTLS's system configuration: see SystemPriorityFile).
	// With a pre-shared key set and Priority empty, the default gets the
	// ECDHE-PSK and DHE-PSK key exchanges added.
	Priority string

	// PSKIdentity and PSKKey make a client authenticate with a pre-shared
	// key, and the server by it: such a client offers no certificate
	// credentials, so ServerName is optional and a server that does not
	// accept the key fails the handshake. The key is copied into GnuTLS's
	// memory at the Config's first use; the caller may clear it then.
	PSKIdentity string
	PSKKey      []byte
	// GetPSKKey makes a server accept pre-shared keys: it returns the key
	// of the identity a client names (see NewPSKServerCredentials). A
	// server with it needs no certificate.
	GetPSKKey func(identity string) ([]byte, error)
	// PSKIdentityHint, for a server with GetPSKKey, is sent to TLS 1.2
	// clients to help them choose an identity.
	PSKIdentityHint string

	// FastOpen makes Dial use TCP Fast Open: the ClientHello travels in the
	// SYN once the kernel holds a cookie for the server. For Listen it
	// enables fast open on the listening socket.
	FastOpen bool
	// FastOpenBlackhole is how long Dial skips fast open to a destination
	// (an IP address, any port) after a SYN carrying data was lost on the way
	// there and the kernel sent it again without (RFC 7413, section 4.1.3:
	// some middleboxes drop such SYNs). The memory belongs to this Config
	// and is shared by every Dial and Dialer using it; Clone starts a new
	// one. A skipped connection reports why in ConnectionState.FastOpen.
	// Zero means DefaultFastOpenBlackhole; negative turns the memory off,
	// so that every Dial tries fast open.
	FastOpenBlackhole time.Duration

	// ClientSessionCache, when set, keeps sessions so that later
	// connections to a server of the same name (ServerName, or the host
	// of the address without one) resume them; a session is offered only
	// when this Config would accept the server it was made with.
	ClientSessionCache ClientSessionCache
	// SessionTicketsDisabled stops a server from issuing session tickets,
	// and a client from asking for and using them (GNUTLS_NO_TICKETS).
	SessionTicketsDisabled bool
	// ServerSessionCache, for a server, keeps TLS 1.2 sessions so that
	// clients resume them by session ID, without tickets
	// (NewLRUServerSessionCache is a bounded one in memory).
	ServerSessionCache ServerSessionCache
	// SessionLifetime, for a server, is how long a session can be resumed,
	// by ticket or from ServerSessionCache; zero means GnuTLS's default
	// (6 hours), and at most 7 days.
	SessionLifetime time.Duration

	// EarlyDataNoResend, for a client connection made with DialEarly or
	// ClientEarly: when the server rejects early data, the Write that
	// carried it returns ErrEarlyDataRejected and none of its bytes are
	// sent, instead of being sent again after the handshake. For callers
	// that must decide themselves whether to send the same bytes again.
	EarlyDataNoResend bool
	// MaxEarlyData, for a server, accepts up to this many bytes of TLS 1.3
	// early data on resumed sessions (its tickets say so to clients); zero
	// accepts none. GnuTLS's anti-replay check, one per Config, rejects
	// early data of a ClientHello seen before, or of a ticket too old for
	// the current window; the data is then skipped and the client sends it
	// again after the handshake. Replays across servers or restarts are
	// caught only with a shared AntiReplay store: see Conn.ReadEarlyData.
	MaxEarlyData uint32
	// EarlyDataWindow is the anti-replay window; zero means
	// DefaultEarlyDataWindow (10s).
	EarlyDataWindow time.Duration
	// AntiReplay, for a server, is where the anti-replay check records
	// early data, shared by servers that share session ticket keys; nil
	// keeps it in this Config. AntiReplayTimeout bounds each of its calls
	// (zero: DefaultAntiReplayTimeout); past it, or when it fails, early
	// data is refused and the handshake goes on.
	AntiReplay        AntiReplayStore
	AntiReplayTimeout time.Duration

	mu sync.Mutex
	// roles are the credentials built for each role, indexed by
	// roleIndex: a client trusts RootCA*, a server ClientCA*, so one
	// Config serves both.
	roles     [2]roleCredentials
	prio      *priorityCache
	ticketKey *ticketKey
	replay    *AntiReplay
	blackhole blackholeCache
	// chains are the server chains the client role verified (chainmemo.go).
	chains chainMemo
	// staples is the OCSP staple shared with Clones (ocsp.go).
	staples *stapleGroup

	// ticketKeys, when set (SetSessionTicketKeys), replace ticketKey;
	// policyKeys are them tied to the client-auth policy (ticketkeys.go).
	ticketKeys *ticketKeys
	policyKeys *ticketKeys

	// policyTicketKey is ticketKey tied to the client-auth policy, the
	// digest policy (sessioncache.go).
	policyTicketKey *ticketKey
	policyOnce      sync.Once
	policy          clientAuthPolicy
}

// DefaultFastOpenBlackhole is how long Dial avoids fast open to a
// destination after a SYN with data was lost (Linux uses one hour for its
// own detector, off by default since 5.14).
const DefaultFastOpenBlackhole = time.Hour

// Clone returns a copy of c's settings, free to be modified.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	return &Config{
		ServerName: c.ServerName, VerifyHostname: c.VerifyHostname, DisableSNI: c.DisableSNI,
		InsecureSkipVerify: c.InsecureSkipVerify, RootCAFile: c.RootCAFile, RootCAPEM: c.RootCAPEM,
		CRLFile: c.CRLFile, CRLPEM: c.CRLPEM, Certificates: c.Certificates, ClientAuth: c.ClientAuth,
		CertFile: c.CertFile, KeyFile: c.KeyFile, GetPIN: c.GetPIN,
		ClientCAFile: c.ClientCAFile, ClientCAPEM: c.ClientCAPEM, NextProtos: c.NextProtos,
		Priority: c.Priority, FastOpen: c.FastOpen, FastOpenBlackhole: c.FastOpenBlackhole,
		ClientSessionCache: c.ClientSessionCache, SessionTicketsDisabled: c.SessionTicketsDisabled,
		PSKIdentity: c.PSKIdentity, PSKKey: c.PSKKey, GetPSKKey: c.GetPSKKey, PSKIdentityHint: c.PSKIdentityHint,
		ServerSessionCache: c.ServerSessionCache, SessionLifetime: c.SessionLifetime,
		EarlyDataNoResend: c.EarlyDataNoResend, MaxEarlyData: c.MaxEarlyData, EarlyDataWindow: c.EarlyDataWindow,
		AntiReplay: c.AntiReplay, AntiReplayTimeout: c.AntiReplayTimeout,
		ticketKeys: c.sessionTicketKeys(),
		staples:    c.stapleGroup(),
	}
}

// roleCredentials are what a Config built for one role; each is built at
// the first use that succeeds in building it.
type roleCredentials struct {
	creds *Credentials
	psk   *PSKCredentials
}

// role returns the role's credentials; the caller holds c.mu.
func (c *Config) role(isClient bool) *roleCredentials {
	if isClient {
		return &c.roles[1]
	}
	return &c.roles[0]
}

// credentials builds the Config's credentials for a role once and shares
// them among that role's sessions.
func (c *Config) credentials(isClient bool) (*Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.role(isClient)
	if r.creds == nil {
		creds, err := c.buildCredentials(isClient)
		if err != nil {
			return nil, err
		}
		r.creds = creds
	}
	return r.creds, nil
}

// ownsCredentials reports whether cr are credentials the Config built,
// which it never closes.
func (c *Config) ownsCredentials(cr *Credentials) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cr == c.roles[0].creds || cr == c.roles[1].creds
}

// priorities parses the Config's priority string once; sessions share it.
func (c *Config) priorities() (*priorityCache, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prio == nil {
		var err error
		if c.Priority == "" && c.usesPSK() {
			c.prio, err = newDefaultPriorityCacheWith("set priority", pskKeyExchanges)
		} else {
			c.prio, err = newPriorityCache("set priority", c.Priority)
		}
		if err != nil {
			return nil, err
		}
	}
	return c.prio, nil
}

func (c *Config) buildCredentials(isClient bool) (*Credentials, error) {
	cr, err := NewCredentials()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Credentials, error) {
		cr.Close()
		return nil, err
	}
	caFile, caPEM := c.RootCAFile, c.RootCAPEM
	if !isClient {
		caFile, caPEM = c.ClientCAFile, c.ClientCAPEM
	}
	if caFile != "" {
		if _, err := cr.AddTrustFile(caFile); err != nil {
			return fail(err)
		}
	}
	if len(caPEM) > 0 {
		if _, err := cr.AddTrustPEM(caPEM); err != nil {
			return fail(err)
		}
	}
	if isClient && caFile == "" && len(caPEM) == 0 && !c.InsecureSkipVerify {
		if _, err := cr.SetSystemTrust(); err != nil {
			return fail(err)
		}
	}
	if c.CRLFile != "" {
		if _, err := cr.AddCRLFile(c.CRLFile); err != nil {
			return fail(err)
		}
	}
	if len(c.CRLPEM) > 0 {
		if _, err := cr.AddCRLPEM(c.CRLPEM); err != nil {
			return fail(err)
		}
	}
	if c.GetPIN != nil {
		if err := cr.SetPINFunc(c.GetPIN); err != nil {
			return fail(err)
		}
	}
	switch {
	case len(c.Certificates) > 0:
		for i, cert := range c.Certificates {
			certPEM, keyPEM, err := certificatePEM(cert, i)
			if err != nil {
				return fail(err)
			}
			if err := cr.AddKeyPairPEM(certPEM, keyPEM); err != nil {
				return fail(err)
			}
		}
	case c.CertFile != "" || c.KeyFile != "":
		if err := cr.AddKeyPairFiles(c.CertFile, c.KeyFile); err != nil {
			return fail(err)
		}
	case !isClient && !c.hasPSK(false):
		return fail(errNoCertificate)
	}
	if !isClient {
		if err := c.setupStapling(cr); err != nil {
			return fail(err)
		}
	}
	return cr, nil
}

// hasCertificate reports whether the Config gives this side a certificate,
// in Certificates or as files.
func (c *Config) hasCertificate() bool {
	return len(c.Certificates) > 0 || c.CertFile != "" || c.KeyFile != ""
}

// certificatePEM encodes Certificates[i] for GnuTLS.
func certificatePEM(cert tls.Certificate, i int) (certPEM, keyPEM []byte, err error) {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return nil, nil, fmt.Errorf("gnutls: Certificates[%d] needs a chain and a private key", i)
	}
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("gnutls: Certificates[%d] private key: %w", i, err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), nil
}

func (c *Config) serverTicketKey() (*ticketKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ticketKey == nil {
		k, err := newTicketKey()
		if err != nil {
			return nil, err
		}
		c.ticketKey = k
	}
	return c.ticketKey, nil
}

// CheckServer loads what a server with c needs (its certificate and key,
// the CAs for client certificates, pre-shared keys, the priority string)
// and returns the first error, so that a mistake shows before the first
// connection instead of failing each handshake. Listen calls it; what it
// loads is kept for the connections.
func (c *Config) CheckServer() error {
	if c == nil {
		return errNoCertificate
	}
	s, err := c.newSession(false, "")
	if err != nil {
		return err
	}
	return s.Close()
}

// newSession makes a session configured by c.
func (c *Config) newSession(isClient bool, serverName string) (*Session, error) {
	flags := InitServer
	if c.MaxEarlyData > 0 {
		flags |= InitEnableEarlyData
	}
	if isClient {
		flags = InitClient
		if c.SessionTicketsDisabled {
			flags |= InitNoTickets
		}
		if serverName == "" && c.VerifyHostname == "" && !c.InsecureSkipVerify && !c.pskOnly(isClient) {
			return nil, errors.New("gnutls: either ServerName or InsecureSkipVerify must be set in the Config")
		}
	}
	var creds *Credentials
	if !c.pskOnly(isClient) {
		var err error
		if creds, err = c.credentials(isClient); err != nil {
			return nil, err
		}
	}
	pc, err := c.priorities()
	if err != nil {
		return nil, err
	}
	s, err := newSession(flags, pc)
	if err != nil {
		return nil, err
	}
	if err := c.configure(s, creds, isClient, serverName); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (c *Config) configure(s *Session, creds *Credentials, isClient bool, serverName string) error {
	if err := c.configurePSK(s, isClient); err != nil {
		return err
	}
	if creds != nil {
		if err := s.SetCredentials(creds); err != nil {
			return err
		}
	}
	if err := s.SetALPN(c.NextProtos); err != nil {
		return err
	}
	if !isClient {
		switch c.ClientAuth {
		case RequestClientCert, VerifyClientCertIfGiven:
			if err := s.RequestClientCert(false); err != nil {
				return err
			}
		case RequireAnyClientCert, RequireAndVerifyClientCert:
			if err := s.RequestClientCert(true); err != nil {
				return err
			}
		}
		switch c.ClientAuth {
		case VerifyClientCertIfGiven:
			if err := s.verifyGivenClientCert(); err != nil {
				return err
			}
		case RequireAndVerifyClientCert:
			if err := s.VerifyPeer(""); err != nil {
				return err
			}
		}
		if err := c.configureEarlyData(s); err != nil {
			return err
		}
		if !c.SessionTicketsDisabled {
			if err := c.configureTickets(s); err != nil {
				return err
			}
		}
		return c.configureSessionCache(s)
	}
	if name := serverName; name != "" && !c.DisableSNI {
		if _, err := netip.ParseAddr(name); err != nil {
			if err := s.SetServerName(name); err != nil {
				return err
			}
		}
	}
	if !c.InsecureSkipVerify && creds != nil {
		name := c.VerifyHostname
		if name == "" {
			name = serverName
		}
		return s.VerifyPeer(name)
	}
	return nil
}

// sessionCacheKey names a server for the session cache as crypto/tls
// does: by the name sent to it, or the address's host when there is none,
// so that servers sharing ticket keys behind one name resume each other's
// sessions. What a session may be used for is checked when it is offered
// (Config.resume), whatever key it came under.
func (c *Config) sessionCacheKey(serverName string, addr net.Addr) string {
	if c.ClientSessionCache == nil || serverName != "" || addr == nil {
		return serverName
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return host
	}
	return addr.String()
}

// ClientSessionCache keeps sessions for resumption, keyed by server name.
// Its entries hold session secrets (see the package documentation on
// resumption); entries in a form this package does not write are not
// offered. It must be safe for concurrent use.
type ClientSessionCache interface {
	Get(key string) (data []byte, ok bool)
	Put(key string, data []byte)
}

// NewLRUClientSessionCache returns a ClientSessionCache holding at most
// capacity sessions (64 when capacity < 1), dropping the least recently used.
func NewLRUClientSessionCache(capacity int) ClientSessionCache {
	if capacity < 1 {
		capacity = 64
	}
	return &lruCache{lru: newLRU[[]byte](capacity, nil)}
}

type lruCache struct {
	mu  sync.Mutex
	lru *lru[[]byte]
}

func (c *lruCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.get(key)
}

func (c *lruCache) Put(key string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.put(key, data)
}
