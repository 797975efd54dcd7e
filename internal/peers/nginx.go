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

// NginxOptions configures Nginx; the zero value is a loopback server
// without early data.
type NginxOptions struct {
	// Host is where nginx runs; nil means loopback.
	Host Host
	// Addr (host:port) is where it listens; empty means a free loopback
	// port.
	Addr string
	// EarlyData turns ssl_early_data on: nginx accepts TLS 1.3 early data
	// and answers a request that arrived in it at once, in 0.5-RTT data.
	EarlyData bool
	// TicketKey, 80 bytes, is the session ticket key, so that another
	// server given the same key resumes this one's sessions; nil means a
	// random one.
	TicketKey []byte
	// OCSPStaple, a DER OCSP response, is stapled to every handshake
	// (ssl_stapling_file); nil staples nothing.
	OCSPStaple []byte
}

// Nginx starts Debian's nginx, one process in the foreground, serving
// HTTPS with TLS 1.2 and 1.3, HTTP/2 and TCP Fast Open on its listening
// socket, with the certificate issued by ca. Its error log goes to
// Output, its access log to a file NginxAccessLog reads. It serves
//
//	/          "hello\n"
//	/early...  "$ssl_early_data\n": "1" when the request came in early data
//	/too-early 425 Too Early when the request came in early data, else "ok\n"
//	/big       1 MiB
func Nginx(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, o NginxOptions) *Server {
	t.Helper()
	bin := "/usr/sbin/nginx" // where Debian puts it, outside some users' PATH
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "nginx")
	}
	if o.Host == nil {
		o.Host = loopback{}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:" + strconv.Itoa(FreePort(t))
	}
	if o.TicketKey == nil {
		o.TicketKey = make([]byte, 80)
		rand.Read(o.TicketKey)
	}
	caFile, certFile, keyFile := Files(t, ca, leaf)
	dir := filepath.Dir(caFile)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.Truncate(write("big", nil), 1<<20); err != nil {
		t.Fatal(err)
	}
	tls := []string{"ssl_session_ticket_key " + write("ticket.key", o.TicketKey) + ";"}
	if o.EarlyData {
		tls = append(tls, "ssl_early_data on;")
	}
	if o.OCSPStaple != nil {
		tls = append(tls, "ssl_stapling on;", "ssl_stapling_file "+write("staple.der", o.OCSPStaple)+";")
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // its workers read the files of a test's temporary dir
	}
	conf := fmt.Sprintf(`%[1]s
daemon off;
master_process off;
pid %[2]s/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
	log_format early '$request_method $uri $ssl_early_data $status';
	access_log %[2]s/access.log early;
	client_body_temp_path %[2]s;
	proxy_temp_path %[2]s;
	fastcgi_temp_path %[2]s;
	uwsgi_temp_path %[2]s;
	scgi_temp_path %[2]s;
	default_type text/plain;
	server {
		listen %[3]s ssl http2 fastopen=256;
		server_name localhost;
		ssl_certificate %[4]s;
		ssl_certificate_key %[5]s;
		ssl_protocols TLSv1.2 TLSv1.3;
		%[6]s
		location = / { return 200 "hello\n"; }
		location /early { return 200 "$ssl_early_data\n"; }
		location = /too-early {
			if ($ssl_early_data) { return 425; }
			return 200 "ok\n";
		}
		location = /big { root %[2]s; }
	}
}
`, user, dir, o.Addr, certFile, keyFile, strings.Join(tls, "\n\t\t"))
	return startOn(t, o.Host, o.Addr, caFile, nil, nil, bin, "-p", dir, "-c", write("nginx.conf", []byte(conf)), "-e", "stderr")
}

// NginxAccessLog returns the access log of the nginx that Nginx started
// for s, a line "METHOD URI EARLY STATUS" per request, EARLY being "1"
// for a request received in early data and "-" for one that was not. It
// waits until there are n lines (nginx writes a line after the response),
// or 2 s.
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
