package bench

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// idleConns connections (client and server end each, in one process) sit
// in Read; each stack runs in a fresh process so that one does not leave
// memory to the other.
const idleConns = 1000

// idleEnv names the stack a child process measures.
const idleEnv = "GO_GNUTLS_BENCH_IDLE"

// idleResult is what the child reports.
type idleResult struct {
	ThreadsBefore, ThreadsDuring int64
	RSSBeforeKB, RSSDuringKB     int64
	// GoBefore, GoDuring: bytes the Go runtime holds for heap and stacks.
	GoBefore, GoDuring int64
}

func TestMain(m *testing.M) {
	if name := os.Getenv(idleEnv); name != "" {
		os.Exit(idleChild(name))
	}
	os.Exit(m.Run())
}

// BenchmarkIdle reports OS threads and resident memory per connection with
// idleConns connections blocked in Read.
func BenchmarkIdle(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			var threads, rss, goMem []time.Duration // scaled to sort as durations
			for range b.N {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), idleEnv+"="+im.name)
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("idle child for %s: %v", im.name, err)
				}
				var r idleResult
				if err := json.Unmarshal(out, &r); err != nil {
					b.Fatalf("idle child printed %q: %v", out, err)
				}
				threads = append(threads, time.Duration(r.ThreadsDuring))
				rss = append(rss, time.Duration((r.RSSDuringKB-r.RSSBeforeKB)*1024/idleConns))
				goMem = append(goMem, time.Duration((r.GoDuring-r.GoBefore)/idleConns))
			}
			b.ReportMetric(float64(median(threads)), "threads")
			b.ReportMetric(float64(median(rss))/1024, "KiB/conn-pair")
			b.ReportMetric(float64(median(goMem))/1024, "Go-KiB/conn-pair")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// goMemory is what the Go runtime holds in use for heap and stacks.
func goMemory() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// idleChild opens the connections of one stack, measures, and prints an
// idleResult as JSON.
func idleChild(name string) int {
	var im impl
	for _, i := range impls {
		if i.name == name {
			im = i
		}
	}
	if im.name == "" {
		fmt.Fprintf(os.Stderr, "no stack %q\n", name)
		return 2
	}
	b := &testing.B{}
	settle := func() {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(100 * time.Millisecond)
	}
	l := im.listen(b, true)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Read(make([]byte, 1)) // the handshake, then wait
			}()
		}
	}()
	// One connection first, so that what every connection shares
	// (credentials, code paths) is in place before the baseline.
	first, err := im.dial(l.Addr().String())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer first.Close()
	settle()
	var r idleResult
	r.ThreadsBefore, r.RSSBeforeKB, r.GoBefore = procStatus(b, "Threads"), procStatus(b, "VmRSS"), goMemory()
	conns := make([]net.Conn, 0, idleConns)
	for range idleConns {
		c, err := im.dial(l.Addr().String())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		conns = append(conns, c)
		go c.Read(make([]byte, 1))
	}
	settle()
	r.ThreadsDuring, r.RSSDuringKB, r.GoDuring = procStatus(b, "Threads"), procStatus(b, "VmRSS"), goMemory()
	for _, c := range conns {
		c.Close()
	}
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}
