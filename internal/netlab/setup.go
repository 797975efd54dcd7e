package netlab

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// tunName is the name of the TUN interface in each namespace.
const tunName = "netlab0"

// hostAddrs are the addresses of one side of the lab.
type hostAddrs struct {
	name   string
	v4, v6 netip.Prefix
}

var (
	clientAddrs = hostAddrs{"client", netip.MustParsePrefix("198.18.0.1/24"), netip.MustParsePrefix("fd00:198:18::1/64")}
	serverAddrs = hostAddrs{"server", netip.MustParsePrefix("198.18.0.2/24"), netip.MustParsePrefix("fd00:198:18::2/64")}
)

// newHost creates an anonymous network namespace with loopback up and a TUN
// interface carrying a's addresses, and returns the Host and the TUN
// interface's file descriptor (non-blocking).
func newHost(a hostAddrs, mtu int) (*Host, int, error) {
	h := &Host{Name: a.name, Addr4: a.v4.Addr(), Addr6: a.v6.Addr(), nsfd: -1}
	tun := -1
	unshare := func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("netlab: create %s network namespace: %w", a.name, err)
		}
		return nil
	}
	err := inNamespace(unshare, func() error {
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("netlab: open %s network namespace: %w", a.name, err)
		}
		h.nsfd = fd
		if tun, err = openTUN(tunName); err != nil {
			return fmt.Errorf("netlab: create TUN interface in %s namespace: %w", a.name, err)
		}
		if err := configure(a, mtu); err != nil {
			return fmt.Errorf("netlab: configure %s namespace: %w", a.name, err)
		}
		return nil
	})
	if err != nil {
		if tun >= 0 {
			unix.Close(tun)
		}
		h.close()
		return nil, -1, err
	}
	return h, tun, nil
}

// openTUN creates the TUN interface name in the calling thread's namespace
// and returns its non-blocking file descriptor. The interface goes away
// when the descriptor is closed.
func openTUN(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err == nil {
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("TUNSETIFF %s: %w", name, err)
	}
	return fd, nil
}

// configure brings loopback and the TUN interface up in the calling thread's
// namespace and gives the TUN interface a's addresses. The IPv6 address
// skips duplicate address detection, so it is usable at once; the interface
// gets no link-local address, so the kernel sends no router solicitations
// over the link.
func configure(a hostAddrs, mtu int) error {
	for _, kv := range [][2]string{
		{"net/ipv6/conf/" + tunName + "/addr_gen_mode", "1"},
		{"net/ipv6/conf/" + tunName + "/accept_ra", "0"},
	} {
		if err := os.WriteFile("/proc/sys/"+kv[0], []byte(kv[1]), 0); err != nil {
			return err
		}
	}
	nl, err := dialRTNL()
	if err != nil {
		return err
	}
	defer unix.Close(nl.fd)
	ifr, err := unix.NewIfreq(tunName)
	if err != nil {
		return err
	}
	// Any socket answers SIOCGIFINDEX for its namespace.
	if err := unix.IoctlIfreq(nl.fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return fmt.Errorf("index of %s: %w", tunName, err)
	}
	tun := int32(ifr.Uint32())
	lo, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(nl.fd, unix.SIOCGIFINDEX, lo); err != nil {
		return fmt.Errorf("index of lo: %w", err)
	}
	if err := nl.linkUp(int32(lo.Uint32()), 0); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	if err := nl.linkUp(tun, mtu); err != nil {
		return fmt.Errorf("set %s up with MTU %d: %w", tunName, mtu, err)
	}
	for _, p := range []netip.Prefix{a.v4, a.v6} {
		if err := nl.addAddr(tun, p); err != nil {
			return fmt.Errorf("add address %s to %s: %w", p, tunName, err)
		}
	}
	return nil
}

// rtnl is a route netlink socket of the namespace it was opened in.
type rtnl struct {
	fd  int
	seq uint32
}

func dialRTNL() (*rtnl, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open route netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind route netlink socket: %w", err)
	}
	return &rtnl{fd: fd}, nil
}

// linkUp sets interface index up, and its MTU unless mtu is 0.
func (r *rtnl) linkUp(index int32, mtu int) error {
	ne := binary.NativeEndian
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	ne.PutUint32(b[4:], uint32(index))
	ne.PutUint32(b[8:], unix.IFF_UP)  // flags
	ne.PutUint32(b[12:], unix.IFF_UP) // change
	if mtu != 0 {
		b = appendAttr(b, unix.IFLA_MTU, ne.AppendUint32(nil, uint32(mtu)))
	}
	return r.request(unix.RTM_NEWLINK, 0, b)
}

// addAddr adds p to interface index, without duplicate address detection.
func (r *rtnl) addAddr(index int32, p netip.Prefix) error {
	ne := binary.NativeEndian
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0] = unix.AF_INET
	if p.Addr().Is6() {
		b[0] = unix.AF_INET6
	}
	b[1] = byte(p.Bits())
	b[2] = unix.IFA_F_NODAD
	b[3] = unix.RT_SCOPE_UNIVERSE
	ne.PutUint32(b[4:], uint32(index))
	ip := p.Addr().AsSlice()
	b = appendAttr(b, unix.IFA_LOCAL, ip)
	b = appendAttr(b, unix.IFA_ADDRESS, ip)
	b = appendAttr(b, unix.IFA_FLAGS, ne.AppendUint32(nil, unix.IFA_F_NODAD))
	return r.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, b)
}

func appendAttr(b []byte, typ uint16, data []byte) []byte {
	ne := binary.NativeEndian
	b = ne.AppendUint16(b, uint16(unix.SizeofRtAttr+len(data)))
	b = ne.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%unix.NLMSG_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

// request sends one message and waits for the kernel's acknowledgement.
func (r *rtnl) request(typ, flags uint16, body []byte) error {
	ne := binary.NativeEndian
	r.seq++
	b := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	ne.PutUint32(b[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	ne.PutUint32(b[8:], r.seq)
	b = append(b, body...)
	if err := unix.Sendto(r.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(r.fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != r.seq || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return fmt.Errorf("short netlink acknowledgement")
			}
			if e := int32(ne.Uint32(m.Data)); e != 0 {
				return syscall.Errno(-e)
			}
			return nil
		}
	}
}
