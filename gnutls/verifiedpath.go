package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_pki.h"
import "C"

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"sync/atomic"
	"unsafe"
)

// issuerLookups counts trust store lookups (trustedIssuer), for tests.
var issuerLookups atomic.Int64

// The verified chain (ConnectionState.TLS's VerifiedChains) is the path
// GnuTLS verified, which it does not report: GnuTLS follows issuers from
// the leaf through the certificates the peer sent, and ends at the first
// one that a CA of the trust store issued (or that is one), ignoring the
// rest (gnutls_x509_trust_list_verify_crt2). The same walk is made here,
// with the trust store's own answer for each step
// (gnutls_certificate_get_issuer): the anchors are taken from the
// credentials the handshake used, the system store included, and the
// walk runs when the state is first read (Conn.trustAnchors).

// trustAnchors returns what ConnectionState needs to find the path
// verified with the credentials of the handshake that just completed: the
// credentials themselves when they are the Config's, which nothing closes
// while the Conn refers to them, so the walk can wait until the state is
// read; otherwise (set through Conn.Session, closable by their owner) the
// trusted issuers of chain (DER), looked up now while the session holds them.
func (c *Conn) trustAnchors(chain [][]byte) (*Credentials, [][]byte) {
	var creds *Credentials
	c.sess.call(func(C.gnutls_session_t) error { creds = c.sess.creds; return nil })
	if creds == nil {
		return nil, nil
	}
	if c.config.ownsCredentials(creds) {
		return creds, nil
	}
	return nil, creds.trustedIssuers(chain)
}

// trustedIssuers returns, for each certificate of chain (DER), the DER of
// the CA in c's trust store that issued it, or nil.
func (c *Credentials) trustedIssuers(chain [][]byte) [][]byte {
	issuers := make([][]byte, len(chain))
	for i, der := range chain {
		issuers[i] = c.trustedIssuer(der)
	}
	return issuers
}

// trustedIssuer is FindIssuer for a session's credentials, which stay
// usable after Close while a session holds them; nil when there is none.
func (c *Credentials) trustedIssuer(cert []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil || len(cert) == 0 {
		return nil
	}
	issuerLookups.Add(1)
	var out *C.uchar
	var n C.uint
	r := withBytes(cert, func(b unsafe.Pointer, bn C.uint) C.int { return C.go_gnutls_find_issuer(c.ptr, b, bn, &out, &n) })
	if out != nil {
		defer C.go_gnutls_free(unsafe.Pointer(out))
	}
	if r < 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(n))
}

// foundPath is a verified path as verifiedPath finds it: the peer's
// certificates it takes, by index from the leaf (0), then the trust
// store's CA that ends it, or nil when the last of them is itself one.
// In the memo (verifiedPeer) it also holds the parsed chain.
type foundPath struct {
	steps  []int
	anchor *x509.Certificate
	peer   []*x509.Certificate
}

// chain is the path over peer, the certificates of the chain it was
// found for; nil if peer is not that chain.
func (p foundPath) chain(peer []*x509.Certificate) []*x509.Certificate {
	path := make([]*x509.Certificate, 0, len(p.steps)+1)
	for _, i := range p.steps {
		if i >= len(peer) {
			return nil
		}
		path = append(path, peer[i])
	}
	if p.anchor != nil {
		path = append(path, p.anchor)
	}
	return path
}

// pathMemoMax bounds the paths a Credentials remembers, each with its
// parsed chain; past it, the memo starts over.
const pathMemoMax = 256

// forgetPaths forgets the paths found so far, as the trust store is about
// to change (loadCerts, under c.mu).
func (c *Credentials) forgetPaths() {
	c.paths = nil
	c.pathsGen++
}

// verifiedPeer parses a peer chain (DER) that c verified and returns it
// with the path verified from it to c's trust store. Both depend on the
// chain and the trust store alone, so they are remembered per chain
// (credState.paths): a chain seen again, as on every resumed connection,
// is neither parsed nor walked again (no trust store lookup, no signature
// check), and shares its parsed certificates, as crypto/tls's client
// does. A change to the trust store forgets every path.
func (c *Credentials) verifiedPeer(der [][]byte) ([]*x509.Certificate, [][]*x509.Certificate) {
	key := chainKey(der, "")
	c.mu.Lock()
	p, ok := c.paths[key]
	gen := c.pathsGen
	c.mu.Unlock()
	if ok {
		peer := slices.Clone(p.peer)
		return peer, [][]*x509.Certificate{p.chain(peer)}
	}
	peer := parseChain(der)
	if p, ok = verifiedPath(peer, c.trustedIssuers(der)); !ok {
		return peer, nil
	}
	p.peer = slices.Clone(peer)
	c.mu.Lock()
	if c.pathsGen == gen {
		if c.paths == nil || len(c.paths) >= pathMemoMax {
			c.paths = make(map[[sha256.Size]byte]foundPath)
		}
		c.paths[key] = p
	}
	c.mu.Unlock()
	return peer, [][]*x509.Certificate{p.chain(peer)}
}

// verifiedPath walks from the leaf (peer[0]) to a trust anchor: at each
// step the trusted issuer (issuers, parallel to peer) ends the path, or
// else a certificate the peer sent whose key signed the current one
// continues it. ok is false when no such path exists, which after a
// successful verification means crypto/x509 cannot check a signature
// GnuTLS accepted.
func verifiedPath(peer []*x509.Certificate, issuers [][]byte) (p foundPath, ok bool) {
	if len(peer) == 0 || len(issuers) < len(peer) {
		return p, false
	}
	p.steps = []int{0}
	used := make([]bool, len(peer))
	used[0] = true
	for i := 0; len(p.steps) <= len(peer); {
		cur := peer[i]
		if der := issuers[i]; der != nil {
			if bytes.Equal(der, cur.Raw) {
				return p, true // cur is itself an anchor
			}
			anchor, err := x509.ParseCertificate(der)
			if err != nil || !signedBy(cur, anchor) {
				return p, false
			}
			p.anchor = anchor
			return p, true
		}
		next := -1
		for j, cand := range peer {
			if !used[j] && signedBy(cur, cand) {
				next = j
				break
			}
		}
		if next < 0 {
			return p, false
		}
		used[next] = true
		p.steps = append(p.steps, next)
		i = next
	}
	return p, false
}

// signedBy reports whether child names parent as its issuer and parent's
// key signed it.
func signedBy(child, parent *x509.Certificate) bool {
	return bytes.Equal(child.RawIssuer, parent.RawSubject) &&
		parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
}
