package peers

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// NginxConfig writes an nginx configuration into dir and returns its
// path: one HTTPS server on addr (host:port) with TLS 1.3 only, HTTP/2,
// TCP Fast Open on the listening socket and early data accepted
// (ssl_early_data on) unless noEarlyData. Its session ticket key is kept
// in dir, so that an nginx started again in dir resumes the sessions of
// the one before. Everything nginx writes stays in dir; access.log
// has a line "METHOD URI EARLY STATUS" per request, EARLY being "1" for
// a request received in early data. It serves
//
//	/          "hello\n"
//	/early     "$ssl_early_data\n": "1" when the request came in early data
//	/too-early 425 Too Early when the request came in early data, else "ok\n"
//	/big       1 MiB
func NginxConfig(dir, addr, certFile, keyFile string, noEarlyData bool) (string, error) {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // its workers read the files of a test's temporary dir
	}
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 1<<20), 0o644); err != nil {
		return "", err
	}
	ticketKey := filepath.Join(dir, "ticket.key")
	if _, err := os.Stat(ticketKey); err != nil {
		key := make([]byte, 80)
		rand.Read(key)
		if err := os.WriteFile(ticketKey, key, 0o600); err != nil {
			return "", err
		}
	}
	early := "on"
	if noEarlyData {
		early = "off"
	}
	conf := fmt.Sprintf(`%[1]s
daemon off;
master_process off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
	log_format early '$request_method $uri $ssl_early_data $status';
	access_log %[2]s/access.log early;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	default_type text/plain;
	server {
		listen %[3]s ssl http2 fastopen=256;
		server_name localhost;
		ssl_certificate %[4]s;
		ssl_certificate_key %[5]s;
		ssl_protocols TLSv1.3;
		ssl_early_data %[6]s;
		ssl_session_ticket_key %[2]s/ticket.key;
		location = / { return 200 "hello\n"; }
		location = /early { return 200 "$ssl_early_data\n"; }
		location = /too-early {
			if ($ssl_early_data) { return 425; }
			return 200 "ok\n";
		}
		location = /big { root %[2]s; }
	}
}
`, user, dir, addr, certFile, keyFile, early)
	p := filepath.Join(dir, "nginx.conf")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

// Nginx starts nginx (see NginxConfig) on a free loopback port with the
// certificate issued by ca.
func Nginx(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf) *Server {
	t.Helper()
	return NginxOn(t, Loopback{}, "127.0.0.1:"+strconv.Itoa(FreePort(t)), t.TempDir(), false, ca, leaf)
}

// NginxOn starts nginx (see NginxConfig) on h, listening on addr, with
// its files in dir.
func NginxOn(t testing.TB, h Host, addr, dir string, noEarlyData bool, ca *testpki.CA, leaf *testpki.Leaf) *Server {
	t.Helper()
	bin := "/usr/sbin/nginx" // where Debian puts it, outside some users' PATH
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "nginx")
	}
	caFile, certFile, keyFile, err := testpki.Files(dir, ca, leaf)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := NginxConfig(dir, addr, certFile, keyFile, noEarlyData)
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, h, addr, caFile, nil, nil, bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
}

// NginxAccessLog returns the access log of the nginx that Nginx or
// NginxOn started for s, one request per line, once it has n lines (nginx
// writes a line after the response), or after 2 s.
func NginxAccessLog(t testing.TB, s *Server, n int) []string {
	t.Helper()
	var lines []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(s.CAFile), "access.log"))
		if err != nil {
			t.Fatal(err)
		}
		lines = nil
		if len(b) > 0 {
			lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		}
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
	}
}
