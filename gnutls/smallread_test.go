package gnutls

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// Small Reads take a whole record out of GnuTLS, and the Reads after
// them are served from the Conn: nothing of the record waits in GnuTLS
// (Session.Pending) after the first; the bytes come in order across
// records; and Close drops what waits, so a Read after it fails.
func TestSmallReads(t *testing.T) {
	c, err := Dial("tcp", echoListener(t, serverConfig()), clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 40000) // three records
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	piece := make([]byte, 9) // an HTTP/2 frame header
	n, err := c.Read(piece)
	if err != nil {
		t.Fatal(err)
	}
	if p := c.sess.Pending(); p != 0 {
		t.Errorf("after a %d-byte Read, %d bytes of the record wait in GnuTLS; want the record taken into the Conn", n, p)
	}
	got := append([]byte(nil), piece[:n]...)
	for len(got) < len(msg) {
		n, err := c.Read(piece)
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		got = append(got, piece[:n]...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the bytes read in small pieces differ from those written")
	}

	echo(t, c, "x")
	if _, err := c.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, piece[:1]); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n, err := c.Read(piece); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close with bytes waiting: %d, %v; want net.ErrClosed", n, err)
	}
}
