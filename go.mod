module github.com/go-gnutls/go-gnutls

go 1.26

require (
	github.com/mattn/go-pointer v0.0.1 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
