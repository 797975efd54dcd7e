package docs_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// block is a fenced block of a Markdown file, under its "## " section.
type block struct {
	section, lang, text string
}

func blocks(t *testing.T, file string) []block {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bs []block
	var cur *block
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{section: section, lang: strings.TrimPrefix(line, "```")}
		case cur != nil && line == "```":
			bs = append(bs, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return bs
}

// readmePort is the port the README's first program uses; the test puts
// a free one in its place.
const readmePort = "5556"

// The README's first program, as a reader would run it: the shell
// commands of its section make the certificate and start gnutls-serv, the
// program is built as a package of this module (so that it builds with
// the module's dependencies, vendored or not) and run beside cert.pem, and
// it prints what the README shows (GnuTLS's names of the algorithms may
// differ between releases).
func TestReadmeFirstProgram(t *testing.T) {
	var sh, prog, out []block
	for _, b := range blocks(t, "../README.md") {
		if b.section != "A first program" {
			continue
		}
		switch b.lang {
		case "sh":
			sh = append(sh, b)
		case "go":
			prog = append(prog, b)
		case "text":
			out = append(out, b)
		}
	}
	if len(sh) != 1 || len(prog) != 1 || len(out) != 1 {
		t.Fatalf("README.md, A first program: %d sh, %d go and %d text blocks; want one of each", len(sh), len(prog), len(out))
	}
	dir := t.TempDir()
	port := strconv.Itoa(peers.FreePort(t))
	started := false
	for _, line := range strings.Split(strings.TrimSpace(sh[0].text), "\n") {
		args := strings.Fields(strings.ReplaceAll(line, readmePort, port))
		bin := testenv.LookPath(t, args[0])
		if args[0] == "gnutls-serv" {
			peers.Command(t, dir, "127.0.0.1:"+port, bin, args[1:]...)
			started = true
			continue
		}
		cmd := exec.Command(bin, args[1:]...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, b)
		}
	}
	if !started {
		t.Fatal("README.md, A first program: no gnutls-serv command")
	}
	src := strings.ReplaceAll(prog[0].text, "localhost:"+readmePort, "localhost:"+port)
	if src == prog[0].text {
		t.Fatalf("the program does not dial localhost:%s", readmePort)
	}
	pkg, err := os.MkdirTemp(".", "_readme-") // "_": outside ./...
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pkg) })
	if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "first")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./"+filepath.ToSlash(pkg))
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	run := exec.Command(bin)
	run.Dir = dir
	got, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the program: %v\n%s", err, got)
	}
	desc := regexp.MustCompile(`\(TLS1\.3\)(-\([A-Z0-9-]+\))+`)
	if g, w := desc.ReplaceAllString(string(got), "DESC"), desc.ReplaceAllString(out[0].text, "DESC"); g != w || !strings.Contains(w, "DESC") {
		t.Fatalf("the program printed\n%s\nthe README shows\n%s", got, out[0].text)
	}
}

// Every relative link in README.md and docs/*.md names a file or a
// directory of the checkout.
func TestReadmeLinks(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links %s: %v", f, m[1], err)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("%d relative links checked; the pattern no longer finds them", checked)
	}
}
