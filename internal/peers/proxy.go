package peers

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// TinyproxyOptions configures Tinyproxy; the zero value is a loopback
// proxy that allows CONNECT to no port.
type TinyproxyOptions struct {
	// Host is where tinyproxy runs; nil means loopback.
	Host Host
	// Addr (ip:port) is where it listens; empty means a free loopback
	// port.
	Addr string
	// ConnectPorts are the ports CONNECT may reach (tinyproxy's own
	// default, without any, is 443 and 563).
	ConnectPorts []int
	// BasicAuth, "user pass", makes it require Basic authentication
	// (407 Proxy Authentication Required without).
	BasicAuth string
}

// Tinyproxy starts Debian's tinyproxy in the foreground, as nobody, with a
// configuration in a temporary directory. It logs each request it
// receives to Output (see ProxyRequests).
func Tinyproxy(t testing.TB, o TinyproxyOptions) *Server {
	t.Helper()
	bin := "/usr/bin/tinyproxy"
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "tinyproxy")
	}
	if o.Host == nil {
		o.Host = loopback{}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:" + strconv.Itoa(FreePort(t))
	}
	ip, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conf := []string{"Port " + port, "Listen " + ip, "Timeout 30", "MaxClients 50", "LogLevel Connect"}
	if os.Geteuid() == 0 {
		conf = append(conf, "User nobody", "Group nogroup")
	}
	for _, p := range o.ConnectPorts {
		conf = append(conf, "ConnectPort "+strconv.Itoa(p))
	}
	if len(o.ConnectPorts) == 0 {
		conf = append(conf, "ConnectPort 1") // a port nothing listens on: no other is allowed
	}
	if o.BasicAuth != "" {
		conf = append(conf, "BasicAuth "+o.BasicAuth)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(path, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return startOn(t, o.Host, o.Addr, filepath.Join(dir, "none"), nil, nil, bin, "-d", "-c", path)
}

// ProxyRequests returns the request lines tinyproxy logged so far, such
// as "CONNECT localhost:8443 HTTP/1.1".
func ProxyRequests(s *Server) []string {
	var reqs []string
	for _, line := range strings.Split(s.Output(), "\n") {
		if _, r, ok := strings.Cut(line, "]: Request (file descriptor "); ok {
			if _, r, ok = strings.Cut(r, "): "); ok {
				reqs = append(reqs, strings.TrimSpace(r))
			}
		}
	}
	return reqs
}

// SquidReset starts Debian's squid on a free loopback port, as nobody,
// denying every request by resetting its connection (deny_info
// TCP_RESET): a proxy that closes without answering.
func SquidReset(t testing.TB) *Server {
	t.Helper()
	bin := "/usr/sbin/squid"
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "squid")
	}
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	conf := fmt.Sprintf(`http_port %s
pid_filename none
cache_log /dev/stderr
access_log none
cache deny all
visible_hostname squid-test
dns_nameservers 127.0.0.1
pinger_enable off
shutdown_lifetime 0 seconds
acl everyone src all
http_access deny everyone
deny_info TCP_RESET everyone
`, addr)
	if os.Geteuid() == 0 {
		conf += "cache_effective_user nobody\n"
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "squid.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return startOn(t, loopback{}, addr, filepath.Join(dir, "none"), nil, nil, bin, "-N", "-f", path)
}
