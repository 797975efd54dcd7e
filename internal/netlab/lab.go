package netlab

import (
	"errors"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"golang.org/x/sys/unix"
)

// A Lab is two hosts, Client and Server, joined by a Link.
type Lab struct {
	Client, Server *Host
	Link           *Link

	closeOnce sync.Once
	closeErr  error
}

// killTimeout bounds how long Close waits for killed processes to exit.
const killTimeout = 10 * time.Second

// New builds a lab whose link behaves as cfg says. Close it when done.
// It needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and /dev/net/tun.
func New(cfg LinkConfig) (*Lab, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	client, ctun, err := newHost(clientAddrs, cfg.MTU)
	if err != nil {
		return nil, err
	}
	server, stun, err := newHost(serverAddrs, cfg.MTU)
	if err != nil {
		unix.Close(ctun)
		client.close()
		return nil, err
	}
	link, err := newLink(cfg, ctun, stun)
	if err != nil {
		client.close()
		server.close()
		return nil, err
	}
	return &Lab{Client: client, Server: server, Link: link}, nil
}

// NewForTest is New for tests and benchmarks: the lab is closed at the end
// of t. When the machine cannot build one (no root, no /dev/net/tun), t is
// skipped, or fails when running in CI.
func NewForTest(t testing.TB, cfg LinkConfig) *Lab {
	t.Helper()
	testenv.RequireRoot(t)
	l, err := New(cfg)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) ||
			errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
			testenv.Skip(t, "cannot build a network lab: "+err.Error())
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

// Close kills every process left in the lab's namespaces and waits for
// them to exit, stops the link, removes the TUN interfaces and closes the
// namespaces. The kernel frees a namespace once nothing refers to it: close
// the sockets made in the lab as well. Calling Close again does nothing.
//
// A process that ends without Close (crash, SIGINT, SIGKILL) leaves nothing
// behind either: the namespaces have no name, so the kernel frees them with
// the last fd, and programs from Host.Command get SIGKILL when it dies. For
// this reason the package installs no signal handler.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		var errs []error
		var ns []nsID
		for _, h := range []*Host{l.Client, l.Server} {
			id, err := h.id()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ns = append(ns, id)
		}
		errs = append(errs, killProcesses(ns, killTimeout), l.Link.close(), l.Client.close(), l.Server.close())
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}
