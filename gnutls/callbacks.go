package gnutls

// The callbacks GnuTLS calls for a transport set with Session.SetTransport.
// This file's preamble only declares: cgo copies it into two C files.

// #cgo pkg-config: gnutls
// #include <gnutls/gnutls.h>
// #include <sys/types.h>
// #include <errno.h>
import "C"

import "unsafe"

//export goGnutlsPull
func goGnutlsPull(ptr C.gnutls_transport_ptr_t, data unsafe.Pointer, n C.size_t, errp *C.int) C.ssize_t {
	t := restoreTransport(unsafe.Pointer(ptr))
	got, errno := t.pull(unsafe.Slice((*byte)(data), int(n)))
	if errno != 0 {
		*errp = C.int(errno)
		return -1
	}
	return C.ssize_t(got)
}

//export goGnutlsVecPush
func goGnutlsVecPush(ptr C.gnutls_transport_ptr_t, iov unsafe.Pointer, iovcnt C.int, errp *C.int) C.ssize_t {
	t := restoreTransport(unsafe.Pointer(ptr))
	vec := unsafe.Slice((*C.giovec_t)(iov), int(iovcnt))
	bufs := make([][]byte, 0, len(vec))
	for _, v := range vec {
		if v.iov_len > 0 {
			bufs = append(bufs, unsafe.Slice((*byte)(v.iov_base), int(v.iov_len)))
		}
	}
	sent, errno := t.push(bufs)
	if errno != 0 {
		*errp = C.int(errno)
		return -1
	}
	return C.ssize_t(sent)
}

//export goGnutlsPullTimeout
func goGnutlsPullTimeout(ptr C.gnutls_transport_ptr_t, ms C.uint, errp *C.int) C.int {
	t := restoreTransport(unsafe.Pointer(ptr))
	ready, errno := t.pullTimeout(uint(ms))
	if errno != 0 {
		*errp = C.int(errno)
		return -1
	}
	if ready {
		return 1
	}
	return 0
}

//export goGnutlsPSKServerKey
func goGnutlsPSKServerKey(h, identity unsafe.Pointer, n C.uint, key *C.gnutls_datum_t) C.int {
	return restoreHooks(h).pskKey(C.GoStringN((*C.char)(identity), C.int(n)), key)
}

//export goGnutlsCacheStore
func goGnutlsCacheStore(h, key unsafe.Pointer, keyLen C.uint, data unsafe.Pointer, dataLen C.uint, expires C.longlong) C.int {
	return restoreHooks(h).cacheStore(C.GoStringN((*C.char)(key), C.int(keyLen)), C.GoBytes(data, C.int(dataLen)), int64(expires))
}

//export goGnutlsCacheRetrieve
func goGnutlsCacheRetrieve(h, key unsafe.Pointer, keyLen C.uint, data *C.gnutls_datum_t) {
	restoreHooks(h).cacheRetrieve(C.GoStringN((*C.char)(key), C.int(keyLen)), data)
}

//export goGnutlsCacheRemove
func goGnutlsCacheRemove(h, key unsafe.Pointer, keyLen C.uint) C.int {
	return restoreHooks(h).cacheRemove(C.GoStringN((*C.char)(key), C.int(keyLen)))
}

//export goGnutlsClientHello
func goGnutlsClientHello(h unsafe.Pointer, s C.gnutls_session_t, msg unsafe.Pointer, n C.uint) {
	restoreHooks(h).clientHello(s, unsafe.Slice((*byte)(msg), int(n)))
}

//export goGnutlsResumeCheck
func goGnutlsResumeCheck(h, certs unsafe.Pointer, n C.uint) C.int {
	var chain [][]byte
	for _, d := range unsafe.Slice((*C.gnutls_datum_t)(certs), int(n)) {
		chain = append(chain, C.GoBytes(unsafe.Pointer(d.data), C.int(d.size)))
	}
	return restoreHooks(h).resumeCheck(chain)
}

//export goGnutlsAntiReplayAdd
func goGnutlsAntiReplayAdd(ptr unsafe.Pointer, exp C.time_t, key, data *C.gnutls_datum_t) C.int {
	k := unsafe.Slice((*byte)(unsafe.Pointer(key.data)), int(key.size))
	if !restoreReplayStore(ptr).add(string(k), int64(exp)) {
		return C.GNUTLS_E_DB_ENTRY_EXISTS
	}
	return 0
}

//export goGnutlsOCSPStaple
func goGnutlsOCSPStaple(handle unsafe.Pointer, out *C.gnutls_datum_t) C.int {
	return restoreStapler(handle).fill(out)
}

//export goGnutlsPIN
func goGnutlsPIN(handle unsafe.Pointer, attempt C.int, url, label *C.char, flags C.uint, pin *C.char, max C.size_t) C.int {
	req := PINRequest{TokenURL: C.GoString(url), TokenLabel: C.GoString(label), Flags: PINFlags(flags)}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(pin)), int(max))
	return C.int(restorePINAsker(handle).fill(int(attempt), req, dst))
}
