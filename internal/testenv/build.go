package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"testing"
)

// GoBuild builds the command pkg (an import path) into dir with the go
// command that runs the tests, with the race detector when the tests have
// it, and returns the binary's path. With the race detector it also sets
// GORACE (unless set) so that such binaries exit without the race
// runtime's one-second pause.
func GoBuild(dir, pkg string) (string, error) {
	out := filepath.Join(dir, path.Base(pkg))
	args := []string{"build", "-o", out}
	if RaceEnabled {
		args = append(args, "-race")
		if os.Getenv("GORACE") == "" {
			os.Setenv("GORACE", "atexit_sleep_ms=0 halt_on_error=1")
		}
	}
	cmd := GoCommand(append(args, pkg)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// GoCommand returns the go command that runs the tests, with args.
func GoCommand(args ...string) *exec.Cmd {
	return exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
}

// RunWithCommand builds the command pkg (an import path) as GoBuild does
// into a temporary directory, sets *bin to the binary's path, runs the
// tests of m and exits with their status, having removed the directory.
// A build that fails is printed and fails the run.
func RunWithCommand(m *testing.M, pkg string, bin *string) {
	dir, err := os.MkdirTemp("", path.Base(pkg)+"-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin, err = GoBuild(dir, pkg)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
