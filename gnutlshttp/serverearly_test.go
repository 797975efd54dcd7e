package gnutlshttp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func TestCountRequests(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	post := "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
	chunked := "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	for _, tc := range []struct {
		early string
		want  int
	}{
		{get, 1},
		{get + get, 2},
		{get + "GET /b HT", 2},          // the second begins in early data
		{post, 1},                       // the body is the first request's
		{post[:len(post)-2], 1},         // cut in the body
		{post + get + chunked + get, 4}, // pipelined, bodies of both kinds
		{chunked[:len(chunked)-3], 1},
		{"not HTTP at all\r\n\r\n", 1},
		// The CRLF net/http skips after a POST begins no request.
		{post + "\r\n", 1},
		{post + "\r\n" + get + get, 3},
		{get + "\r\n", 2}, // not after a GET: net/http refuses it
	} {
		if got := countRequests([]byte(tc.early)); got != tc.want {
			t.Errorf("%q: %d requests, want %d", tc.early, got, tc.want)
		}
	}
}

// h2Headers encodes a request's header block, with extra fields.
func h2Headers(path string, extra ...[2]string) []byte {
	var b bytes.Buffer
	enc := hpack.NewEncoder(&b)
	for _, f := range append([][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}, {":path", path}}, extra...) {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return b.Bytes()
}

// decodeStreams reads the frames of an HTTP/2 client stream and returns,
// per stream, whether its request carries early-data: 1.
func decodeStreams(t *testing.T, b []byte) map[uint32]bool {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(http2.ClientPreface)) {
		t.Fatalf("no preface in %q", b)
	}
	fr := http2.NewFramer(nil, bytes.NewReader(b[len(http2.ClientPreface):]))
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = 1 << 20
	marked := map[uint32]bool{}
	for {
		f, err := fr.ReadFrame()
		if errors.Is(err, io.EOF) {
			return marked
		}
		if err != nil {
			t.Fatal(err)
		}
		if mh, ok := f.(*http2.MetaHeadersFrame); ok {
			for _, hf := range mh.RegularFields() {
				marked[mh.StreamID] = marked[mh.StreamID] || hf.Name == "early-data" && hf.Value == "1"
			}
			if mh.PseudoValue("path") == "" {
				t.Fatalf("stream %d: no :path", mh.StreamID)
			}
		}
	}
}

// markH2 marks each stream the early data opens, whatever the shape of
// its header block (padded, split into CONTINUATION frames, a full
// 16384-byte frame), and none that opens after it.
func TestMarkH2(t *testing.T) {
	var early, later bytes.Buffer
	early.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&early, nil)
	fr.WriteSettings()
	block := h2Headers("/1")
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true, PadLength: 7})
	block3 := h2Headers("/3")
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block3[:4], EndStream: true})
	fr.WriteContinuation(3, true, block3[4:])
	// A header block filling a whole frame: a long literal value.
	var big bytes.Buffer
	for n := 16384 - 64; big.Len() != 16384; n++ { // '~' has no shorter Huffman code
		big.Reset()
		big.Write(h2Headers("/5"))
		hpack.NewEncoder(&big).WriteField(hpack.HeaderField{Name: "x", Value: strings.Repeat("~", n)})
		if big.Len() > 16384 {
			t.Fatalf("no header block of 16384 bytes")
		}
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: big.Bytes(), EndStream: true, EndHeaders: true})
	// Stream 7 begins in early data and ends after it.
	block7 := h2Headers("/7")
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 7, BlockFragment: block7[:3], EndStream: true})
	cut := early.Len()
	fr = http2.NewFramer(&later, nil)
	fr.WriteContinuation(7, true, block7[3:])
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 9, BlockFragment: h2Headers("/9"), EndStream: true, EndHeaders: true})
	all := append(early.Bytes(), later.Bytes()...)

	out, err := markH2(all[:cut], bytes.NewReader(all[cut:]))
	if err != nil {
		t.Fatal(err)
	}
	got := decodeStreams(t, out)
	want := map[uint32]bool{1: true, 3: true, 5: true, 7: true, 9: false}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("stream %d marked %v, want %v (all: %v)", id, got[id], w, got)
		}
	}
}

func FuzzMarkH2(f *testing.F) {
	var b bytes.Buffer
	b.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&b, nil)
	fr.WriteSettings()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h2Headers("/"), EndStream: true, EndHeaders: true, PadLength: 3})
	f.Add(b.Bytes(), 30)
	f.Add([]byte(http2.ClientPreface+"\x00\x40\x01\x01\x04\x00\x00\x00\x01"), 20)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		if cut < 0 || cut > len(data) {
			cut = len(data)
		}
		rest := bytes.NewReader(data[cut:])
		out, err := markH2(data[:cut], rest)
		// Marking only adds: what it returned and what it left unread
		// hold all the bytes.
		if err == nil && len(out)+rest.Len() < len(data) {
			t.Fatalf("markH2 returned %d bytes and left %d of %d", len(out), rest.Len(), len(data))
		}
	})
}

func FuzzCountRequests(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if n := countRequests(data); n < 0 || (len(data) > 0 && n == 0) || n > len(data) {
			t.Fatalf("%d requests in %d bytes", n, len(data))
		}
	})
}
