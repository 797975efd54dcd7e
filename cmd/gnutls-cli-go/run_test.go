package main

import (
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// TestConnectNextAddress: when an address refuses, the next one is tried,
// with and without fast open.
func TestConnectNextAddress(t *testing.T) {
	pt, err := strconv.Atoi(goServer(t, &gnutls.Config{}, echo))
	if err != nil {
		t.Fatal(err)
	}
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.1")}
	for _, fastOpen := range []bool{false, true} {
		t.Run("fastopen="+strconv.FormatBool(fastOpen), func(t *testing.T) {
			var report strings.Builder
			o := defaultOptions()
			o.host, o.fastOpen = "localhost", fastOpen
			c := &client{o: o, report: &report, stdout: io.Discard}
			cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, FastOpen: fastOpen}
			conn, err := c.connect(cfg, addrs, uint16(pt))
			if err != nil {
				t.Fatalf("%v\n%s", err, report.String())
			}
			defer conn.Close()
			if got := conn.RemoteAddr().String(); got != "127.0.0.1:"+strconv.Itoa(pt) {
				t.Errorf("connected to %s", got)
			}
			if !strings.Contains(report.String(), "Connecting to '127.0.0.2:") || !strings.Contains(report.String(), "Connecting to '127.0.0.1:") {
				t.Errorf("report does not show both attempts:\n%s", report.String())
			}
		})
	}
	t.Run("all refuse", func(t *testing.T) {
		o := defaultOptions()
		o.host = "localhost"
		c := &client{o: o, report: io.Discard, stdout: io.Discard}
		cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM}
		_, err := c.connect(cfg, addrs[:1], uint16(pt))
		if err == nil || describe(err) != "could not connect to 127.0.0.2:"+strconv.Itoa(pt)+": connection refused" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCRLFReader(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"a\nb\n":        "a\r\nb\r\n",
		"a\r\nb":        "a\r\nb",
		"\n\n":          "\r\n\r\n",
		"x\r\n\ny\rz\n": "x\r\n\r\ny\rz\r\n",
	} {
		// One byte at a time, so that a CR and its LF arrive apart.
		got, err := io.ReadAll(&crlfReader{r: iotest.OneByteReader(strings.NewReader(in))})
		if err != nil || string(got) != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
}
