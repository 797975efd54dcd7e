module github.com/go-gnutls/go-gnutls

go 1.26.0

require (
	github.com/mattn/go-pointer v0.0.1
	golang.org/x/sys v0.50.0
)

require (
	golang.org/x/net v0.62.0
	golang.org/x/text v0.43.0 // indirect
)
