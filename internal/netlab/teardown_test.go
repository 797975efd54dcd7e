package netlab

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"golang.org/x/sys/unix"
)

// teardownEnv tells the test binary to run TestTeardownChild: build a lab,
// start a process in it, print what it made, then end as the value says.
const teardownEnv = "NETLAB_TEARDOWN_CHILD"

// TestMain leaves TestTeardownChild out of every run but the child's own
// (-test.skip), so that it neither runs nor shows as skipped.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(teardownEnv) == "" {
		skip := "^TestTeardownChild$"
		if s := flag.Lookup("test.skip").Value.String(); s != "" {
			skip = s + "|" + skip
		}
		flag.Set("test.skip", skip)
	}
	os.Exit(m.Run())
}

// TestTeardownChild is the child process of TestTeardown.
func TestTeardownChild(t *testing.T) {
	mode := os.Getenv(teardownEnv)
	if mode == "" {
		t.Fatal("run by TestTeardown only, with " + teardownEnv + " set")
	}
	l := NewForTest(t, LinkConfig{Delay: time.Millisecond})
	sleep := l.Server.Command("sleep", "600")
	if err := l.Server.Start(sleep); err != nil {
		t.Fatal(err)
	}
	// A connection across the link, so that sockets hold the namespaces.
	c := dial(t, l.Client, nil, echoServer(t, l.Server, l.Server.Addr4))
	roundTrip(t, c, []byte("hello"))
	var ids []string
	for _, h := range []*Host{l.Client, l.Server} {
		id, err := h.id()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprintf("%d:%d", id.dev, id.ino))
	}
	fmt.Printf("lab %s %s %d\n", ids[0], ids[1], sleep.Process.Pid)
	switch mode {
	case "close":
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := sleep.Wait(); err == nil {
			t.Fatal("the process in the lab was not killed")
		}
		fmt.Println("closed")
	case "fatal":
		t.Fatal("failing on purpose; the cleanup closes the lab")
	default: // killed by the parent
		select {}
	}
}

// TestTeardown checks that a lab leaves nothing behind when it is closed,
// when its test fails, and when its process is interrupted or killed: no
// process in its namespaces, no descriptor or process holding them (the
// kernel then frees them and their TUN interfaces), and no interface or
// named namespace added to the host.
func TestTeardown(t *testing.T) {
	testenv.RequireRoot(t)
	for _, mode := range []string{"close", "fatal", "SIGINT", "SIGTERM", "SIGKILL"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestTeardownChild$", "-test.v")
			cmd.Env = append(os.Environ(), teardownEnv+"="+mode)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var clientNS, serverNS string
			var sleepPID int
			var lines []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines = append(lines, sc.Text())
				if _, err := fmt.Sscanf(sc.Text(), "lab %s %s %d", &clientNS, &serverNS, &sleepPID); err == nil {
					break
				}
			}
			if sleepPID == 0 {
				cmd.Wait()
				t.Fatalf("the child built no lab: %q", lines)
			}
			if sig, ok := map[string]syscall.Signal{"SIGINT": unix.SIGINT, "SIGTERM": unix.SIGTERM, "SIGKILL": unix.SIGKILL}[mode]; ok {
				// While the child lives, the check below sees its lab.
				if len(nsHolders(t, clientNS)) == 0 || len(nsHolders(t, serverNS)) == 0 {
					t.Error("found nothing holding the live lab's namespaces")
				}
				cmd.Process.Signal(sig)
			}
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			err = cmd.Wait()
			switch mode {
			case "close":
				if err != nil || !strings.Contains(strings.Join(lines, "\n"), "closed") {
					t.Fatalf("child: %v, output %q", err, lines)
				}
			default:
				if err == nil {
					t.Fatalf("child succeeded, want it to fail or die: %q", lines)
				}
			}
			// The process from Host.Command is gone (SIGKILL from Close,
			// or on the death of the thread that started it).
			waitGone(t, sleepPID)
			for _, ns := range []string{clientNS, serverNS} {
				if who := nsHolders(t, ns); len(who) > 0 {
					t.Errorf("namespace %s still held by %v", ns, who)
				}
			}
		})
	}
	// Other programs may add interfaces meanwhile: look for the lab's.
	if links := hostLinks(t); strings.Contains(links, tunName) {
		t.Errorf("host interfaces: %s", links)
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err == nil && strings.Contains(string(out), "netlab") {
		t.Errorf("ip netns lists %q", out)
	}
}

// hostLinks names the interfaces of the host's namespace.
func hostLinks(t *testing.T) string {
	t.Helper()
	ents, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// waitGone waits until pid no longer exists.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists", pid)
		}
	}
}

// nsHolders lists the threads whose network namespace is ns ("dev:ino")
// and the open descriptors that refer to it.
func nsHolders(t *testing.T, ns string) []string {
	t.Helper()
	var dev, ino uint64
	if _, err := fmt.Sscanf(ns, "%d:%d", &dev, &ino); err != nil {
		t.Fatal(err)
	}
	var who []string
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/ns/net")
	for _, p := range tasks {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Dev == dev && st.Ino == ino {
			who = append(who, p)
		}
	}
	link := fmt.Sprintf("net:[%d]", ino)
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, p := range fds {
		if l, err := os.Readlink(p); err == nil && l == link {
			who = append(who, p)
		}
	}
	return who
}
