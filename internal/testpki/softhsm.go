package testpki

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
)

// SoftHSM is a SoftHSM2 token store of its own: a configuration naming a
// token directory, found by the softhsm2 module through SOFTHSM2_CONF
// (see Env). GnuTLS finds the module itself through p11-kit's module
// configuration, which Debian's softhsm2 installs.
type SoftHSM struct {
	Dir  string // holds the configuration and the tokens
	Conf string // the configuration file, for SOFTHSM2_CONF
}

// TokenPIN is the user PIN of every token NewSoftHSM makes.
const TokenPIN = "4711"

// NewSoftHSM makes a token store in dir with a token for each label,
// using softhsm2-util.
func NewSoftHSM(dir string, labels ...string) (*SoftHSM, error) {
	h := &SoftHSM{Dir: dir, Conf: filepath.Join(dir, "softhsm2.conf")}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	conf := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	if err := os.WriteFile(h.Conf, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	for _, l := range labels {
		if err := h.run("softhsm2-util", "--init-token", "--free", "--label", l, "--pin", TokenPIN, "--so-pin", TokenPIN+"0"); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Env is the environment a process needs to see the store.
func (h *SoftHSM) Env() []string {
	return append(os.Environ(), "SOFTHSM2_CONF="+h.Conf)
}

func (h *SoftHSM) run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(h.Env(), "GNUTLS_PIN="+TokenPIN)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testpki: %s %v: %v: %s", name, args, err, out)
	}
	return nil
}

// Import writes the leaf's key and certificate into the token as objects
// named object (p11tool --write) and returns their pkcs11: URLs.
func (h *SoftHSM) Import(token, object string, l *Leaf) (certURL, keyURL string, err error) {
	dir, err := os.MkdirTemp(h.Dir, "import-")
	if err != nil {
		return "", "", fmt.Errorf("testpki: %w", err)
	}
	defer os.RemoveAll(dir)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, l.CertPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("testpki: %w", err)
	}
	if err := os.WriteFile(keyFile, l.KeyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("testpki: %w", err)
	}
	base := "pkcs11:token=" + url.PathEscape(token)
	for _, load := range [][]string{{"--load-privkey", keyFile}, {"--load-certificate", certFile}} {
		args := append([]string{"--login", "--write", "--label", object, "--id", "01"}, load...)
		if err := h.run("p11tool", append(args, base)...); err != nil {
			return "", "", err
		}
	}
	obj := base + ";object=" + url.PathEscape(object)
	return obj + ";type=cert", obj + ";type=private", nil
}
