package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// demoPort is where the demo server listens, in its own namespace.
const demoPort = 4433

// step is one run of gnutls-cli-go and what its report must show.
type step struct {
	title string
	args  []string
	want  []string
}

// demo builds the lab and runs the demo in it.
func demo(w io.Writer, cli string, delay time.Duration) error {
	if _, err := os.Stat(cli); err != nil {
		return fmt.Errorf("gnutls-cli-go binary %s: %w (build it with `make build`)", cli, err)
	}
	if err := checkPrivileges(); err != nil {
		return err
	}
	lab, err := netlab.New(netlab.LinkConfig{Delay: delay})
	if err != nil {
		return fmt.Errorf("cannot build the network namespaces: %w\n%s", err, privilegeHint)
	}
	defer lab.Close()
	return runDemo(w, lab, cli)
}

// runDemo starts the server in lab and runs the steps, writing a readable
// account to w. It fails when a step does not show what it is meant to.
func runDemo(w io.Writer, lab *netlab.Lab, cli string) error {
	delay := lab.Link.Config().Delay
	for _, s := range []struct {
		h     *netlab.Host
		value string
		what  string
	}{{lab.Server, "3", "client and server"}, {lab.Client, "1", "client"}} {
		if err := s.h.Sysctl("net.ipv4.tcp_fastopen", s.value); err != nil {
			return fmt.Errorf("cannot enable TCP Fast Open (%s) in the %s namespace: %w\n"+
				"The demo writes net.ipv4.tcp_fastopen=%s in its own namespaces only; it needs a writable /proc/sys (in a container: --security-opt systempaths=unconfined, see docker/README.md)",
				s.what, s.h.Name, err, s.value)
		}
	}

	dir, err := os.MkdirTemp("", "gnutls-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ca := testpki.NewCA("go-gnutls demo CA")
	leaf := ca.Issue(testpki.Options{}, lab.Server.Addr4.String())
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		return err
	}
	addr := netip.AddrPortFrom(lab.Server.Addr4, demoPort)
	earlyFile := filepath.Join(dir, "request.txt")
	if err := os.WriteFile(earlyFile, []byte("GET / (sent as early data)\n"), 0o644); err != nil {
		return err
	}
	srv := &gnutls.Config{Certificates: []tls.Certificate{leaf.TLS}, FastOpen: true, MaxEarlyData: 16 << 10}
	var ln net.Listener
	if err := lab.Server.Do(func() (err error) {
		ln, err = gnutls.Listen("tcp", addr.String(), srv)
		return err
	}); err != nil {
		return fmt.Errorf("start the demo server: %w", err)
	}
	defer peers.Serve(ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(time.Minute))
		io.Copy(c, c)
	})()

	fmt.Fprintf(w, "TCP Fast Open demo: gnutls-cli-go in namespace %q (%s) talks to this module's\n", lab.Client.Name, lab.Client.Addr4)
	fmt.Fprintf(w, "TLS echo server in namespace %q (%s), over a link with %s of delay each\n", lab.Server.Name, addr, delay)
	fmt.Fprintf(w, "way: one round trip is %s. net.ipv4.tcp_fastopen is 1 for the client, 3 for the server.\n", 2*delay)
	common := []string{"--x509cafile", caFile, "-p", fmt.Sprint(demoPort), "--timing"}
	steps := []step{
		{"1. First connection with --fastopen: the kernel has no cookie for the server yet, so the SYN only asks for one",
			[]string{"--fastopen"}, []string{"- TCP Fast Open: requested, not used"}},
		{"2. Second connection with --fastopen: the SYN carries a cookie and the ClientHello, saving a round trip",
			[]string{"--fastopen"}, []string{"- TCP Fast Open: used, the ClientHello travelled in the SYN"}},
		{"3. -r with --fastopen: a full handshake, then one that resumes its session, both with fast open",
			[]string{"--fastopen", "-r"}, []string{"*** This is a resumed session", "- TCP Fast Open: used"}},
		{"4. -r with --fastopen and --earlydata: the resumed connection's SYN carries the ClientHello and a request",
			[]string{"--fastopen", "-r", "--earlydata", earlyFile}, []string{"- Early data: accepted", "- TCP Fast Open: used, the ClientHello and the early data travelled in the SYN"}},
		{"5. Without --fastopen, for comparison: the TCP handshake costs its own round trip",
			nil, []string{"- TCP Fast Open: not requested"}},
	}
	var timings []string
	for _, s := range steps {
		fmt.Fprintf(w, "\n=== %s\n", s.title)
		args := append(append(append([]string{}, s.args...), common...), lab.Server.Addr4.String())
		fmt.Fprintf(w, "$ gnutls-cli-go %s <<< 'hello over TLS'\n", strings.Join(args, " "))
		out, err := runCLI(lab.Client, cli, args, w)
		if err != nil {
			return fmt.Errorf("step %q: %w", s.title, err)
		}
		for _, want := range s.want {
			if !strings.Contains(out, want) {
				return fmt.Errorf("step %q: the report lacks %q", s.title, want)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "- Timing: connect") {
				timings = append(timings, fmt.Sprintf("step %s: %s", s.title[:1], strings.TrimPrefix(line, "- Timing: ")))
			}
		}
	}
	fmt.Fprintf(w, "\n=== Time to a usable TLS connection (round trip %s)\n", 2*delay)
	for _, t := range timings {
		fmt.Fprintln(w, t)
	}
	active, err1 := counter(lab.Client, "TCPFastOpenActive")
	passive, err2 := counter(lab.Server, "TCPFastOpenPassive")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n=== Kernel counters: client TCPFastOpenActive=%d, server TCPFastOpenPassive=%d\n", active, passive)
	fmt.Fprintln(w, "(connections whose SYN carried data the server accepted, as each side counted them)")
	return nil
}

// runCLI runs gnutls-cli-go in h with a line on stdin, copies what it
// prints to w indented, and returns it.
func runCLI(h *netlab.Host, cli string, args []string, w io.Writer) (string, error) {
	cmd := h.Command(cli, args...)
	cmd.Stdin = strings.NewReader("hello over TLS\n")
	var out bytes.Buffer
	iw := &indentWriter{w: io.MultiWriter(w), buf: &out}
	cmd.Stdout, cmd.Stderr = iw, iw
	if err := h.Start(cmd); err != nil {
		return "", err
	}
	err := cmd.Wait()
	iw.flush()
	if err != nil {
		return out.String(), fmt.Errorf("gnutls-cli-go failed: %w", err)
	}
	return out.String(), nil
}

// indentWriter copies whole lines to w with an indent, and keeps them in buf.
type indentWriter struct {
	w    io.Writer
	buf  *bytes.Buffer
	line []byte
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	iw.buf.Write(p)
	iw.line = append(iw.line, p...)
	for {
		i := bytes.IndexByte(iw.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		fmt.Fprintf(iw.w, "    %s\n", iw.line[:i])
		iw.line = iw.line[i+1:]
	}
}

func (iw *indentWriter) flush() {
	if len(iw.line) > 0 {
		fmt.Fprintf(iw.w, "    %s\n", iw.line)
		iw.line = nil
	}
}

func counter(h *netlab.Host, name string) (int64, error) {
	m, err := h.TcpExt()
	if err != nil {
		return 0, err
	}
	return m[name], nil
}

const privilegeHint = "The demo needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and /dev/net/tun: run `sudo make demo`;\n" +
	"in a container, start it with --privileged (or --cap-add SYS_ADMIN --cap-add NET_ADMIN --device /dev/net/tun)."

// checkPrivileges says what is missing before anything is built.
func checkPrivileges() error {
	if os.Geteuid() != 0 {
		return errors.New("not running as root.\n" + privilegeHint)
	}
	if _, err := os.Stat("/dev/net/tun"); errors.Is(err, fs.ErrNotExist) {
		return errors.New("/dev/net/tun is missing: load the tun module (`modprobe tun`), or in a container add --device /dev/net/tun.\n" + privilegeHint)
	}
	return nil
}
