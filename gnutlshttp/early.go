package gnutlshttp

import "net/http"

// roundTripEarly sends req as TLS early data on a new connection when it
// may; ok is false when it may not.
func (t *Transport) roundTripEarly(req *http.Request, addr string) (resp *http.Response, err error, ok bool) {
	return nil, nil, false
}
