package main

import (
	"fmt"
	"net/http"
)

// requestLog answers every request with a short description of it and
// its connection, and prints the same as one line on stdout: method,
// path, protocol, whether the session was resumed and whether the
// request arrived in TLS 1.3 early data, as in
//
//	GET /index.html HTTP/2.0 resumed=yes early-data=no
type requestLog struct{ out *lines }

func (h requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resumed := r.TLS != nil && r.TLS.DidResume
	// gnutlshttp.Server marks a request that arrived in early data.
	early := r.Header.Get("Early-Data") == "1"
	line := fmt.Sprintf("%s %s %s resumed=%s early-data=%s", r.Method, r.URL.RequestURI(), r.Proto, yesNo(resumed), yesNo(early))
	h.out.printf("%s", line)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, line)
}
