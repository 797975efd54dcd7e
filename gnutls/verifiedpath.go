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

// memoPath is a peer chain as verifiedPeer remembers it: parsed, and
// the verified path over its certificates.
type memoPath struct {
	peer, path []*x509.Certificate
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
	m, ok := c.paths[key]
	gen := c.pathsGen
	c.mu.Unlock()
	if ok {
		return slices.Clone(m.peer), [][]*x509.Certificate{slices.Clone(m.path)}
	}
	peer := parseChain(der)
	path := verifiedPath(peer, c.trustedIssuers(der))
	if path == nil {
		return peer, nil
	}
	c.mu.Lock()
	if c.pathsGen == gen {
		if c.paths == nil || len(c.paths) >= pathMemoMax {
			c.paths = make(map[[sha256.Size]byte]memoPath)
		}
		c.paths[key] = memoPath{slices.Clone(peer), slices.Clone(path)}
	}
	c.mu.Unlock()
	return peer, [][]*x509.Certificate{path}
}

// verifiedPath walks from the leaf (peer[0]) to a trust anchor: at each
// step the trusted issuer (issuers, parallel to peer) ends the path, or
// else a certificate the peer sent whose key signed the current one
// continues it. It returns nil when no such path exists, which after a
// successful verification means crypto/x509 cannot check a signature
// GnuTLS accepted.
func verifiedPath(peer []*x509.Certificate, issuers [][]byte) []*x509.Certificate {
	if len(peer) == 0 || len(issuers) < len(peer) {
		return nil
	}
	path := []*x509.Certificate{peer[0]}
	used := make([]bool, len(peer))
	used[0] = true
	for i := 0; len(path) <= len(peer); {
		cur := peer[i]
		if der := issuers[i]; der != nil {
			if bytes.Equal(der, cur.Raw) {
				return path // cur is itself an anchor
			}
			anchor, err := x509.ParseCertificate(der)
			if err != nil || !signedBy(cur, anchor) {
				return nil
			}
			return append(path, anchor)
		}
		next := -1
		for j, cand := range peer {
			if !used[j] && signedBy(cur, cand) {
				next = j
				break
			}
		}
		if next < 0 {
			return nil
		}
		used[next] = true
		path = append(path, peer[next])
		i = next
	}
	return nil
}

// signedBy reports whether child names parent as its issuer and parent's
// key signed it.
func signedBy(child, parent *x509.Certificate) bool {
	return bytes.Equal(child.RawIssuer, parent.RawSubject) &&
		parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
}
