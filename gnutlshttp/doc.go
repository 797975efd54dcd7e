// Package gnutlshttp runs net/http over GnuTLS: a Transport for
// http.Client and a Server for http.Handlers, each speaking HTTP/2 when
// ALPN selects "h2" (through golang.org/x/net/http2) and HTTP/1.1
// otherwise, with Response.TLS and Request.TLS filled.
//
// net/http negotiates HTTP/2 only over a *tls.Conn, and http.Transport
// fills Response.TLS only for one, so a gnutls.Conn handed to
// http.Transport (DialTLSContext) or http.Server (a gnutls listener) gets
// HTTP/1.1 alone. This package dials and accepts its connections itself
// and gives net/http and x/net/http2 a connection whose ConnectionState
// is crypto/tls's (gnutls.ConnectionState.TLS).
//
// What goes as TLS 1.3 early data (0-RTT): a request safe to replay (GET,
// HEAD or OPTIONS without a body, or one marked with MarkReplaySafe) that
// opens a new connection resuming a session whose ticket allows it, in
// the SYN with Config.FastOpen, over HTTP/2 or HTTP/1.1 as the session
// had. Early data can be replayed by an
// attacker who records it, so nothing else is ever sent that way. On the
// server, a request that arrived in early data carries "Early-Data: 1"
// (RFC 8470); a handler answers 425 Too Early to have the client send it
// again after the handshake, and this package's Transport does so once.
//
// Transport.Proxy, as in http.Transport, sends requests through an
// http:// proxy: https ones through a CONNECT tunnel (early data
// included), plain http ones with their absolute URL.
package gnutlshttp
