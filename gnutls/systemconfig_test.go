package gnutls

import (
	"bufio"
	"crypto/tls"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

func TestConfigEnablesKTLS(t *testing.T) {
	for _, tc := range []struct {
		config string
		want   bool
	}{
		{"[global]\nktls = true\n", true},
		{"[ Global ]\n  KTLS=TRUE  \n", true},
		{"# a comment\n[overrides]\nktls = true\n[global]\noverride-mode = blocklist\n", false},
		{"[global]\n; ktls = true\nktls = false\n", false},
		{"ktls = true\n", false},
		{"", false},
	} {
		if got := configEnablesKTLS(bufio.NewScanner(strings.NewReader(tc.config))); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.config, got, tc.want)
		}
	}
}

// protocolVersion is the alert a server sends when it speaks none of the
// client's versions.
const protocolVersion = Alert(70)

// policyMarker tells the child of TestSystemPolicy that the policy file
// is in force.
const policyMarker = "GO_GNUTLS_TEST_POLICY"

// underSystemConfig reports whether the test runs with GnuTLS reading
// config as its system configuration. If not, it runs the test again in a
// child process that does, and the test returns after its own checks.
func underSystemConfig(t *testing.T, config string) bool {
	t.Helper()
	if os.Getenv(policyMarker) != "" {
		if got := SystemPriorityFile(); got != os.Getenv("GNUTLS_SYSTEM_PRIORITY_FILE") {
			t.Errorf("SystemPriorityFile() = %q", got)
		}
		return true
	}
	file := filepath.Join(t.TempDir(), "gnutls.config")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	inChild(t, t.Name(), "GNUTLS_SYSTEM_PRIORITY_FILE="+file, policyMarker+"=1")
	return false
}

// dialPriority dials addr with the test client under priority and echoes a
// line.
func dialPriority(t *testing.T, addr, priority string) (ConnectionState, error) {
	t.Helper()
	cfg := clientConfig()
	cfg.Priority = priority
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		return ConnectionState{}, err
	}
	defer c.Close()
	echo(t, c, "policy")
	return c.ConnectionState(), nil
}

// A system configuration that disables TLS 1.2 is obeyed: an empty
// Priority, @SYSTEM, and even a Priority that asks for TLS 1.2 refuse a
// server that speaks only TLS 1.2, with the server's protocol_version
// alert; without it the same client connects.
func TestSystemPolicy(t *testing.T) {
	tls12 := goTLSServer(t, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	if os.Getenv(policyMarker) == "" {
		if _, err := dialPriority(t, tls12, ""); err != nil {
			t.Fatalf("without the policy: %v", err)
		}
	}
	if !underSystemConfig(t, "[priorities]\nSYSTEM = NORMAL\n\n[overrides]\ndisabled-version = tls1.2\n") {
		return
	}
	for _, prio := range []string{"", "@SYSTEM", "NORMAL:+VERS-TLS1.2"} {
		p, err := ParsePriority(prio)
		if err != nil {
			t.Fatalf("ParsePriority(%q): %v", prio, err)
		}
		if slices.Contains(p.Protocols, "TLS1.2") {
			t.Errorf("priority %q enables TLS 1.2: %v", prio, p.Protocols)
		}
		_, err = dialPriority(t, tls12, prio)
		var alert *AlertError
		if !errors.As(err, &alert) || alert.Description != protocolVersion {
			t.Errorf("priority %q: %v, want the server's protocol_version alert", prio, err)
		} else {
			t.Logf("priority %q: %v", prio, err)
		}
	}
}

// @SYSTEM names the system configuration's SYSTEM string.
func TestSystemKeyword(t *testing.T) {
	if !underSystemConfig(t, "[priorities]\nSYSTEM = NORMAL:-VERS-ALL:+VERS-TLS1.3\n") {
		return
	}
	p, err := ParsePriority("@SYSTEM")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Protocols, []string{"TLS1.3"}) {
		t.Errorf("@SYSTEM enables %v, want TLS1.3 alone", p.Protocols)
	}
	st, err := dialPriority(t, goTLSServer(t, nil), "@SYSTEM")
	if err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("@SYSTEM: version %#x, %v", st.Version, err)
	}
}

// FIPSMode says what gnutls-cli --fips140-mode says of the same library.
func TestFIPSMode(t *testing.T) {
	out, err := exec.Command(testenv.LookPath(t, "gnutls-cli"), "--fips140-mode").CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	cliFIPS := !strings.Contains(string(out), "NOT in FIPS140-2 mode")
	if FIPSMode() != cliFIPS {
		t.Errorf("FIPSMode() = %v; gnutls-cli --fips140-mode: %s", FIPSMode(), out)
	}
}
