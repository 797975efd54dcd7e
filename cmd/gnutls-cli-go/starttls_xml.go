package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// XMPP (RFC 6120, section 5): the client opens a stream, the server
// answers with its own and its features, which must offer starttls; the
// client asks for it and the server answers <proceed/> (or <failure/>).

const xmppTLSNS = "urn:ietf:params:xml:ns:xmpp-tls"

func (p *plainText) xmpp(server string) error {
	header := fmt.Sprintf("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='%s' version='1.0'>\n", xmlAttr(server))
	if _, err := io.WriteString(p.conn, header); err != nil {
		return err
	}
	features, err := p.readUntil("</stream:features>")
	if err != nil {
		return err
	}
	if !strings.Contains(features, "<starttls") {
		return fmt.Errorf("the server's stream features do not offer starttls: %q", features)
	}
	if _, err := io.WriteString(p.conn, "<starttls xmlns='"+xmppTLSNS+"'/>"); err != nil {
		return err
	}
	answer, err := p.readElement()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(answer, "<proceed") {
		return fmt.Errorf("the server answered %q to <starttls/>", answer)
	}
	return nil
}

// readUntil reads up to and including end.
func (p *plainText) readUntil(end string) (string, error) {
	var b strings.Builder
	for !strings.HasSuffix(b.String(), end) {
		c, err := p.r.ReadByte()
		if err != nil {
			return "", p.readErr(b.String(), err)
		}
		if b.Len() > 64<<10 {
			return "", fmt.Errorf("the server sent more than 64 KiB without %s", end)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// readElement reads the next XML tag, skipping white space before it.
func (p *plainText) readElement() (string, error) {
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			return "", p.readErr("", err)
		}
		if !bytes.ContainsRune([]byte(" \t\r\n"), rune(c)) {
			p.r.UnreadByte()
			break
		}
	}
	return p.readUntil(">")
}

// xmlAttr escapes s for a single-quoted XML attribute.
func xmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", "'", "&apos;").Replace(s)
}
