package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// readX509 reads the file an option names, PEM, or DER with --x509fmtder;
// DER comes back as PEM of pemType ("CERTIFICATE", "X509 CRL", or "PRIVATE
// KEY", which becomes the key's own PEM type), after checking that it
// parses as one.
func readX509(o *options, opt, path, pemType string) ([]byte, error) {
	b, err := readFile(opt, path)
	if err != nil || !o.x509DER {
		return b, err
	}
	switch pemType {
	case "CERTIFICATE":
		_, err = x509.ParseCertificate(b)
	case "X509 CRL":
		_, err = x509.ParseRevocationList(b)
	default:
		pemType, err = derKeyType(b)
	}
	if err != nil {
		return nil, failf("%s %s: not DER (--x509fmtder): %v", opt, path, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: b}), nil
}

// derKeyType names the PEM type of a DER private key.
func derKeyType(der []byte) (string, error) {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return "PRIVATE KEY", nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return "RSA PRIVATE KEY", nil
	}
	_, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return "", errors.New("not a PKCS #8, PKCS #1 or EC private key")
	}
	return "EC PRIVATE KEY", nil
}
