package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// printReport writes the session report in gnutls-cli's words, adding what
// became of TCP Fast Open, and the chain for --print-cert and --save-cert.
// resuming says the connection tried to resume.
func (c *client) printReport(conn *gnutls.Conn, resuming bool) error {
	w := c.report
	st := conn.ConnectionState()
	chain := conn.Session().PeerCertificatesDER()
	if !st.DidResume && conn.Session().CertificateRequested() {
		sent := 0
		if conn.Session().CertificateSent() {
			sent = 1
		}
		fmt.Fprintf(w, "- Successfully sent %d certificate(s) to server.\n", sent)
		fmt.Fprintln(w, "- Server has requested a certificate.")
	}
	if len(chain) > 0 && !st.DidResume {
		c.printChain(chain)
		if c.o.printCert {
			if err := writeChain(c.stdout, chain); err != nil {
				return fmt.Errorf("--print-cert: %w", err)
			}
		}
		if c.saveCert != nil {
			if err := writeChain(c.saveCert, chain); err != nil {
				return failf("--save-cert: cannot write %s: %v", c.o.saveCert, unwrapPath(err))
			}
			c.saved = true
		}
		fmt.Fprintln(w)
	}
	if c.o.saveOCSP != "" && !st.DidResume {
		if err := c.saveOCSP(st); err != nil {
			return err
		}
	}
	switch {
	case st.DidResume, len(chain) == 0 && st.PSKIdentity != "":
	case c.o.insecure:
		c.printInsecureStatus(chain)
	default:
		fmt.Fprintln(w, "- Status: The certificate is trusted.")
	}
	if c.o.ocsp {
		if err := c.checkOCSP(st, chain); err != nil {
			return err
		}
	}
	printSessionLines(w, conn, st)
	if c.o.verbose {
		c.printAlgorithms(st)
		c.printOCSP(st)
	}
	if st.NegotiatedProtocol != "" {
		fmt.Fprintf(w, "- Application protocol: %s\n", st.NegotiatedProtocol)
	}
	fmt.Fprintf(w, "- TCP Fast Open: %s\n", st.FastOpen)
	if c.o.earlyData != "" && resuming {
		fmt.Fprintf(w, "- Early data: %s\n", earlyDataReport(st))
	}
	if c.o.timing {
		if c.o.fastOpen {
			fmt.Fprintf(w, "- Timing: connect and handshake %s together (fast open)\n", ms(c.timing.handshake))
		} else {
			fmt.Fprintf(w, "- Timing: connect %s, handshake %s\n", ms(c.timing.connect), ms(c.timing.handshake))
		}
	}
	switch {
	case st.DidResume:
		fmt.Fprintln(w, "- Resume Handshake was completed")
		fmt.Fprintln(w, "*** This is a resumed session")
	case resuming:
		fmt.Fprintln(w, "- Handshake was completed")
		fmt.Fprintln(w, "*** Previous session was NOT resumed")
	default:
		fmt.Fprintln(w, "- Handshake was completed")
	}
	return nil
}

// printChain describes the server's chain as gnutls-cli does: the leaf,
// or with -V every certificate in full.
func (c *client) printChain(chain [][]byte) {
	w := c.report
	fmt.Fprintln(w, "- Certificate type: X.509")
	fmt.Fprintf(w, "- Got a certificate list of %d certificates.\n", len(chain))
	for i, der := range chain {
		if i > 0 && !c.o.verbose {
			break
		}
		fmt.Fprintf(w, "- Certificate[%d] info:\n", i)
		if text, err := gnutls.DescribeCertificate(der, c.o.verbose); err != nil {
			fmt.Fprintf(w, " - cannot describe it: %v\n", err)
		} else {
			fmt.Fprintf(w, " - %s\n", strings.TrimRight(text, "\n"))
		}
	}
}

// printRejected shows, when err is the server's certificate being
// rejected, the chain and the verification status, as gnutls-cli does
// before it gives up.
func (c *client) printRejected(err error) {
	var ve *gnutls.CertificateVerificationError
	if !errors.As(err, &ve) || len(ve.Certificates) == 0 {
		return
	}
	c.printChain(ve.Certificates)
	fmt.Fprintln(c.report)
	fmt.Fprintf(c.report, "- Status: %s\n", strings.TrimSpace(ve.Reason))
	fmt.Fprintln(c.report, "*** PKI verification of server certificate failed...")
}

// writeChain writes DER certificates as PEM.
func writeChain(w io.Writer, chain [][]byte) error {
	for _, der := range chain {
		if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
			return err
		}
	}
	return nil
}

// printAlgorithms is the -V detail of the negotiated parameters.
func (c *client) printAlgorithms(st gnutls.ConnectionState) {
	w, in := c.report, st.Info
	fmt.Fprintf(w, "- Version: %s\n", in.Version)
	fmt.Fprintf(w, "- Cipher suite: %s (0x%02x, 0x%02x)\n", in.Suite, st.CipherSuite>>8, st.CipherSuite&0xff)
	if in.KeyExchange != "" {
		fmt.Fprintf(w, "- Key Exchange: %s\n", in.KeyExchange)
	}
	if in.Group != "" {
		fmt.Fprintf(w, "- Group: %s\n", in.Group)
	}
	fmt.Fprintf(w, "- Cipher: %s\n", in.Cipher)
	fmt.Fprintf(w, "- MAC: %s\n", in.MAC)
	switch {
	case st.ServerName == "" || c.o.disableSNI:
		fmt.Fprintln(w, "- Server name: none sent")
	default:
		fmt.Fprintf(w, "- Server name: %s\n", st.ServerName)
	}
	fmt.Fprintf(w, "- Kernel TLS: receive %v, send %v\n", st.KTLSRecv, st.KTLSSend)
}

// printInsecureStatus says what verification, skipped by --insecure,
// would have said of the chain.
func (c *client) printInsecureStatus(chain [][]byte) {
	name := c.o.verifyHostname
	switch {
	case name != "":
	case c.o.sniHostname != "":
		name = c.o.sniHostname
	default:
		name = c.o.host
	}
	st, err := c.trust.VerifyChain(chain, name)
	switch {
	case err != nil:
		fmt.Fprintf(c.report, "- Status: cannot be verified: %v\n", err)
	case st == 0:
		fmt.Fprintln(c.report, "- Status: The certificate is trusted.")
		return
	default:
		fmt.Fprintf(c.report, "- Status: %s\n", strings.TrimSpace(st.String()))
	}
	fmt.Fprintln(c.report, "*** PKI verification of server certificate failed; continuing because of --insecure")
}
