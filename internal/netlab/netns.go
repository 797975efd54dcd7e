package netlab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A Host is one end of the lab: a private, anonymous network namespace with
// a loopback interface and one TUN interface that leads to the other Host.
type Host struct {
	Name  string     // "client" or "server", used in errors
	Addr4 netip.Addr // IPv4 address of the TUN interface
	Addr6 netip.Addr // IPv6 address of the TUN interface

	mu   sync.RWMutex
	nsfd int // open /proc/thread-self/ns/net of the namespace; -1 once closed
}

// inNamespace runs f on a new goroutine locked to an OS thread that enter
// has moved into a network namespace. Afterwards the thread goes back to the
// namespace it came from and is unlocked; if going back fails it stays
// locked, so the runtime ends the thread together with the goroutine. When f
// ends its goroutine (runtime.Goexit, as t.FailNow does), the caller's
// goroutine ends too.
func inNamespace(enter, f func() error) error {
	var (
		err      error
		returned bool
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		runtime.LockOSThread()
		orig, oerr := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if oerr != nil {
			runtime.UnlockOSThread()
			err, returned = fmt.Errorf("netlab: open current network namespace: %w", oerr), true
			return
		}
		defer unix.Close(orig)
		if err = enter(); err != nil {
			runtime.UnlockOSThread()
			returned = true
			return
		}
		defer func() {
			if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread()
			}
		}()
		err = f()
		returned = true
	}()
	<-done
	if !returned {
		runtime.Goexit()
	}
	return err
}

// Do runs f on an OS thread that is inside h's network namespace and returns
// f's error. Sockets created in f belong to the namespace for their whole
// life, so a listener made in Do may Accept on any goroutine, and a
// connection dialled in Do reaches the other Host across the link. Programs
// started in f inherit the namespace (see Start).
//
// f runs on its own goroutine; other goroutines that f starts are not in the
// namespace. Use IP literals only: name resolution inside the namespace has
// no DNS server to reach. f may call t.FailNow.
func (h *Host) Do(f func() error) error {
	return inNamespace(h.enter, f)
}

func (h *Host) enter() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.nsfd < 0 {
		return fmt.Errorf("netlab: %s namespace is closed", h.Name)
	}
	if err := unix.Setns(h.nsfd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netlab: enter %s namespace: %w", h.Name, err)
	}
	return nil
}

// inHost runs f in h's namespace and returns its result.
func inHost[T any](h *Host, f func() (T, error)) (T, error) {
	var v T
	err := h.Do(func() (err error) {
		v, err = f()
		return err
	})
	return v, err
}

// Listen is net.Listen inside h's namespace.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	return inHost(h, func() (net.Listener, error) { return net.Listen(network, address) })
}

// ListenPacket is net.ListenPacket inside h's namespace.
func (h *Host) ListenPacket(network, address string) (net.PacketConn, error) {
	return inHost(h, func() (net.PacketConn, error) { return net.ListenPacket(network, address) })
}

// DialContext is d.DialContext inside h's namespace (a zero Dialer if d is
// nil). address must be an IP literal with a port.
func (h *Host) DialContext(ctx context.Context, d *net.Dialer, network, address string) (net.Conn, error) {
	if _, err := netip.ParseAddrPort(address); err != nil {
		return nil, fmt.Errorf("netlab: dial %s from %s: not an IP literal with a port: %w", address, h.Name, err)
	}
	if d == nil {
		d = new(net.Dialer)
	}
	return inHost(h, func() (net.Conn, error) { return d.DialContext(ctx, network, address) })
}

// Command is exec.Command for a program to be started with h.Start. The
// program gets SIGKILL when the thread that started it ends, which covers
// this process dying, even by SIGKILL.
func (h *Host) Command(name string, arg ...string) *exec.Cmd {
	cmd := exec.Command(name, arg...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Start starts cmd inside h's namespace (the fork happens on the thread that
// is in it); cmd.Start would start it in the namespace of the calling
// thread instead. The caller still waits for cmd. Lab.Close kills every
// process left in the lab's namespaces, including ones started by them.
func (h *Host) Start(cmd *exec.Cmd) error {
	return h.Do(func() error {
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("netlab: start %s in %s namespace: %w", cmd.Path, h.Name, err)
		}
		return nil
	})
}

// sysctlPath maps a dotted net.* sysctl key to its file. Only net.* keys are
// accepted: seen from a namespace other than the initial one, /proc/sys/net
// holds only what belongs to that namespace, while other trees are global.
func sysctlPath(key string) (string, error) {
	if !strings.HasPrefix(key, "net.") || strings.Contains(key, "/") || strings.Contains(key, "..") {
		return "", fmt.Errorf("netlab: sysctl %q: only net.* keys are per network namespace", key)
	}
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/"), nil
}

// Sysctl sets the net.* sysctl key (for example "net.ipv4.tcp_fastopen") in
// h's namespace only.
func (h *Host) Sysctl(key, value string) error {
	path, err := sysctlPath(key)
	if err != nil {
		return err
	}
	return h.Do(func() error {
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return fmt.Errorf("netlab: set sysctl %s in %s namespace: %w", key, h.Name, err)
		}
		return nil
	})
}

// ReadSysctl returns the value of the net.* sysctl key in h's namespace.
func (h *Host) ReadSysctl(key string) (string, error) {
	path, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	return inHost(h, func() (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("netlab: read sysctl %s in %s namespace: %w", key, h.Name, err)
		}
		return strings.TrimSpace(string(b)), nil
	})
}

// TcpExt returns the TcpExt counters of h's namespace (TCPFastOpenActive,
// TCPFastOpenPassive, ...), read from /proc/thread-self/net/netstat on a
// thread in it (/proc/self/net would show the namespace of the main thread).
func (h *Host) TcpExt() (map[string]int64, error) {
	return inHost(h, func() (map[string]int64, error) {
		b, err := os.ReadFile("/proc/thread-self/net/netstat")
		if err != nil {
			return nil, fmt.Errorf("netlab: read TcpExt counters of %s namespace: %w", h.Name, err)
		}
		m, err := parseNetstat(b, "TcpExt")
		if err != nil {
			return nil, fmt.Errorf("netlab: TcpExt counters of %s namespace: %w", h.Name, err)
		}
		return m, nil
	})
}

// parseNetstat returns the counters of one section of /proc/net/netstat or
// /proc/net/snmp, where each section is a line of names followed by a line
// of values, both starting with "Section:".
func parseNetstat(b []byte, section string) (map[string]int64, error) {
	prefix := section + ":"
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != prefix {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		if len(f)-1 != len(names) {
			return nil, fmt.Errorf("%d names but %d values", len(names), len(f)-1)
		}
		m := make(map[string]int64, len(names))
		for i, v := range f[1:] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("counter %s: %w", names[i], err)
			}
			m[names[i]] = n
		}
		return m, nil
	}
	return nil, fmt.Errorf("no %s section", section)
}

// nsID identifies a namespace by the device and inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

func (h *Host) id() (nsID, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var st unix.Stat_t
	if h.nsfd < 0 {
		return nsID{}, fmt.Errorf("netlab: %s namespace is closed", h.Name)
	}
	if err := unix.Fstat(h.nsfd, &st); err != nil {
		return nsID{}, fmt.Errorf("netlab: stat %s namespace: %w", h.Name, err)
	}
	return nsID{st.Dev, st.Ino}, nil
}

// close closes the namespace fd. The kernel frees the namespace once no
// process, thread or socket is left in it.
func (h *Host) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nsfd < 0 {
		return nil
	}
	err := unix.Close(h.nsfd)
	h.nsfd = -1
	if err != nil {
		return fmt.Errorf("netlab: close %s namespace: %w", h.Name, err)
	}
	return nil
}

// killProcesses sends SIGKILL to every other process whose network
// namespace is one of ns, and waits up to timeout for them to exit. It
// rescans, so that children forked meanwhile are killed too. Processes are
// held by pidfd while their namespace is checked, so a recycled PID is never
// signalled.
func killProcesses(ns []nsID, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pidfds, err := signalProcesses(ns)
		if err != nil {
			return err
		}
		if len(pidfds) == 0 {
			return nil
		}
		err = waitExit(pidfds, deadline)
		for _, fd := range pidfds {
			unix.Close(fd)
		}
		if err != nil {
			return err
		}
	}
}

// signalProcesses kills the processes in ns and returns their pidfds.
func signalProcesses(ns []nsID) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("netlab: list processes: %w", err)
	}
	self := os.Getpid()
	var pidfds []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		// The check with signal 0 after the stat proves that the PID still
		// names the process the pidfd holds.
		if unix.Stat("/proc/"+e.Name()+"/ns/net", &st) != nil ||
			!containsNS(ns, nsID{st.Dev, st.Ino}) ||
			unix.PidfdSendSignal(fd, 0, nil, 0) != nil ||
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) != nil {
			unix.Close(fd)
			continue
		}
		pidfds = append(pidfds, fd)
	}
	return pidfds, nil
}

func containsNS(ns []nsID, id nsID) bool {
	for _, n := range ns {
		if n == id {
			return true
		}
	}
	return false
}

// waitExit waits until every pidfd reports that its process has exited.
func waitExit(pidfds []int, deadline time.Time) error {
	pfds := make([]unix.PollFd, len(pidfds))
	for i, fd := range pidfds {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	for len(pfds) > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return errors.New("netlab: killed processes did not exit in time")
		}
		if _, err := unix.Poll(pfds, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return fmt.Errorf("netlab: wait for killed processes: %w", err)
		}
		n := 0
		for _, p := range pfds {
			if p.Revents == 0 {
				pfds[n] = p
				n++
			}
		}
		pfds = pfds[:n]
	}
	return nil
}
