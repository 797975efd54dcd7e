package main

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/cliopts"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want func(o *options)
	}{
		{[]string{"example.com"}, func(o *options) {}},
		{[]string{"-p", "8443", "example.com"}, func(o *options) { o.port = "8443" }},
		{[]string{"-p8443", "example.com"}, func(o *options) { o.port = "8443" }},
		{[]string{"example.com", "--port=https"}, func(o *options) { o.port = "https" }},
		{[]string{"--port", "1", "--fastopen", "-rV", "example.com"}, func(o *options) { o.port, o.fastOpen, o.resume, o.verbose = "1", true, true, true }},
		{[]string{"-Vp", "9", "example.com"}, func(o *options) { o.verbose, o.port = true, "9" }},
		{[]string{"--alpn", "h2", "--alpn=http/1.1", "example.com"}, func(o *options) { o.alpn = []string{"h2", "http/1.1"} }},
		{[]string{"--sni-hostname", "a", "--verify-hostname", "b", "--disable-sni", "--insecure", "example.com"}, func(o *options) {
			o.sniHostname, o.verifyHostname, o.disableSNI, o.insecure = "a", "b", true, true
		}},
		{[]string{"--x509cafile", "ca", "--x509crlfile", "crl", "--x509certfile", "c", "--x509keyfile", "k", "example.com"}, func(o *options) {
			o.caFile, o.crlFile, o.certFile, o.keyFile = "ca", "crl", "c", "k"
		}},
		{[]string{"-r", "--earlydata", "f", "--priority", "NORMAL", "--print-cert", "--timing", "example.com"}, func(o *options) {
			o.resume, o.earlyData, o.priority, o.printCert, o.timing = true, "f", "NORMAL", true, true
		}},
		{[]string{"--connect-timeout", "5s", "--close-wait=250ms", "example.com"}, func(o *options) {
			o.connectTimeout, o.closeWait = 5*time.Second, 250*time.Millisecond
		}},
		{[]string{"--starttls-proto=imap", "example.com"}, func(o *options) { o.starttls = "imap" }},
		{[]string{"-d3", "--crlf", "example.com"}, func(o *options) { o.debug, o.crlf = 3, true }},
		{[]string{"--pskusername", "alice", "--pskkey=00ff10", "--noticket", "--x509fmtder", "example.com"}, func(o *options) {
			o.pskUsername, o.pskKey, o.noTicket, o.x509DER = "alice", []byte{0, 0xff, 0x10}, true, true
		}},
		{[]string{"--starttls-proto", "xmpp", "example.com"}, func(o *options) { o.starttls = "xmpp" }},
		{[]string{"--", "-odd-host"}, func(o *options) { o.host = "-odd-host" }},
		{[]string{"-l"}, func(o *options) { o.list, o.host = true, "" }},
		{[]string{"--help"}, func(o *options) { o.help, o.host = true, "" }},
		{[]string{"-v"}, func(o *options) { o.version, o.host = true, "" }},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := parseArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			want := defaultOptions()
			want.host = "example.com"
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no HOST given"},
		{[]string{"a", "b"}, `one HOST expected, got ["a" "b"]`},
		{[]string{""}, "HOST is empty"},
		{[]string{"--nope", "h"}, "unknown option --nope"},
		{[]string{"-x", "h"}, "unknown option -x"},
		{[]string{"-rx", "h"}, "unknown option -x"},
		{[]string{"h", "-p"}, "-p needs a value (PORT)"},
		{[]string{"h", "--alpn"}, "--alpn needs a value (PROTOCOL)"},
		{[]string{"--fastopen=yes", "h"}, "--fastopen takes no value"},
		{[]string{"--alpn=", "h"}, `--alpn: ALPN protocol "" must be 1 to 255 bytes`},
		{[]string{"--alpn", strings.Repeat("x", 256), "h"}, "must be 1 to 255 bytes"},
		{append(strings.Fields(strings.Repeat("--alpn x ", 17)), "h"), "--alpn: at most 16 protocols can be offered"},
		{[]string{"--port=", "h"}, "--port is empty"},
		{[]string{"--connect-timeout", "-1s", "h"}, `--connect-timeout: "-1s" is not a positive duration`},
		{[]string{"-d", "x", "h"}, `-d: "x" is not a level from 0 to 9999`},
		{[]string{"--x509certfile", "c", "h"}, "--x509certfile needs --x509keyfile"},
		{[]string{"--earlydata", "f", "h"}, "--earlydata needs -r/--resume"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseArgs(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if _, ok := err.(*cliopts.UsageError); !ok {
				t.Errorf("%T is not a usage error", err)
			}
		})
	}
}

// FuzzParseArgs: any command line gives options or a usage error, never a
// panic, and options always name a host unless an action needs none.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"example.com", "-p\x00443\x00h", "-rVp9\x00h", "--alpn=h2\x00--alpn\x00x\x00h", "--\x00-h", "-", "--=", "-l", "--close-wait\x001s\x00h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		o, err := parseArgs(strings.Split(line, "\x00"))
		if err != nil {
			if _, ok := err.(*cliopts.UsageError); !ok {
				t.Fatalf("%T is not a usage error: %v", err, err)
			}
			return
		}
		if o.host == "" && !o.help && !o.version && !o.list {
			t.Fatalf("no host and nothing else to do: %+v", o)
		}
	})
}

// FuzzPSKOptions: any --pskusername and --pskkey give options whose
// credentials GnuTLS takes, or a usage error that does not show the key.
func FuzzPSKOptions(f *testing.F) {
	f.Add("alice", "00112233445566778899aabbccddeeff")
	f.Add("", "00")
	f.Add("bob", "0g")
	f.Add("bob", "abc")
	f.Add("x\x00y", "")
	f.Fuzz(func(t *testing.T, identity, key string) {
		o, err := parseArgs([]string{"--pskusername=" + identity, "--pskkey=" + key, "host"})
		if err != nil {
			if _, ok := err.(*cliopts.UsageError); !ok {
				t.Fatalf("%T is not a usage error: %v", err, err)
			}
			if len(key) >= 8 && strings.Contains(err.Error(), key) {
				t.Fatalf("the key is in the error: %v", err)
			}
			return
		}
		if want, _ := hex.DecodeString(key); !bytes.Equal(o.pskKey, want) || o.pskUsername != identity {
			t.Fatalf("identity %q key %x from %q %q", o.pskUsername, o.pskKey, identity, key)
		}
		c, err := gnutls.NewPSKClientCredentials(o.pskUsername, o.pskKey)
		if err != nil {
			t.Fatalf("accepted options GnuTLS refuses: %v", err)
		}
		c.Close()
	})
}
