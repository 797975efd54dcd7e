// Command demo shows TCP Fast Open end to end: this module's TLS server,
// with fast open on and a certificate made on the spot, listens in a
// private network namespace joined to a second one by a link with a few
// milliseconds of delay; gnutls-cli-go connects to it from the second
// namespace three times. `make demo` builds gnutls-cli-go and runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	cli := flag.String("cli", "bin/gnutls-cli-go", "the gnutls-cli-go binary to run")
	delay := flag.Duration("delay", 10*time.Millisecond, "one-way delay of the link between the namespaces")
	flag.Parse()
	if err := demo(os.Stdout, *cli, *delay); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
