# The gnutls-cli-go Docker image, the Docker-based integration tests and the
# test suite on each supported Debian release (docker/README.md). Included by
# the top Makefile; needs root.

# The Debian release the image is built on: 12 (bookworm) or 13 (trixie).
DEBIAN       ?= 12
DOCKER_IMAGE ?= go-gnutls/gnutls-cli-go:dev$(if $(filter-out 12 bookworm,$(DEBIAN)),-debian$(DEBIAN))
DOCKER_ENV   := IMAGE=$(DOCKER_IMAGE) GO=$(GO) DEBIAN=$(DEBIAN)

.PHONY: docker docker-test docker-deps test-matrix

# The top Makefile's deps rule, for the Docker engine (with apparmor's profile
# loader, which dockerd needs on kernels with AppArmor) and debootstrap (the
# stand-in base images) instead of its own packages.
docker-deps:
	@$(MAKE) --no-print-directory deps APT_PKGS="docker.io apparmor debootstrap"

docker: docker-deps
	$(DOCKER_ENV) docker/build.sh

docker-test: docker
	$(DOCKER_ENV) docker/test.sh

# make test inside a container on each release of MATRIX, with the packages
# make test installs here.
MATRIX ?= 12 13
test-matrix: docker-deps
	GO=$(GO) MATRIX="$(MATRIX)" TEST_PKGS="$(APT_PKGS)" docker/matrix.sh
