package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// NginxStapling starts nginx in the foreground, one process, serving HTTPS with
// the certificate issued by ca and answering every request with "ok";
// server holds more directives for its server block.
func NginxStapling(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, server string) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "nginx")
	caFile, certFile, keyFile := Files(t, ca, leaf)
	dir := filepath.Dir(caFile)
	port := FreePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s;
	proxy_temp_path %[1]s;
	fastcgi_temp_path %[1]s;
	uwsgi_temp_path %[1]s;
	scgi_temp_path %[1]s;
	server {
		listen 127.0.0.1:%[2]d ssl;
		ssl_certificate %[3]s;
		ssl_certificate_key %[4]s;
		ssl_protocols TLSv1.2 TLSv1.3;
		%[5]s
		location / { return 200 "ok\n"; }
	}
}
`, dir, port, certFile, keyFile, server)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, caFile, port, nil, bin, "-p", dir, "-c", confFile, "-e", "stderr")
}
