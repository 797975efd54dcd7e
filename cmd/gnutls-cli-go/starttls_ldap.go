package main

import (
	"errors"
	"fmt"
	"io"
)

// LDAP (RFC 4511, section 4.14): the client sends the StartTLS extended
// request; the server's extended response carries a result code, 0 for
// success.

// ldapStartTLS is the request with message ID 1: LDAPMessage { 1,
// ExtendedRequest { requestName 1.3.6.1.4.1.1466.20037 } }, as gnutls-cli
// sends it.
var ldapStartTLS = []byte("\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + "1.3.6.1.4.1.1466.20037")

// maxLDAPResponse bounds the response read.
const maxLDAPResponse = 16 << 10

func (p *plainText) ldap() error {
	if _, err := p.conn.Write(ldapStartTLS); err != nil {
		return err
	}
	msg, err := p.readBER(0x30)
	if err != nil {
		return err
	}
	// messageID 1, then ExtendedResponse ([APPLICATION 24]) whose first
	// field is the resultCode (ENUMERATED).
	id, rest, err := berField(msg, 0x02)
	if err != nil || len(id) != 1 || id[0] != 1 {
		return fmt.Errorf("the server's LDAP response is not for the StartTLS request (message ID %x)", id)
	}
	resp, _, err := berField(rest, 0x78)
	if err != nil {
		return fmt.Errorf("the server did not answer StartTLS with an extended response: %v", err)
	}
	code, rest, err := berField(resp, 0x0a)
	if err != nil || len(code) != 1 {
		return fmt.Errorf("the server's StartTLS response has no result code")
	}
	if code[0] != 0 {
		_, rest, _ = berField(rest, 0x04) // matchedDN
		diag, _, _ := berField(rest, 0x04)
		return fmt.Errorf("the server refused StartTLS: LDAP result code %d %q", code[0], diag)
	}
	return nil
}

// readBER reads one BER element with the given tag and returns its contents.
func (p *plainText) readBER(tag byte) ([]byte, error) {
	t, err := p.r.ReadByte()
	if err != nil {
		return nil, p.readErr("", err)
	}
	if t != tag {
		return nil, fmt.Errorf("the server answered with BER tag %#x, not an LDAP message", t)
	}
	n, err := p.berLength()
	if err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(p.r, body); err != nil {
		return nil, p.readErr("", err)
	}
	return body, nil
}

func (p *plainText) berLength() (int, error) {
	b, err := p.r.ReadByte()
	if err != nil {
		return 0, p.readErr("", err)
	}
	if b < 0x80 {
		return int(b), nil
	}
	n := 0
	for i := 0; i < int(b&0x7f); i++ {
		c, err := p.r.ReadByte()
		if err != nil {
			return 0, p.readErr("", err)
		}
		n = n<<8 | int(c)
		if n > maxLDAPResponse {
			return 0, fmt.Errorf("the server's LDAP response is longer than %d bytes", maxLDAPResponse)
		}
	}
	if b == 0x80 {
		return 0, errors.New("the server's LDAP response has an indefinite length")
	}
	return n, nil
}

// berField splits the first element of b, which must have tag, from the
// rest (definite lengths of up to four bytes).
func berField(b []byte, tag byte) (contents, rest []byte, err error) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, fmt.Errorf("expected BER tag %#x", tag)
	}
	n, off := int(b[1]), 2
	if b[1] >= 0x80 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 4 || len(b) < 2+k {
			return nil, nil, errors.New("bad BER length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		off += k
	}
	if n < 0 || len(b)-off < n {
		return nil, nil, errors.New("BER element longer than the message")
	}
	return b[off : off+n], b[off+n:], nil
}
