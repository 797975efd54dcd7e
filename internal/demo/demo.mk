# make demo: TCP Fast Open end to end, gnutls-cli-go against this module's
# server in two network namespaces joined by a delaying link (needs root).
DEMO_DELAY ?= 10ms

demo: build
	$(GO) run ./internal/demo -cli $(BIN)/gnutls-cli-go -delay $(DEMO_DELAY)
