# The gnutls-cli-go Docker image and the Docker-based integration tests
# (docker/README.md). Included by the top Makefile; needs root.

DOCKER_IMAGE ?= go-gnutls/gnutls-cli-go:dev
DOCKER_ENV   := IMAGE=$(DOCKER_IMAGE) GO=$(GO)

.PHONY: docker docker-test docker-deps

# The top Makefile's deps rule, for the Docker engine (with apparmor's profile
# loader, which dockerd needs on kernels with AppArmor) and debootstrap (the
# stand-in base images) instead of its own packages.
docker-deps:
	@$(MAKE) --no-print-directory deps APT_PKGS="docker.io apparmor debootstrap"

docker: docker-deps
	$(DOCKER_ENV) docker/build.sh

docker-test: docker
	$(DOCKER_ENV) docker/test.sh
