package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// starttlsProtocols are the protocols --starttls-proto speaks before the
// TLS handshake.
var starttlsProtocols = []string{"smtp", "lmtp", "imap", "pop3", "ftp", "nntp", "sieve", "postgres", "xmpp", "ldap"}

// A turn of a plain-text dialogue sends cmd (none for the greeting; %s
// stands for the client's name) and reads the answer it needs.
type turn struct {
	cmd    string
	answer func(p *plainText, cmd string) error
}

// dialogues are the turns that lead each protocol to TLS.
var dialogues = map[string][]turn{
	"smtp":  {{"", reply("220")}, {"EHLO %s", reply("250")}, {"STARTTLS", reply("220")}},
	"lmtp":  {{"", reply("220")}, {"LHLO %s", reply("250")}, {"STARTTLS", reply("220")}},
	"ftp":   {{"", reply("220")}, {"AUTH TLS", reply("234")}},
	"nntp":  {{"", reply("200", "201")}, {"STARTTLS", reply("382")}},
	"pop3":  {{"", line("+OK")}, {"STLS", line("+OK")}},
	"imap":  {{"", line("* OK")}, {"a STARTTLS", until("* ", "A OK")}},
	"sieve": {{"", until(`"`, "OK")}, {"STARTTLS", until(`"`, "OK")}},
}

// starttls runs the plain-text exchange of proto that asks the server to
// start TLS on conn, before deadline. name is what the client calls
// itself in SMTP's EHLO and LMTP's LHLO; server is the server's name, for
// XMPP's stream header.
func starttls(conn net.Conn, proto, name, server string, deadline time.Time) error {
	conn.SetDeadline(deadline)
	defer conn.SetDeadline(time.Time{})
	p := &plainText{conn: conn, r: bufio.NewReader(conn)}
	var err error
	if f, ok := binaryStartTLS[proto]; ok {
		err = f(p, server)
	} else if turns, ok := dialogues[proto]; ok {
		for _, t := range turns {
			cmd := t.cmd
			if strings.Contains(cmd, "%s") {
				cmd = fmt.Sprintf(cmd, name)
			}
			if err = p.send(cmd); err != nil {
				break
			}
			if err = t.answer(p, cmd); err != nil {
				break
			}
		}
	} else {
		return failf("--starttls-proto: unknown protocol %q (known: %s)", proto, strings.Join(starttlsProtocols, ", "))
	}
	if err == nil && p.r.Buffered() > 0 {
		// Bytes sent ahead of the handshake could be taken for protected
		// data by a careless client: refuse them.
		err = fmt.Errorf("the server sent %d bytes it should not have before the TLS handshake", p.r.Buffered())
	}
	if err != nil {
		return failf("STARTTLS (%s) failed: %v", proto, err)
	}
	return nil
}

// helloName is the client's name for EHLO and LHLO.
func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// plainText is the connection before TLS starts.
type plainText struct {
	conn net.Conn
	r    *bufio.Reader
}

func (p *plainText) send(cmd string) error {
	if cmd == "" {
		return nil
	}
	_, err := io.WriteString(p.conn, cmd+"\r\n")
	return err
}

func (p *plainText) readLine() (string, error) {
	l, err := p.r.ReadString('\n')
	if err != nil {
		return "", p.readErr(l, err)
	}
	return strings.TrimRight(l, "\r\n"), nil
}

// readErr names why the server's answer ended early.
func (p *plainText) readErr(got string, err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errors.New("the server did not answer within --connect-timeout")
	case err == io.EOF && got == "":
		return errors.New("the server closed the connection")
	case err == io.EOF:
		return fmt.Errorf("the server closed the connection after %q", got)
	}
	return fmt.Errorf("reading the server's answer: %w", err)
}

// reply reads a numbered reply, as in SMTP, FTP and NNTP: "250-..." lines
// go on, "250 ..." ends. The code must be one of codes.
func reply(codes ...string) func(*plainText, string) error {
	return func(p *plainText, cmd string) error {
		for {
			l, err := p.readLine()
			if err != nil {
				return err
			}
			if len(l) > 3 && l[3] == '-' {
				continue
			}
			for _, c := range codes {
				if strings.HasPrefix(l, c) {
					return nil
				}
			}
			return unexpected(cmd, l)
		}
	}
}

// line reads one line that must start with prefix (until skips nothing:
// no line of these protocols starts with NUL).
func line(prefix string) func(*plainText, string) error {
	return until("\x00", prefix)
}

// until reads lines up to the first that does not start with skip; that
// one must start with ok (in any case), as IMAP and ManageSieve end their
// responses.
func until(skip, ok string) func(*plainText, string) error {
	return func(p *plainText, cmd string) error {
		for {
			l, err := p.readLine()
			if err != nil {
				return err
			}
			if strings.HasPrefix(l, skip) {
				continue
			}
			if !strings.HasPrefix(strings.ToUpper(l), strings.ToUpper(ok)) {
				return unexpected(cmd, l)
			}
			return nil
		}
	}
}

// binaryStartTLS are the protocols whose requests are not lines of text.
var binaryStartTLS = map[string]func(p *plainText, server string) error{
	"postgres": func(p *plainText, _ string) error { return p.postgres() },
	"xmpp":     (*plainText).xmpp,
	"ldap":     func(p *plainText, _ string) error { return p.ldap() },
}

// postgres sends PostgreSQL's SSLRequest; the server answers S to go on.
func (p *plainText) postgres() error {
	req := []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f} // length 8, code 80877103
	if _, err := p.conn.Write(req); err != nil {
		return err
	}
	b, err := p.r.ReadByte()
	if err != nil {
		return p.readErr("", err)
	}
	if b != 'S' {
		return fmt.Errorf("the server answered %q to SSLRequest: it does not accept TLS", bytes.TrimSpace([]byte{b}))
	}
	return nil
}

func unexpected(cmd, answer string) error {
	if cmd == "" {
		return fmt.Errorf("the server greeted with %q", answer)
	}
	return fmt.Errorf("the server answered %q to %s", answer, cmd)
}
