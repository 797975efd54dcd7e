package gnutls

import (
	"archive/zip"
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// What a module that depends on this one meets: vendoring, a build
// without cgo, and what its binaries link.

// moduleRoot is the checkout's root, the module this package is in.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// goRun runs the go command in dir with env added, and returns its
// combined output.
func goRun(dir string, env []string, args ...string) (string, error) {
	cmd := testenv.GoCommand(args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// offlineProxy makes a module proxy in a directory (GOPROXY=file://...)
// holding this module's dependencies, from its vendor/ when it has one
// (as in the Docker matrix) or else from a vendor tree made from the
// module cache. Nothing is downloaded.
func offlineProxy(t *testing.T, root string) string {
	t.Helper()
	vendor := filepath.Join(root, "vendor")
	if _, err := os.Stat(filepath.Join(vendor, "modules.txt")); err != nil {
		vendor = filepath.Join(t.TempDir(), "vendor")
		if _, err := goRun(root, []string{"GOPROXY=off", "GOFLAGS=-mod=mod"}, "mod", "vendor", "-o", vendor); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.Join(vendor, "modules.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	proxy := t.TempDir()
	var mod, version string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if m, ok := strings.CutPrefix(line, "# "); ok {
			mod, version, _ = strings.Cut(m, " ")
			continue
		}
		if rest, ok := strings.CutPrefix(line, "## explicit"); ok && mod != "" {
			goVersion := "1.16"
			if _, v, ok := strings.Cut(rest, "go "); ok {
				goVersion = v
			}
			writeProxyModule(t, proxy, vendor, mod, version, goVersion)
			mod = ""
		}
	}
	return "file://" + proxy
}

// writeProxyModule writes one module version, its packages taken from
// vendor, in the layout of a GOPROXY.
func writeProxyModule(t *testing.T, proxy, vendor, mod, version, goVersion string) {
	t.Helper()
	dir := filepath.Join(proxy, mod, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	goMod := fmt.Sprintf("module %s\n\ngo %s\n", mod, goVersion)
	files := map[string]string{
		version + ".info": fmt.Sprintf(`{"Version":%q}`, version),
		version + ".mod":  goMod,
		"list":            version + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zf, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	zw := zip.NewWriter(zf)
	prefix := mod + "@" + version + "/"
	w, err := zw.Create(prefix + "go.mod")
	if err == nil {
		_, err = w.Write([]byte(goMod))
	}
	if err == nil {
		src := filepath.Join(vendor, filepath.FromSlash(mod))
		err = filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(src, path)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			w, err := zw.Create(prefix + filepath.ToSlash(rel))
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		})
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// userModule makes a module in a temporary directory that requires this
// one through a replace directive to the checkout, with main.go as its
// program, and returns its directory and the environment for go commands
// in it.
func userModule(t *testing.T, main string) (string, []string) {
	t.Helper()
	root := moduleRoot(t)
	dir := t.TempDir()
	goMod := "module example.com/user\n\ngo 1.26.0\n\nrequire github.com/go-gnutls/go-gnutls v0.0.0\n\nreplace github.com/go-gnutls/go-gnutls => " + root + "\n"
	for name, body := range map[string]string{"go.mod": goMod, "main.go": main} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"GOPROXY=" + offlineProxy(t, root), "GOSUMDB=off", "GOFLAGS=-mod=mod"}
	if _, err := goRun(dir, env, "mod", "tidy"); err != nil {
		t.Fatal(err)
	}
	return dir, env
}

const userProgram = `package main

import (
	"fmt"

	"github.com/go-gnutls/go-gnutls/gnutls"
	_ "github.com/go-gnutls/go-gnutls/gnutlshttp"
)

func main() { fmt.Println(gnutls.Version()) }
`

// A user's module vendors its dependencies and builds from vendor/: the
// C headers in include/ travel with the package that needs them.
func TestUserModuleVendors(t *testing.T) {
	dir, env := userModule(t, userProgram)
	if _, err := goRun(dir, env, "mod", "vendor"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "vendor/github.com/go-gnutls/go-gnutls/include/go_gnutls.h")); err != nil {
		t.Fatalf("go mod vendor left out the headers: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "user")
	if _, err := goRun(dir, []string{"GOPROXY=off", "GOFLAGS=-mod=vendor", "CGO_ENABLED=1"}, "build", "-o", bin, "."); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != Version() {
		t.Fatalf("the vendored program printed %q (%v), want %q", out, err, Version())
	}
	// What a user's binary links: nothing of package testing.
	nm, err := goRun(dir, nil, "tool", "nm", bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(nm, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && strings.HasPrefix(f[len(f)-1], "testing.") {
			t.Fatalf("the user's binary links package testing: %s", line)
		}
	}
}

// Without cgo the build fails with one error, which says what is needed.
func TestBuildWithoutCgo(t *testing.T) {
	check := func(what, out string) {
		t.Helper()
		var errs []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(line, "#") {
				errs = append(errs, line)
			}
		}
		if len(errs) != 1 || !strings.Contains(errs[0], `"gnutls needs cgo: CGO_ENABLED=1, gcc, pkg-config and libgnutls28-dev"`) {
			t.Errorf("%s without cgo: want one error saying what is needed, got:\n%s", what, out)
		}
	}
	out, err := goRun(moduleRoot(t), []string{"CGO_ENABLED=0"}, "build", "./gnutls")
	if err == nil {
		t.Fatal("go build ./gnutls succeeded without cgo")
	}
	check("go build ./gnutls", out)
	dir, env := userModule(t, userProgram)
	out, err = goRun(dir, append(env, "CGO_ENABLED=0"), "build", "-o", os.DevNull, ".")
	if err == nil {
		t.Fatal("a program importing gnutlshttp built without cgo")
	}
	check("a program importing gnutlshttp", out)
}

// The packages a user imports bring nothing test-only into a binary.
func TestNoTestingDependencies(t *testing.T) {
	out, err := goRun(moduleRoot(t), nil, "list", "-deps", "./gnutls", "./gnutlshttp")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(out) {
		switch pkg {
		case "testing", "flag", "regexp":
			t.Errorf("gnutls or gnutlshttp imports %s", pkg)
		}
	}
}

// go doc shows the constants' values, not the C expressions they stand
// for (HeaderVersion alone is C's by nature), and no source file names.
func TestGoDocShowsValues(t *testing.T) {
	out, err := goRun(moduleRoot(t), nil, "doc", "-all", "./gnutls")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "C.") && !strings.HasPrefix(line, "const HeaderVersion = C.GNUTLS_VERSION") {
			t.Errorf("go doc shows a C expression: %s", line)
		}
		if strings.Contains(line, "session.go") {
			t.Errorf("go doc names source files: %s", line)
		}
	}
}
