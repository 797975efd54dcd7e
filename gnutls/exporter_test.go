package gnutls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
)

const ekmLabel = "EXPERIMENTAL go-gnutls"

// ekmContexts are the contexts exported for: none, an empty one (which
// differ in TLS 1.2) and one with bytes.
var ekmContexts = [][]byte{nil, {}, []byte("go-gnutls context")}

// exportAll exports 42 bytes for each of ekmContexts.
func exportAll(f ekmFunc) ([][]byte, error) {
	var out [][]byte
	for _, ctx := range ekmContexts {
		b, err := f(ekmLabel, ctx, 42)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// checkExports compares what this package exported, through
// ConnectionState and its TLS form, with what crypto/tls exported on the
// other end.
func checkExports(t *testing.T, st ConnectionState, want [][]byte) {
	t.Helper()
	ts := st.TLS()
	for name, f := range map[string]ekmFunc{"ConnectionState": st.ExportKeyingMaterial, "TLS()": ts.ExportKeyingMaterial} {
		got, err := exportAll(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) || len(got[i]) != 42 {
				t.Fatalf("%s, context %q: %x, crypto/tls exported %x", name, ekmContexts[i], got[i], want[i])
			}
		}
	}
	if bytes.Equal(want[0], want[1]) == (st.Version == tls.VersionTLS12) {
		t.Errorf("%s: no context and an empty one export the same: %v", tls.VersionName(st.Version), bytes.Equal(want[0], want[1]))
	}
}

// ExportKeyingMaterial gives what crypto/tls gives on the other end, as a
// client and as a server, over TLS 1.2 and 1.3, with and without context;
// after Close it returns an error.
func TestExportKeyingMaterial(t *testing.T) {
	checkLeaks(t)
	type exported struct {
		ekm [][]byte
		err error
	}
	for _, v := range versions {
		t.Run(v.name+"/client", func(t *testing.T) {
			got := make(chan exported, 1)
			l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(peers.Serve(l, func(c net.Conn) {
				tc := c.(*tls.Conn)
				if err := tc.Handshake(); err != nil {
					got <- exported{err: err}
					return
				}
				st := tc.ConnectionState()
				ekm, err := exportAll(st.ExportKeyingMaterial)
				got <- exported{ekm, err}
				io.Copy(c, c)
			}))
			cfg := clientConfig()
			cfg.Priority = v.priority
			c, err := Dial("tcp", l.Addr().String(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			echo(t, c, "ping")
			want := <-got
			if want.err != nil {
				t.Fatal(want.err)
			}
			checkExports(t, c.ConnectionState(), want.ekm)
			c.Close()
			_, err = c.ConnectionState().ExportKeyingMaterial(ekmLabel, nil, 42)
			if !errors.Is(err, ErrNoKeyingMaterial) || !errors.Is(err, net.ErrClosed) {
				t.Fatalf("after Close: %v", err)
			}
		})
		t.Run(v.name+"/server", func(t *testing.T) {
			got := make(chan ConnectionState, 1)
			addr := serveOn(t, serverConfig(), func(c *Conn) {
				if c.Handshake() == nil {
					got <- c.ConnectionState()
					io.Copy(c, c)
				}
			})
			c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: newPool(pki.ca.Cert), ServerName: "localhost", MinVersion: v.want, MaxVersion: v.want})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echo(t, c, "ping")
			st := c.ConnectionState()
			want, err := exportAll(st.ExportKeyingMaterial)
			if err != nil {
				t.Fatal(err)
			}
			checkExports(t, <-got, want)
		})
	}
}

// Where crypto/tls refuses to export, so does this package, with an error
// ErrNoKeyingMaterial matches: before the handshake, over TLS 1.2 without
// the extended master secret, for a label TLS 1.2 uses itself.
func TestExportKeyingMaterialRefused(t *testing.T) {
	checkLeaks(t)
	c := Client(dialTCP(t, silentServer(t)), clientConfig())
	defer c.Close()
	ts := c.ConnectionState().TLS()
	if _, err := ts.ExportKeyingMaterial(ekmLabel, nil, 42); !errors.Is(err, ErrNoKeyingMaterial) {
		t.Fatalf("before the handshake: %v", err)
	}

	addr := goTLSServer(t, nil)
	cfg := clientConfig()
	cfg.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:%NO_SESSION_HASH"
	noEMS, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer noEMS.Close()
	echo(t, noEMS, "ping")
	ts = noEMS.ConnectionState().TLS()
	if _, err := ts.ExportKeyingMaterial(ekmLabel, nil, 42); !errors.Is(err, ErrNoKeyingMaterial) {
		t.Fatalf("TLS 1.2 without extended master secret: %v", err)
	}

	cfg = clientConfig()
	cfg.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
	ems, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ems.Close()
	echo(t, ems, "ping")
	st := ems.ConnectionState()
	if _, err := st.ExportKeyingMaterial(ekmLabel, nil, 42); err != nil {
		t.Fatalf("TLS 1.2 with extended master secret: %v", err)
	}
	if _, err := st.ExportKeyingMaterial("master secret", nil, 42); !errors.Is(err, ErrNoKeyingMaterial) {
		t.Fatalf("reserved label: %v", err)
	}
}
