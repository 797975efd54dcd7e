package bench

import (
	"bufio"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCrossProcess: the full handshakes of BenchmarkHandshake
// with the peer in another process, the C program on GnuTLS (tlsbench
// serve or dial), as servers and clients are deployed. client/<stack>
// dials a C server, server/<stack> serves a C client; c is the C program
// at both ends, each in its own process. Per batch of handshakeBatch, the
// CPU time of the process under test per handshake (getrusage, user and
// system; for C, what the program reports for its handshakes alone) and
// the handshakes per second of the client's loop. Its name does not
// contain "Handshake", so that the patterns run for BenchmarkHandshake
// leave it out.
func BenchmarkCrossProcess(b *testing.B) {
	b.Run("client", func(b *testing.B) {
		for _, im := range impls {
			b.Run(im.name, func(b *testing.B) {
				procBatches(b, func() (cpu, wall time.Duration) {
					port, wait := startC(b, "serve")
					addr := "127.0.0.1:" + port
					before := selfCPU(b)
					start := time.Now()
					for range handshakeBatch {
						c, err := im.dial(addr)
						if err != nil {
							b.Fatal(err)
						}
						c.Close()
					}
					wall = time.Since(start)
					cpu = selfCPU(b) - before
					wait()
					return cpu, wall
				})
			})
		}
		b.Run("c", func(b *testing.B) {
			procBatches(b, func() (cpu, wall time.Duration) {
				port, wait := startC(b, "serve")
				wall, cpu = runCDial(b, port)
				wait()
				return cpu, wall
			})
		})
	})
	b.Run("server", func(b *testing.B) {
		for _, im := range impls {
			b.Run(im.name, func(b *testing.B) {
				l := im.listen(b, false)
				defer l.Close()
				go func() {
					for {
						c, err := l.Accept()
						if err != nil {
							return
						}
						c.(handshaker).Handshake()
						c.Close()
					}
				}()
				_, port, _ := strings.Cut(l.Addr().String(), ":")
				procBatches(b, func() (cpu, wall time.Duration) {
					before := selfCPU(b)
					wall, _ = runCDial(b, port)
					return selfCPU(b) - before, wall
				})
			})
		}
		b.Run("c", func(b *testing.B) {
			procBatches(b, func() (cpu, wall time.Duration) {
				port, wait := startC(b, "serve")
				wall, _ = runCDial(b, port)
				return wait(), wall
			})
		})
	})
}

// procBatches runs one batch per iteration and reports the medians of
// the CPU time per handshake and of the handshakes per second.
func procBatches(b *testing.B, batch func() (cpu, wall time.Duration)) {
	var cpus, rates []float64
	for range b.N {
		cpu, wall := batch()
		cpus = append(cpus, float64(cpu.Microseconds())/handshakeBatch)
		rates = append(rates, handshakeBatch/wall.Seconds())
	}
	b.ReportMetric(median(cpus), "CPU-µs/handshake")
	b.ReportMetric(median(rates), "handshakes/s")
	b.ReportMetric(0, "ns/op")
}

// selfCPU is this process's CPU time so far, user and system.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startC starts `tlsbench serve` for handshakeBatch handshakes and returns
// its port and a function that waits for it to finish and returns the CPU
// time it reports for them.
func startC(b *testing.B, mode string) (port string, wait func() time.Duration) {
	caFile, certFile, keyFile := pkiFiles(b)
	cmd := exec.Command(cProgram(b), mode, caFile, certFile, keyFile, tls13AES128, strconv.Itoa(handshakeBatch))
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "port ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatalf("tlsbench %s printed %q: %v", mode, line, err)
	}
	return port, func() time.Duration {
		rest, _ := io.ReadAll(r)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("tlsbench %s: %v: %s", mode, err, rest)
		}
		_, cpu := parseCResult(b, string(rest))
		return cpu
	}
}

// runCDial runs `tlsbench dial` for handshakeBatch handshakes with the
// server on 127.0.0.1:port and returns the time and the CPU time it
// reports for them.
func runCDial(b *testing.B, port string) (wall, cpu time.Duration) {
	caFile, certFile, keyFile := pkiFiles(b)
	out, err := exec.Command(cProgram(b), "dial", caFile, certFile, keyFile, tls13AES128, strconv.Itoa(handshakeBatch), port).CombinedOutput()
	if err != nil {
		b.Fatalf("tlsbench dial: %v: %s", err, out)
	}
	return parseCResult(b, string(out))
}

// parseCResult reads "<mode> <count> <seconds> <cpu seconds>".
func parseCResult(b *testing.B, out string) (wall, cpu time.Duration) {
	f := strings.Fields(out)
	if len(f) != 4 {
		b.Fatalf("tlsbench printed %q", out)
	}
	var secs [2]float64
	for i, s := range f[2:] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.Fatalf("tlsbench printed %q", out)
		}
		secs[i] = v
	}
	return time.Duration(secs[0] * float64(time.Second)), time.Duration(secs[1] * float64(time.Second))
}
