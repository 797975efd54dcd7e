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

// A system configuration that disables TLS 1.2 is obeyed: an empty
// Priority, @SYSTEM, and even a Priority that asks for TLS 1.2 refuse a
// server that speaks only TLS 1.2, with the server's protocol_version
// alert; without it the same client connects.
func TestSystemPolicy(t *testing.T) {
	tls12 := goTLSServer(t, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	dial := func(priority string) error {
		cfg := clientConfig()
		cfg.Priority = priority
		c, err := Dial("tcp", tls12, cfg)
		if err == nil {
			echo(t, c, "policy")
			c.Close()
		}
		return err
	}
	if os.Getenv(policyMarker) == "" {
		if err := dial(""); err != nil {
			t.Fatalf("without the policy: %v", err)
		}
		file := filepath.Join(t.TempDir(), "gnutls.config")
		policy := "[priorities]\nSYSTEM = NORMAL\n\n[overrides]\ndisabled-version = tls1.2\n"
		if err := os.WriteFile(file, []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
		inChild(t, t.Name(), "GNUTLS_SYSTEM_PRIORITY_FILE="+file, policyMarker+"=1")
		return
	}
	if got := SystemPriorityFile(); got != os.Getenv("GNUTLS_SYSTEM_PRIORITY_FILE") {
		t.Errorf("SystemPriorityFile() = %q", got)
	}
	for _, prio := range []string{"", "@SYSTEM", "NORMAL:+VERS-TLS1.2"} {
		p, err := ParsePriority(prio)
		if err != nil {
			t.Fatalf("ParsePriority(%q): %v", prio, err)
		}
		if slices.Contains(p.Protocols, "TLS1.2") {
			t.Errorf("priority %q enables TLS 1.2: %v", prio, p.Protocols)
		}
		err = dial(prio)
		var alert *AlertError
		if !errors.As(err, &alert) || alert.Description != protocolVersion {
			t.Errorf("priority %q: %v, want the server's protocol_version alert", prio, err)
		} else {
			t.Logf("priority %q: %v", prio, err)
		}
	}
}

// @SYSTEM names the system configuration's SYSTEM string; without one
// GnuTLS refuses it.
func TestSystemKeyword(t *testing.T) {
	if os.Getenv(policyMarker) == "" {
		file := filepath.Join(t.TempDir(), "gnutls.config")
		if err := os.WriteFile(file, []byte("[priorities]\nSYSTEM = NORMAL:-VERS-ALL:+VERS-TLS1.3\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		inChild(t, t.Name(), "GNUTLS_SYSTEM_PRIORITY_FILE="+file, policyMarker+"=1")
		return
	}
	p, err := ParsePriority("@SYSTEM")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Protocols, []string{"TLS1.3"}) {
		t.Errorf("@SYSTEM enables %v, want TLS1.3 alone", p.Protocols)
	}
	addr := goTLSServer(t, nil)
	cfg := clientConfig()
	cfg.Priority = "@SYSTEM"
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, "@SYSTEM")
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("version %#x", v)
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
