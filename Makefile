# go-gnutls. `make demo` shows TCP Fast Open end to end; `make test` runs the tests.
# Both install what they need first (Debian packages, Go modules).

GO      ?= go
SUDO    := $(if $(filter 0,$(shell id -u)),,sudo)
APT_PKGS := gcc libc6-dev pkg-config libgnutls28-dev gnutls-bin openssl iproute2 ca-certificates make nginx curl wget nghttp2-client softhsm2 faketime tinyproxy squid redis-server
BIN     := bin

# Go's build cache does not see the headers in include/ (outside the
# package's directory), so an edited header would leave stale objects;
# a digest of them in CGO_CFLAGS makes the cache see every change.
export CGO_CFLAGS := -O2 -g -DGO_GNUTLS_INCLUDE_DIGEST=$(shell cat include/*.h | sha256sum | cut -c1-16)

.PHONY: all deps build test vet demo clean fuzz check-sanitizers

all: build

# Installs only the packages that are missing, so repeated runs are quick.
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is needed: https://go.dev/doc/install (put it on PATH, then rerun)"; exit 1; }
	@[ -d vendor ] || $(GO) mod download # with vendor/ (as in make test-matrix) nothing is downloaded

build: deps
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# The tests need root (network namespaces); with CI set, a test that would skip fails instead.
# One package at a time (-p 1): the network-lab tests time TCP over a delayed
# link, and a CPU-bound package running beside them can stall it past a SYN timeout.
# TESTFLAGS adds flags (make test-matrix counts the tests with -v).
TESTFLAGS ?=
test: deps vet
	$(GO) test -race -count=1 -p 1 $(TESTFLAGS) ./...

# Each fuzz target for FUZZTIME, starting from its seeds and testdata/fuzz.
# A count, not a duration: with a duration Go 1.26's fuzzing coordinator can
# fail a target with "context deadline exceeded" as time runs out
# (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?= 20000x
FUZZ_PKGS := ./gnutls ./cmd/gnutls-cli-go ./gnutlshttp ./cmd/gnutls-serv-go
fuzz: deps
	@set -e; for pkg in $(FUZZ_PKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# The cgo-heavy tests under the pointer checkers: cgocheck2 (every pointer
# passed to C is checked for Go pointers inside) with checkptr=2 in one
# build, then AddressSanitizer over the C shims and the Go memory C touches
# (-asan needs gcc's libasan, a dependency of gcc). -race, in make test,
# already runs checkptr=1 over everything.
SANITIZE_PKGS := ./gnutls ./cmd/gnutls-cli-go
ASAN_TESTS := TestSession|TestVerify|TestHostile|TestWriteToGone|TestClose|TestDialCloseCycles|TestParallelDials|TestForgotten|TestEcho|TestNUL|TestTransport|TestCallbacks|TestConcurrent|TestReadahead|Credentials|Priority|TestFatalAlert|TestReadPast|TestTooManyEmpty|TestConnectionState|TestPullTimeout|TestDialEarly|PSK|SessionCache|TestSystem|OCSP|PKCS11|PIN|Fuzz
check-sanitizers: deps
	GOEXPERIMENT=cgocheck2 $(GO) test -count=1 -short -gcflags=all=-d=checkptr=2 $(SANITIZE_PKGS)
	$(GO) test -asan -count=1 -short -run '$(ASAN_TESTS)' ./gnutls

clean:
	rm -rf $(BIN)

-include docker/docker.mk bench/bench.mk internal/demo/demo.mk
