// Package bench measures go-gnutls against GnuTLS's own tools, a C program
// on the same GnuTLS (c/tlsbench.c) and Go's crypto/tls. Run it with
// `make bench`; bench/RESULTS.md records the figures and the commands.
package bench

import (
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/bench/internal/benchcfg"
	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// benchCA issues the certificate of the benchmarks.
var benchCA = testpki.NewCA("go-gnutls bench CA")

// pki is the CA and an ECDSA P-256 certificate for the loopback and lab
// addresses.
var pki = struct {
	ca   *testpki.CA
	leaf *testpki.Leaf
}{benchCA, benchCA.Issue(testpki.Options{}, "localhost", "127.0.0.1", "198.18.0.2")}

// tls13AES128 is the priority string of the loopback benchmarks: TLS 1.3,
// AES-128-GCM, X25519.
const tls13AES128 = benchcfg.Priority

func serverConfig() *gnutls.Config { return benchcfg.Server(pki.leaf.TLS) }

func clientConfig() *gnutls.Config { return benchcfg.Client(pki.ca.PEM) }

func goServerConfig() *tls.Config { return benchcfg.GoServer(pki.leaf.TLS) }

func goClientConfig() *tls.Config { return benchcfg.GoClient(pki.ca.PEM) }

// pkiFiles writes the CA, certificate and key for programs that read files.
func pkiFiles(b testing.TB) (caFile, certFile, keyFile string) {
	b.Helper()
	caFile, certFile, keyFile, err := testpki.Files(b.TempDir(), pki.ca, pki.leaf)
	if err != nil {
		b.Fatal(err)
	}
	return caFile, certFile, keyFile
}

// median of d; d is sorted in place.
func median[T ~int64 | ~float64](d []T) T {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

// procStatus returns a field of /proc/self/status, in its unit (kB for
// memory).
func procStatus(tb testing.TB, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// cProgram returns the path of the C benchmark program, built by
// `make bench` (bench/c/tlsbench).
func cProgram(b testing.TB) string {
	b.Helper()
	p, err := filepath.Abs(filepath.Join("c", "tlsbench"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		testenv.Skip(b, p+" is not built: run make bench")
	}
	return p
}

// buildCProgram builds c/tlsbench.c into a temporary directory, with the
// flags of the Makefile's rule (bench/bench.mk), so that a test runs the
// C program's pair modes where `make bench` has not run.
func buildCProgram(tb testing.TB) string {
	tb.Helper()
	flags, err := exec.Command(testenv.LookPath(tb, "pkg-config"), "--cflags", "--libs", "gnutls").Output()
	if err != nil {
		tb.Fatalf("pkg-config gnutls: %v", err)
	}
	bin := filepath.Join(tb.TempDir(), "tlsbench")
	args := append([]string{"-O2", "-Wall", "-o", bin, filepath.Join("c", "tlsbench.c")}, strings.Fields(string(flags))...)
	if out, err := exec.Command(testenv.LookPath(tb, "cc"), append(args, "-lpthread")...).CombinedOutput(); err != nil {
		tb.Fatalf("building c/tlsbench.c: %v\n%s", err, out)
	}
	return bin
}
