package netlab

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// LinkConfig describes the link between the two hosts. Each direction
// applies it on its own.
type LinkConfig struct {
	// Delay is the one-way delay added to every packet.
	Delay time.Duration
	// Jitter adds to each packet's delay a uniform random value in
	// [-Jitter, +Jitter]; the delay never goes below zero.
	Jitter time.Duration
	// Reorder lets jitter reorder packets. Without it a packet never leaves
	// before the one that entered the link ahead of it.
	Reorder bool
	// Loss is the fraction of packets dropped, from 0 to 1.
	Loss float64
	// DropSYNData drops TCP segments (IPv4 and IPv6) that have SYN set and
	// carry payload, as some middleboxes do with TCP Fast Open.
	DropSYNData bool
	// QueueLimit is how many packets may wait in the link per direction;
	// more are dropped. 0 means 10000.
	QueueLimit int
	// MTU of the TUN interfaces; 0 means 1500. Only New uses it.
	MTU int
	// Seed seeds the random numbers for Loss and Jitter, so that a run sees
	// the same decisions for the same packets. Only New uses it.
	Seed int64
}

func (c *LinkConfig) check() error {
	switch {
	case c.Delay < 0 || c.Jitter < 0:
		return fmt.Errorf("netlab: link delay %v and jitter %v must not be negative", c.Delay, c.Jitter)
	case !(c.Loss >= 0 && c.Loss <= 1):
		return fmt.Errorf("netlab: link loss %v is not between 0 and 1", c.Loss)
	case c.QueueLimit < 0:
		return fmt.Errorf("netlab: link queue limit %d is negative", c.QueueLimit)
	case c.MTU != 0 && (c.MTU < 1280 || c.MTU > 65535):
		return fmt.Errorf("netlab: link MTU %d is not between 1280 and 65535", c.MTU)
	}
	return nil
}

func (c LinkConfig) withDefaults() LinkConfig {
	if c.QueueLimit == 0 {
		c.QueueLimit = 10000
	}
	if c.MTU == 0 {
		c.MTU = 1500
	}
	return c
}

// DirStats counts the packets of one direction of the link.
type DirStats struct {
	Packets  uint64 // packets delivered
	Bytes    uint64 // bytes delivered (IP headers included)
	Lost     uint64 // packets dropped by Loss
	SYNData  uint64 // TCP SYN segments with payload dropped by DropSYNData
	Overflow uint64 // packets dropped because QueueLimit packets were waiting
	Errors   uint64 // packets that could not be delivered (see Link.Err)
}

// Stats counts the packets of both directions of the link.
type Stats struct {
	ClientToServer DirStats
	ServerToClient DirStats
}

// A Link passes IP packets between the TUN interfaces of the two hosts.
//
// Each direction has a reader goroutine and a writer goroutine, both parked
// on the Go netpoller: the reader takes packets from one TUN file, drops or
// timestamps them and queues them by due time; the writer waits on a timerfd
// armed for the earliest due time and writes what is due to the other TUN
// file. The kernel's high-resolution timer wakes the writer, so the added
// delay is precise to tens of microseconds, where Go timers (whose netpoller
// sleeps are in whole milliseconds) could be a millisecond late.
type Link struct {
	cfg  atomic.Pointer[LinkConfig]
	dirs [2]*direction
	wg   sync.WaitGroup

	errMu sync.Mutex
	err   error
}

// newLink starts forwarding between the TUN files a (client) and b
// (server). The link owns them from then on, even when newLink fails.
func newLink(cfg LinkConfig, a, b *os.File) (*Link, error) {
	l := new(Link)
	l.cfg.Store(&cfg)
	seeds := rand.NewPCG(uint64(cfg.Seed), 0x6e65746c6162)
	for i, files := range [2][2]*os.File{{a, b}, {b, a}} {
		d, err := newDirection(l, files[0], files[1], cfg.MTU, rand.New(rand.NewPCG(seeds.Uint64(), seeds.Uint64())))
		if err != nil {
			for _, d := range l.dirs[:i] {
				d.close()
			}
			a.Close()
			b.Close()
			return nil, err
		}
		l.dirs[i] = d
	}
	for _, d := range l.dirs {
		l.wg.Add(2)
		go func() { defer l.wg.Done(); d.read() }()
		go func() { defer l.wg.Done(); d.write() }()
	}
	return l, nil
}

// Config returns the link's current configuration.
func (l *Link) Config() LinkConfig { return *l.cfg.Load() }

// SetConfig changes the link's delay, jitter, reordering, loss, SYN-data
// dropping and queue limit for the packets that enter the link from now on.
// MTU and Seed keep the values New was given.
func (l *Link) SetConfig(cfg LinkConfig) error {
	if err := cfg.check(); err != nil {
		return err
	}
	old := l.cfg.Load()
	cfg = cfg.withDefaults()
	cfg.MTU, cfg.Seed = old.MTU, old.Seed
	l.cfg.Store(&cfg)
	return nil
}

// Stats returns the packet counters of both directions.
func (l *Link) Stats() Stats {
	return Stats{ClientToServer: l.dirs[0].stats(), ServerToClient: l.dirs[1].stats()}
}

// Err returns the first error that failed a read or write of the link.
func (l *Link) Err() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.err
}

func (l *Link) fail(err error) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

// close stops forwarding, closes the TUN files (which removes the
// interfaces) and waits for the goroutines to end.
func (l *Link) close() error {
	var errs []error
	for _, d := range l.dirs {
		errs = append(errs, d.close())
	}
	l.wg.Wait()
	return errors.Join(errs...)
}

// A packet waits in a direction's queue until it is due.
type packet struct {
	due time.Time
	seq uint64 // entry order, to keep order among equal due times
	b   []byte
}

// packetQueue is a heap of packets ordered by due time, then entry order.
type packetQueue []*packet

func (q packetQueue) Len() int { return len(q) }
func (q packetQueue) Less(i, j int) bool {
	if c := q[i].due.Compare(q[j].due); c != 0 {
		return c < 0
	}
	return q[i].seq < q[j].seq
}
func (q packetQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *packetQueue) Push(x any)   { *q = append(*q, x.(*packet)) }
func (q *packetQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return p
}

// direction forwards the packets read from src to dst.
type direction struct {
	link     *Link
	src, dst *os.File
	timer    *os.File // timerfd, non-blocking
	mtu      int
	rng      *rand.Rand // used by the reader only
	pool     sync.Pool  // of *packet

	mu      sync.Mutex
	q       packetQueue
	seq     uint64
	last    time.Time // latest due time given, to keep order
	armed   bool
	armedAt time.Time

	packets, bytes, lost, synData, overflow, errs atomic.Uint64
}

func newDirection(l *Link, src, dst *os.File, mtu int, rng *rand.Rand) (*direction, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("netlab: create link timer: %w", err)
	}
	d := &direction{link: l, src: src, dst: dst, timer: os.NewFile(uintptr(fd), "timerfd"), mtu: mtu, rng: rng}
	d.pool.New = func() any { return &packet{b: make([]byte, 0, mtu)} }
	return d, nil
}

func (d *direction) stats() DirStats {
	return DirStats{
		Packets: d.packets.Load(), Bytes: d.bytes.Load(), Lost: d.lost.Load(),
		SYNData: d.synData.Load(), Overflow: d.overflow.Load(), Errors: d.errs.Load(),
	}
}

// close closes the timer and both TUN files of the direction (each TUN file
// is the source of one direction and the destination of the other, and a
// second Close only returns os.ErrClosed).
func (d *direction) close() error {
	var errs []error
	for _, f := range []*os.File{d.timer, d.src} {
		if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("netlab: close %s: %w", f.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// read takes packets from src until it is closed.
func (d *direction) read() {
	buf := make([]byte, 65536)
	for {
		n, err := d.src.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				d.link.fail(fmt.Errorf("netlab: read %s: %w", d.src.Name(), err))
			}
			return
		}
		now := time.Now()
		cfg := d.link.cfg.Load()
		switch {
		case cfg.DropSYNData && synWithPayload(buf[:n]):
			d.synData.Add(1)
			continue
		case cfg.Loss > 0 && d.rng.Float64() < cfg.Loss:
			d.lost.Add(1)
			continue
		}
		delay := cfg.Delay
		if cfg.Jitter > 0 {
			delay += time.Duration(d.rng.Int64N(2*int64(cfg.Jitter)+1)) - cfg.Jitter
			delay = max(delay, 0)
		}
		p := d.pool.Get().(*packet)
		p.b = append(p.b[:0], buf[:n]...)
		p.due = now.Add(delay)
		if !d.push(p, cfg, now) {
			d.pool.Put(p)
			d.overflow.Add(1)
		}
	}
}

// push queues p unless the queue is full, and arms the timer if p is now
// the first packet due.
func (d *direction) push(p *packet, cfg *LinkConfig, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) >= cfg.QueueLimit {
		return false
	}
	if !cfg.Reorder && p.due.Before(d.last) {
		p.due = d.last
	}
	d.last = p.due
	d.seq++
	p.seq = d.seq
	heap.Push(&d.q, p)
	d.armLocked(now)
	return true
}

// armLocked arms the timer for the first packet due, unless it is armed
// for that time or earlier already.
func (d *direction) armLocked(now time.Time) {
	if len(d.q) == 0 {
		return
	}
	due := d.q[0].due
	if d.armed && !due.Before(d.armedAt) {
		return
	}
	// A zero value disarms a timerfd, so a due time already past gets 1ns.
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(max(int64(due.Sub(now)), 1))}
	rc, err := d.timer.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) { err = unix.TimerfdSettime(int(fd), 0, &spec, nil) })
		err = errors.Join(cerr, err)
	}
	if err != nil {
		if !errors.Is(err, os.ErrClosed) {
			d.link.fail(fmt.Errorf("netlab: arm link timer: %w", err))
		}
		return
	}
	d.armed, d.armedAt = true, due
}

// write delivers the packets to dst as they fall due, until the timer is
// closed.
func (d *direction) write() {
	var (
		tick  [8]byte
		batch []*packet
	)
	for {
		if _, err := d.timer.Read(tick[:]); err != nil {
			if !errors.Is(err, os.ErrClosed) {
				d.link.fail(fmt.Errorf("netlab: read link timer: %w", err))
			}
			return
		}
		batch = d.popDue(batch[:0])
		for i, p := range batch {
			if _, err := d.dst.Write(p.b); err != nil {
				if errors.Is(err, os.ErrClosed) {
					return
				}
				d.errs.Add(1)
				d.link.fail(fmt.Errorf("netlab: write %s: %w", d.dst.Name(), err))
			} else {
				d.packets.Add(1)
				d.bytes.Add(uint64(len(p.b)))
			}
			d.pool.Put(p)
			batch[i] = nil
		}
	}
}

// popDue appends to batch the packets that are due and rearms the timer for
// the next one.
func (d *direction) popDue(batch []*packet) []*packet {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	d.armed = false
	for len(d.q) > 0 && !d.q[0].due.After(now) {
		batch = append(batch, heap.Pop(&d.q).(*packet))
	}
	d.armLocked(now)
	return batch
}
