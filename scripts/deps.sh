#!/bin/sh
# deps.sh build|all - check that the Debian packages docker-migrate needs
# are installed; as root, install the missing ones, otherwise name them.
set -eu

build="gcc make pkg-config libcurl4-openssl-dev libyajl-dev libssh-dev libssl-dev libdeflate-dev"
tools="libcmocka-dev bats docker.io docker-registry openssh-server openssh-client
busybox-static debootstrap criu attr acl jq iproute2 iptables curl util-linux procps tmux python3 python3-jwt python3-cryptography openssl groff-base valgrind bash-completion zsh fish mandoc man-db libdeflate-tools"

case "${1:-all}" in
build) want=$build ;;
all) want="$build $tools" ;;
*) echo "usage: $0 build|all" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "docker-migrate: missing Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "docker-migrate: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# a fresh machine has no package lists yet
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
