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

# The Compose v2 plugin (test/system/058-project.bats): Debian 12 has
# none; sid's docker-compose runs here.  Its .deb comes from the archive
# through apt's ordinary client with an apt state of its own (the host's
# and the shared sid root's are left alone), and only the plugin binary
# is installed where the docker CLI looks for plugins.
compose_dir=/var/cache/docker-migrate/compose
compose_bin=/usr/local/lib/docker/cli-plugins/docker-compose
install_compose() {
	set -- -o Dir::Etc::SourceList="$compose_dir/etc/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State="$compose_dir/state" \
		-o Dir::Cache="$compose_dir/cache"
	mkdir -p "$compose_dir/etc" "$compose_dir/state/lists/partial" \
		"$compose_dir/cache/archives/partial" "${compose_bin%/*}"
	echo 'deb http://deb.debian.org/debian sid main' \
		>"$compose_dir/etc/sources.list"
	echo "docker-migrate: installing the docker compose plugin from sid" >&2
	apt-get "$@" update -qq >&2
	(cd "$compose_dir" && apt-get "$@" download docker-compose >&2)
	rm -rf "$compose_dir/x"
	dpkg-deb -x "$(ls -t "$compose_dir"/docker-compose_*.deb | head -n1)" \
		"$compose_dir/x"
	install -m 0755 "$compose_dir/x/usr/libexec/docker/cli-plugins/docker-compose" \
		"$compose_bin"
}
if [ "${1:-all}" = all ] && [ ! -x "$compose_bin" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		install_compose
	else
		echo "docker-migrate: no docker compose plugin at $compose_bin:" \
			"run $0 all as root" >&2
		[ -z "$missing" ] && exit 1
	fi
fi

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
