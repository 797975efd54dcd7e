package netlab

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
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
	Packets uint64 // packets delivered
	Bytes   uint64 // bytes delivered (IP headers included)
	Lost    uint64 // packets dropped by Loss
	SYNData uint64 // TCP SYN segments with payload dropped by DropSYNData
	// SYNDataPassed counts TCP SYN segments with payload (TCP Fast Open
	// data) that entered the link and were not dropped by DropSYNData.
	SYNDataPassed uint64
	Overflow      uint64 // packets dropped because QueueLimit packets were waiting
	Errors        uint64 // packets that could not be delivered (see Link.Err)
	// Late is the total time delivered packets spent in the link beyond
	// their due time, up to the start of their write to the receiving TUN
	// interface; MaxLate the most any one of them did.
	Late, MaxLate time.Duration
}

// Stats counts the packets of both directions of the link.
type Stats struct {
	ClientToServer DirStats
	ServerToClient DirStats
}

// A Link passes IP packets between the TUN interfaces of the two hosts.
//
// Each direction has a reader and a writer, each on an OS thread of its
// own that waits in poll(2), so that the kernel wakes it directly rather
// than through the Go scheduler. The reader takes packets from one TUN
// interface, drops or timestamps them and queues them by due time; the
// writer sleeps on a timerfd armed spinMargin before the earliest due time,
// then spins until that time and writes the packet to the other TUN
// interface. The spin absorbs the wake-up latency of the sleep, so packets
// leave within microseconds of their due time unless the machine is too
// loaded to run the writer's thread (DirStats.Late tells). Both threads run
// with real-time priority (SCHED_FIFO) when the process may set it, so
// that other processes on a busy machine do not delay their wake-up; they
// end with the link and the priority with them.
type Link struct {
	cfg  atomic.Pointer[LinkConfig]
	dirs [2]*direction
	stop int // eventfd, readable once the link is closing
	tuns [2]int
	wg   sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	errMu sync.Mutex
	err   error
}

// spinMargin is how long before a packet's due time its writer wakes up to
// spin: more than the usual wake-up latency of a thread on a loaded
// machine, and little CPU at the packet rates of tests.
const spinMargin = 300 * time.Microsecond

// newLink starts forwarding between the TUN interfaces a (client) and b
// (server). The link owns their descriptors from then on, even when
// newLink fails.
func newLink(cfg LinkConfig, a, b int) (*Link, error) {
	l := &Link{tuns: [2]int{a, b}, stop: -1}
	l.cfg.Store(&cfg)
	fail := func(err error) (*Link, error) {
		l.closeFDs()
		return nil, err
	}
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fail(fmt.Errorf("netlab: create link eventfd: %w", err))
	}
	l.stop = stop
	seeds := rand.NewPCG(uint64(cfg.Seed), 0x6e65746c6162)
	for i, fds := range [2][2]int{{a, b}, {b, a}} {
		d, err := newDirection(l, fds[0], fds[1], cfg.MTU, rand.New(rand.NewPCG(seeds.Uint64(), seeds.Uint64())))
		if err != nil {
			return fail(err)
		}
		l.dirs[i] = d
	}
	names := [2]string{"client to server", "server to client"}
	for i, d := range l.dirs {
		d.name = names[i]
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

// close stops forwarding, waits for the threads to end and closes the TUN
// descriptors (which removes the interfaces) and the timers.
func (l *Link) close() error {
	l.closeOnce.Do(func() {
		if _, err := unix.Write(l.stop, []byte{1, 0, 0, 0, 0, 0, 0, 0}); err != nil {
			l.closeErr = fmt.Errorf("netlab: stop link: %w", err)
			return // the threads still use the descriptors: leave them open
		}
		l.wg.Wait()
		l.closeErr = l.closeFDs()
	})
	return l.closeErr
}

func (l *Link) closeFDs() error {
	fds := []int{l.stop, l.tuns[0], l.tuns[1]}
	for _, d := range l.dirs {
		if d != nil {
			fds = append(fds, d.timer)
		}
	}
	var errs []error
	for _, fd := range fds {
		if fd >= 0 {
			if err := unix.Close(fd); err != nil {
				errs = append(errs, fmt.Errorf("netlab: close link descriptor: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// wait blocks the calling thread in poll(2) until fd is ready for events
// or the link is closing, which it reports as false.
func (l *Link) wait(fd int, events int16) (bool, error) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: events}, {Fd: int32(l.stop), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd, -1)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return false, os.NewSyscallError("poll", err)
		case pfd[1].Revents != 0:
			return false, nil
		}
		return true, nil
	}
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
	name     string
	src, dst int // TUN descriptors
	timer    int // timerfd, non-blocking
	mtu      int
	rng      *rand.Rand // used by the reader only
	pool     sync.Pool  // of *packet

	mu      sync.Mutex
	q       packetQueue
	seq     uint64
	last    time.Time // latest due time given, to keep order
	armed   bool
	armedAt time.Time // the due time the timer is armed for

	packets, bytes, lost, synData, synDataPassed, overflow, errs atomic.Uint64
	late, maxLate                                                atomic.Int64
}

func newDirection(l *Link, src, dst, mtu int, rng *rand.Rand) (*direction, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("netlab: create link timer: %w", err)
	}
	d := &direction{link: l, src: src, dst: dst, timer: fd, mtu: mtu, rng: rng}
	d.pool.New = func() any { return &packet{b: make([]byte, 0, mtu)} }
	return d, nil
}

func (d *direction) stats() DirStats {
	return DirStats{
		Packets: d.packets.Load(), Bytes: d.bytes.Load(), Lost: d.lost.Load(),
		SYNData: d.synData.Load(), SYNDataPassed: d.synDataPassed.Load(),
		Overflow: d.overflow.Load(), Errors: d.errs.Load(),
		Late: time.Duration(d.late.Load()), MaxLate: time.Duration(d.maxLate.Load()),
	}
}

// read takes packets from src until the link closes. It keeps its OS
// thread, which ends with it.
func (d *direction) read() {
	lockRealTime()
	buf := make([]byte, 65536)
	for {
		n, err := unix.Read(d.src, buf)
		switch {
		case err == unix.EAGAIN:
			ok, err := d.link.wait(d.src, unix.POLLIN)
			if err != nil {
				d.link.fail(fmt.Errorf("netlab: link %s: %w", d.name, err))
			}
			if !ok {
				return
			}
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			d.link.fail(fmt.Errorf("netlab: link %s: read TUN: %w", d.name, err))
			return
		}
		d.take(buf[:n], time.Now())
	}
}

// take queues the packet b that arrived at now, or drops it.
func (d *direction) take(b []byte, now time.Time) {
	cfg := d.link.cfg.Load()
	if synWithPayload(b) {
		if cfg.DropSYNData {
			d.synData.Add(1)
			return
		}
		d.synDataPassed.Add(1)
	}
	if cfg.Loss > 0 && d.rng.Float64() < cfg.Loss {
		d.lost.Add(1)
		return
	}
	delay := cfg.Delay
	if cfg.Jitter > 0 {
		delay += time.Duration(d.rng.Int64N(2*int64(cfg.Jitter)+1)) - cfg.Jitter
		delay = max(delay, 0)
	}
	p := d.pool.Get().(*packet)
	p.b = append(p.b[:0], b...)
	p.due = now.Add(delay)
	if !d.push(p, cfg, now) {
		d.pool.Put(p)
		d.overflow.Add(1)
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

// armLocked arms the timer to fire spinMargin before the first packet is
// due, unless it is armed for that packet or an earlier one already.
func (d *direction) armLocked(now time.Time) {
	if len(d.q) == 0 {
		return
	}
	due := d.q[0].due
	if d.armed && !due.Before(d.armedAt) {
		return
	}
	// A zero value disarms a timerfd, so a time already past gets 1ns.
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(max(int64(due.Sub(now)-spinMargin), 1))}
	if err := unix.TimerfdSettime(d.timer, 0, &spec, nil); err != nil {
		d.link.fail(fmt.Errorf("netlab: link %s: arm timer: %w", d.name, err))
		return
	}
	d.armed, d.armedAt = true, due
}

// write delivers the packets to dst as they fall due, until the link
// closes. It keeps its OS thread, which ends with it.
func (d *direction) write() {
	lockRealTime()
	var (
		tick  [8]byte
		batch []*packet
	)
	for {
		ok, err := d.link.wait(d.timer, unix.POLLIN)
		if err != nil {
			d.link.fail(fmt.Errorf("netlab: link %s: %w", d.name, err))
		}
		if !ok {
			return
		}
		if _, err := unix.Read(d.timer, tick[:]); err != nil && err != unix.EAGAIN {
			d.link.fail(fmt.Errorf("netlab: link %s: read timer: %w", d.name, err))
			return
		}
		batch = d.popDue(batch[:0])
		for i, p := range batch {
			for time.Now().Before(p.due) {
				// Spin: a sleep this short would overshoot.
			}
			d.send(p)
			d.pool.Put(p)
			batch[i] = nil
		}
	}
}

// send writes p to dst.
func (d *direction) send(p *packet) {
	for {
		start := time.Now()
		_, err := unix.Write(d.dst, p.b)
		switch err {
		case nil:
			d.delivered(p, start.Sub(p.due))
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if ok, _ := d.link.wait(d.dst, unix.POLLOUT); ok {
				continue
			}
			d.errs.Add(1)
		default:
			d.errs.Add(1)
			d.link.fail(fmt.Errorf("netlab: link %s: write TUN: %w", d.name, err))
		}
		return
	}
}

// delivered counts p as written late after its due time.
func (d *direction) delivered(p *packet, lateBy time.Duration) {
	d.packets.Add(1)
	d.bytes.Add(uint64(len(p.b)))
	late := int64(lateBy)
	d.late.Add(late)
	for {
		m := d.maxLate.Load()
		if late <= m || d.maxLate.CompareAndSwap(m, late) {
			return
		}
	}
}

// popDue appends to batch the packets due within spinMargin, in order, and
// rearms the timer for the next one.
func (d *direction) popDue(batch []*packet) []*packet {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	d.armed = false
	for len(d.q) > 0 && d.q[0].due.Sub(now) <= spinMargin {
		batch = append(batch, heap.Pop(&d.q).(*packet))
	}
	d.armLocked(now)
	return batch
}

// lockRealTime locks the calling goroutine to its OS thread for good (the
// thread ends with the goroutine) and gives the thread real-time priority
// if it may have it. Without it the link still works, with wake-ups as
// late as the machine's load makes them.
func lockRealTime() {
	runtime.LockOSThread()
	unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 1}, 0)
}
