package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// NginxEarlyConfig configures Nginx.
type NginxEarlyConfig struct {
	// EarlyData turns ssl_early_data on: nginx accepts TLS 1.3 early data
	// and answers a request that arrived in it at once, in 0.5-RTT data.
	EarlyData bool
	// TicketKey, 80 bytes, is the session ticket key
	// (ssl_session_ticket_key), so that a second server resumes the
	// first's sessions; nil leaves nginx its own random key.
	TicketKey []byte
	// Listen holds extra parameters of the listen directive, such as
	// "http2" or "fastopen=16".
	Listen string
	// Server holds the server block's directives after the TLS ones; empty
	// means a location answering every request with "early=" and
	// $ssl_early_data ("1" for a request received in early data) and a
	// line break.
	Server string
}

// NginxLogFormat is the access log line Nginx writes to its output for
// each request: "request=<request line> early=<$ssl_early_data>
// reused=<$ssl_session_reused>".
const NginxLogFormat = `request="$request" early=$ssl_early_data reused=$ssl_session_reused`

// NginxEarly starts Debian's nginx on a loopback port, in one process (no
// master, no daemon), serving TLS 1.3 only with the certificate issued by
// ca. Its access log (NginxLogFormat) and error log go to Output.
func NginxEarly(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, cfg NginxEarlyConfig) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "nginx")
	caFile, certFile, keyFile := Files(t, ca, leaf)
	dir := filepath.Dir(caFile)
	port := FreePort(t)
	var tls []string
	if cfg.EarlyData {
		tls = append(tls, "ssl_early_data on;")
	}
	if cfg.TicketKey != nil {
		key := filepath.Join(dir, "ticket.key")
		if err := os.WriteFile(key, cfg.TicketKey, 0o600); err != nil {
			t.Fatal(err)
		}
		tls = append(tls, "ssl_session_ticket_key "+key+";")
	}
	server := cfg.Server
	if server == "" {
		server = `location / { return 200 "early=$ssl_early_data\n"; }`
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
	log_format peers '%[2]s';
	access_log /dev/stdout peers;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[3]d ssl %[4]s;
		ssl_certificate %[5]s;
		ssl_certificate_key %[6]s;
		ssl_protocols TLSv1.3;
		%[7]s
		%[8]s
	}
}
`, dir, NginxLogFormat, port, cfg.Listen, certFile, keyFile, strings.Join(tls, "\n\t\t"), server)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, caFile, port, nil, bin, "-e", "stderr", "-p", dir, "-c", confFile)
}

// NginxRequests returns the access log lines of Output: one per request,
// in NginxLogFormat.
func (s *Server) NginxRequests() []string {
	var lines []string
	for _, l := range strings.Split(s.Output(), "\n") {
		if strings.HasPrefix(l, "request=") {
			lines = append(lines, l)
		}
	}
	return lines
}
