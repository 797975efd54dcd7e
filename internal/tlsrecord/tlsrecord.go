// Package tlsrecord lets a test play a hostile TLS peer after a real
// handshake: crypto/tls runs the handshake over a Recorder, its key log
// (tls.Config.KeyLogWriter) gives the traffic secrets, and a Conn then
// writes any record the test likes under those keys, and decrypts what the
// other side sends back. The AES suites are supported: TLS 1.3 AES-GCM,
// TLS 1.2 AES-GCM and AES-CBC with HMAC-SHA1.
package tlsrecord

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"strings"
	"sync"
)

// Record content types (RFC 8446 section 5.1).
const (
	ChangeCipherSpec byte = 20
	Alert            byte = 21
	Handshake        byte = 22
	ApplicationData  byte = 23
)

// HeaderLen is the length of a record header.
const HeaderLen = 5

// KeyLog collects the secrets crypto/tls writes to its KeyLogWriter, for
// one connection.
type KeyLog struct {
	mu      sync.Mutex
	secrets map[string][]byte // by label: CLIENT_RANDOM, CLIENT_TRAFFIC_SECRET_0, ...
}

// Write takes NSS key log lines: label, client random, secret, in hex.
func (k *KeyLog) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.secrets == nil {
		k.secrets = map[string][]byte{}
	}
	for _, line := range strings.Split(string(p), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		s, err := hex.DecodeString(f[2])
		if err != nil {
			return 0, fmt.Errorf("tlsrecord: key log line %q: %w", line, err)
		}
		k.secrets[f[0]] = s
	}
	return len(p), nil
}

func (k *KeyLog) secret(label string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.secrets[label]
	if !ok {
		return nil, fmt.Errorf("tlsrecord: no %s in the key log", label)
	}
	return s, nil
}

// Recorder is a net.Conn that keeps a copy of every byte read and written,
// for the Conn made after the handshake to find the records' sequence
// numbers and the hello randoms.
type Recorder struct {
	net.Conn
	mu            sync.Mutex
	read, written []byte
}

// NewRecorder records what passes over c.
func NewRecorder(c net.Conn) *Recorder { return &Recorder{Conn: c} }

func (r *Recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.read = append(r.read, p[:n]...)
	r.mu.Unlock()
	return n, err
}

func (r *Recorder) Write(p []byte) (int, error) {
	n, err := r.Conn.Write(p)
	r.mu.Lock()
	r.written = append(r.written, p[:n]...)
	r.mu.Unlock()
	return n, err
}

// Record is one TLS record, decrypted.
type Record struct {
	Type    byte
	Payload []byte
}

// Conn reads and writes records under the application traffic keys of a
// crypto/tls connection whose handshake is complete. It uses the
// underlying connection directly: the crypto/tls Conn must not be used
// any more.
type Conn struct {
	raw        net.Conn
	send, recv *direction
	pending    []byte   // read from raw, not yet a whole record
	queued     []Record // records crypto/tls read off the wire after its keys changed
}

// New returns a Conn for the side of tc (over rec, with kl as its key log)
// after tc's handshake.
func New(tc *tls.Conn, rec *Recorder, kl *KeyLog) (*Conn, error) {
	st := tc.ConnectionState()
	if !st.HandshakeComplete {
		return nil, errors.New("tlsrecord: the handshake is not complete")
	}
	rec.mu.Lock()
	read, written := bytes.Clone(rec.read), bytes.Clone(rec.written)
	rec.mu.Unlock()
	isClient := len(written) > HeaderLen+4 && written[0] == Handshake && written[HeaderLen] == 1
	var clientWrite, serverWrite protection
	var err error
	if st.Version == tls.VersionTLS13 {
		clientWrite, serverWrite, err = keys13(st.CipherSuite, kl)
	} else {
		hello, other := written, read
		if !isClient {
			hello, other = read, written
		}
		clientWrite, serverWrite, err = keys12(st.CipherSuite, kl, hello, other)
	}
	if err != nil {
		return nil, err
	}
	c := &Conn{raw: rec.Conn, send: &direction{p: clientWrite}, recv: &direction{p: serverWrite}}
	if !isClient {
		c.send, c.recv = c.recv, c.send
	}
	// Records already sent and received under these keys set the
	// sequence numbers; those received are handed out first.
	if _, err := c.send.sync(written); err != nil {
		return nil, err
	}
	c.queued, err = c.recv.sync(read)
	if err != nil {
		return nil, err
	}
	c.pending = trailing(read)
	return c, nil
}

// direction is one way's protection and its next sequence number.
type direction struct {
	p   protection
	seq uint64
}

// sync goes through the records of stream, counting those sealed under
// d's keys (the ones before them were sealed under the handshake's); it
// returns them.
func (d *direction) sync(stream []byte) ([]Record, error) {
	var out []Record
	for len(stream) >= HeaderLen {
		n := HeaderLen + int(binary.BigEndian.Uint16(stream[3:5]))
		if len(stream) < n {
			break
		}
		hdr, body := stream[:HeaderLen], stream[HeaderLen:n]
		stream = stream[n:]
		if hdr[0] == ChangeCipherSpec {
			continue
		}
		typ, payload, err := d.p.open(d.seq, hdr, body)
		if err != nil {
			if d.seq > 0 {
				return nil, fmt.Errorf("tlsrecord: record %d under the traffic keys does not open: %w", d.seq, err)
			}
			continue // still the handshake's keys
		}
		d.seq++
		out = append(out, Record{typ, payload})
	}
	return out, nil
}

// trailing is the part of stream after its last whole record.
func trailing(stream []byte) []byte {
	for len(stream) >= HeaderLen {
		n := HeaderLen + int(binary.BigEndian.Uint16(stream[3:5]))
		if len(stream) < n {
			break
		}
		stream = stream[n:]
	}
	return bytes.Clone(stream)
}

// WriteRecord writes a record of type typ carrying payload under the
// sending keys, and counts it as sent.
func (c *Conn) WriteRecord(typ byte, payload []byte) error {
	r := c.send.p.seal(c.send.seq, typ, payload)
	c.send.seq++
	_, err := c.raw.Write(r)
	return err
}

// WriteRaw writes b as it is: records the test built itself.
func (c *Conn) WriteRaw(b []byte) error {
	_, err := c.raw.Write(b)
	return err
}

// ReadRecord reads and decrypts the next record. A record the receiving
// keys do not open is an error. At the end of the stream it returns io.EOF.
func (c *Conn) ReadRecord() (Record, error) {
	if len(c.queued) > 0 {
		r := c.queued[0]
		c.queued = c.queued[1:]
		return r, nil
	}
	if err := c.fill(HeaderLen); err != nil {
		return Record{}, err
	}
	n := HeaderLen + int(binary.BigEndian.Uint16(c.pending[3:5]))
	if err := c.fill(n); err != nil {
		return Record{}, err
	}
	hdr, body := c.pending[:HeaderLen], c.pending[HeaderLen:n]
	defer func() { c.pending = c.pending[n:] }()
	if hdr[0] == ChangeCipherSpec {
		return Record{hdr[0], bytes.Clone(body)}, nil
	}
	typ, payload, err := c.recv.p.open(c.recv.seq, hdr, body)
	if err != nil {
		return Record{}, fmt.Errorf("tlsrecord: record %d (header % x) does not open: %w", c.recv.seq, hdr, err)
	}
	c.recv.seq++
	return Record{typ, payload}, nil
}

// fill reads until n bytes are pending; a stream that ends at a record
// boundary is io.EOF, inside one io.ErrUnexpectedEOF.
func (c *Conn) fill(n int) error {
	buf := make([]byte, 32<<10)
	for len(c.pending) < n {
		m, err := c.raw.Read(buf)
		c.pending = append(c.pending, buf[:m]...)
		if err != nil {
			if len(c.pending) >= n {
				return nil
			}
			if err == io.EOF && len(c.pending) > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// Header returns a record header for typ and length n.
func Header(typ byte, n int) []byte {
	return []byte{typ, 3, 3, byte(n >> 8), byte(n)}
}

// protection seals and opens the records of one direction.
type protection interface {
	seal(seq uint64, typ byte, payload []byte) []byte
	open(seq uint64, hdr, body []byte) (typ byte, payload []byte, err error)
}

// nonceXOR is the TLS 1.3 nonce: the write IV XOR the sequence number.
func nonceXOR(iv []byte, seq uint64) []byte {
	n := bytes.Clone(iv)
	for i := range 8 {
		n[len(n)-1-i] ^= byte(seq >> (8 * i))
	}
	return n
}

// aead13 is TLS 1.3's record protection (RFC 8446 section 5.2).
type aead13 struct {
	aead cipher.AEAD
	iv   []byte
}

func (a *aead13) seal(seq uint64, typ byte, payload []byte) []byte {
	inner := append(bytes.Clone(payload), typ)
	hdr := Header(ApplicationData, len(inner)+a.aead.Overhead())
	return a.aead.Seal(hdr, nonceXOR(a.iv, seq), inner, hdr)
}

func (a *aead13) open(seq uint64, hdr, body []byte) (byte, []byte, error) {
	inner, err := a.aead.Open(nil, nonceXOR(a.iv, seq), body, hdr)
	if err != nil {
		return 0, nil, err
	}
	i := len(inner) - 1
	for i >= 0 && inner[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, errors.New("no content type in the inner plaintext")
	}
	return inner[i], inner[:i], nil
}

// additionalData is TLS 1.2's AEAD and MAC input before the payload.
func additionalData(seq uint64, typ byte, n int) []byte {
	ad := binary.BigEndian.AppendUint64(nil, seq)
	return append(ad, typ, 3, 3, byte(n>>8), byte(n))
}

// gcm12 is TLS 1.2 AES-GCM (RFC 5288): a 4-byte salt and an explicit
// 8-byte nonce in each record, here the sequence number.
type gcm12 struct {
	aead cipher.AEAD
	salt []byte
}

func (g *gcm12) seal(seq uint64, typ byte, payload []byte) []byte {
	explicit := binary.BigEndian.AppendUint64(nil, seq)
	out := append(Header(typ, 8+len(payload)+g.aead.Overhead()), explicit...)
	return g.aead.Seal(out, append(bytes.Clone(g.salt), explicit...), payload, additionalData(seq, typ, len(payload)))
}

func (g *gcm12) open(seq uint64, hdr, body []byte) (byte, []byte, error) {
	if len(body) < 8+g.aead.Overhead() {
		return 0, nil, errors.New("record too short")
	}
	n := len(body) - 8 - g.aead.Overhead()
	p, err := g.aead.Open(nil, append(bytes.Clone(g.salt), body[:8]...), body[8:], additionalData(seq, hdr[0], n))
	return hdr[0], p, err
}

// cbc12 is TLS 1.2 AES-CBC with HMAC-SHA1, MAC then encrypt (RFC 5246
// section 6.2.3.2), with an explicit IV in each record.
type cbc12 struct {
	block  cipher.Block
	macKey []byte
}

func (c *cbc12) mac(seq uint64, typ byte, payload []byte) []byte {
	m := hmac.New(sha1.New, c.macKey)
	m.Write(additionalData(seq, typ, len(payload)))
	m.Write(payload)
	return m.Sum(nil)
}

func (c *cbc12) seal(seq uint64, typ byte, payload []byte) []byte {
	data := append(bytes.Clone(payload), c.mac(seq, typ, payload)...)
	pad := aes.BlockSize - (len(data)+1)%aes.BlockSize
	if pad == aes.BlockSize {
		pad = 0
	}
	for range pad + 1 {
		data = append(data, byte(pad))
	}
	iv := make([]byte, aes.BlockSize)
	rand.Read(iv)
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(data, data)
	return append(append(Header(typ, len(iv)+len(data)), iv...), data...)
}

func (c *cbc12) open(seq uint64, hdr, body []byte) (byte, []byte, error) {
	if len(body) < 2*aes.BlockSize || len(body)%aes.BlockSize != 0 {
		return 0, nil, errors.New("bad CBC record length")
	}
	data := bytes.Clone(body[aes.BlockSize:])
	cipher.NewCBCDecrypter(c.block, body[:aes.BlockSize]).CryptBlocks(data, data)
	pad := int(data[len(data)-1])
	if pad+1+sha1.Size > len(data) {
		return 0, nil, errors.New("bad padding")
	}
	for _, b := range data[len(data)-pad-1:] {
		if int(b) != pad {
			return 0, nil, errors.New("bad padding")
		}
	}
	data = data[:len(data)-pad-1]
	payload, mac := data[:len(data)-sha1.Size], data[len(data)-sha1.Size:]
	if !hmac.Equal(mac, c.mac(seq, hdr[0], payload)) {
		return 0, nil, errors.New("bad record MAC")
	}
	return hdr[0], payload, nil
}

// suite12 describes a TLS 1.2 cipher suite's record protection.
type suite12 struct {
	kind          string // "gcm", "cbc"
	keyLen        int
	prf           func() hash.Hash
	macLen, ivLen int
}

var suites12 = map[uint16]suite12{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: {"gcm", 16, sha256.New, 0, 4},
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:   {"gcm", 16, sha256.New, 0, 4},
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: {"gcm", 32, sha512.New384, 0, 4},
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:   {"gcm", 32, sha512.New384, 0, 4},
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:    {"cbc", 16, sha256.New, 20, 16},
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:      {"cbc", 16, sha256.New, 20, 16},
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:    {"cbc", 32, sha256.New, 20, 16},
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:      {"cbc", 32, sha256.New, 20, 16},
}

// prf12 is TLS 1.2's PRF, P_hash (RFC 5246 section 5).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	seed = append([]byte(label), seed...)
	var out []byte
	a := seed
	for len(out) < n {
		m := hmac.New(h, secret)
		m.Write(a)
		a = m.Sum(nil)
		m = hmac.New(h, secret)
		m.Write(a)
		m.Write(seed)
		out = m.Sum(out)
	}
	return out[:n]
}

// helloRandom finds the random of the first hello message in stream (a
// record starting with a ClientHello or ServerHello).
func helloRandom(stream []byte) ([]byte, error) {
	const off = HeaderLen + 4 + 2 // record header, handshake header, version
	if len(stream) < off+32 || stream[0] != Handshake {
		return nil, errors.New("tlsrecord: no hello message at the start of the stream")
	}
	return stream[off : off+32], nil
}

// keys12 derives TLS 1.2's record protection from the master secret.
// clientStream and serverStream start with the ClientHello and ServerHello.
func keys12(id uint16, kl *KeyLog, clientStream, serverStream []byte) (client, server protection, err error) {
	s, ok := suites12[id]
	if !ok {
		return nil, nil, fmt.Errorf("tlsrecord: cipher suite %s not supported", tls.CipherSuiteName(id))
	}
	master, err := kl.secret("CLIENT_RANDOM")
	if err != nil {
		return nil, nil, err
	}
	cr, err := helloRandom(clientStream)
	if err != nil {
		return nil, nil, err
	}
	sr, err := helloRandom(serverStream)
	if err != nil {
		return nil, nil, err
	}
	kb := prf12(s.prf, master, "key expansion", append(bytes.Clone(sr), cr...), 2*(s.macLen+s.keyLen+s.ivLen))
	take := func(n int) []byte {
		b := kb[:n]
		kb = kb[n:]
		return b
	}
	cmac, smac := take(s.macLen), take(s.macLen)
	ckey, skey := take(s.keyLen), take(s.keyLen)
	civ, siv := take(s.ivLen), take(s.ivLen)
	make1 := func(mac, key, iv []byte) (protection, error) {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if s.kind == "cbc" {
			return &cbc12{b, mac}, nil
		}
		a, err := cipher.NewGCM(b)
		return &gcm12{a, iv}, err
	}
	if client, err = make1(cmac, ckey, civ); err != nil {
		return nil, nil, err
	}
	server, err = make1(smac, skey, siv)
	return client, server, err
}

// keys13 derives TLS 1.3's record protection from the application traffic
// secrets (RFC 8446 section 7.3).
func keys13(id uint16, kl *KeyLog) (client, server protection, err error) {
	make1 := func(label string) (protection, error) {
		secret, err := kl.secret(label)
		if err != nil {
			return nil, err
		}
		h, keyLen := sha256.New, 16
		switch id {
		case tls.TLS_AES_128_GCM_SHA256:
		case tls.TLS_AES_256_GCM_SHA384:
			h, keyLen = sha512.New384, 32
		default:
			return nil, fmt.Errorf("tlsrecord: cipher suite %#04x not supported", id)
		}
		key, err := expandLabel(h, secret, "key", keyLen)
		if err != nil {
			return nil, err
		}
		iv, err := expandLabel(h, secret, "iv", 12)
		if err != nil {
			return nil, err
		}
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		a, err := cipher.NewGCM(b)
		return &aead13{a, iv}, err
	}
	if client, err = make1("CLIENT_TRAFFIC_SECRET_0"); err != nil {
		return nil, nil, err
	}
	server, err = make1("SERVER_TRAFFIC_SECRET_0")
	return client, server, err
}

// expandLabel is HKDF-Expand-Label with an empty context.
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := []byte{byte(n >> 8), byte(n), byte(len(full))}
	info = append(append(info, full...), 0)
	return hkdf.Expand(h, secret, string(info), n)
}
