#!/bin/sh
# sid-root.sh [DIR] - a Debian sid root file system with today's engine
# (dockerd 28, containerd 2, runc, CRIU) and OpenSSH 10, for the lab's
# "today's engine" nodes.  Built once with debootstrap (about 35 s and
# 115 MB of packages), then reused: the directory holds a stamp naming
# the package set, and a root whose stamp differs is built again.
# Prints the root's path.  Root only.
set -eu
dir=${1:-${DM_SID_ROOT:-/var/cache/docker-migrate/sid-root}}
pkgs="docker.io docker-cli containerd runc criu iptables openssh-server busybox-static ca-certificates"
stamp="$dir/.docker-migrate-stamp"
want="sid: $pkgs"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "$dir"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "sid-root.sh: building $dir needs root" >&2; exit 1; }
# Labs started side by side may all find the root missing: one builds, the
# others wait for it and reuse it (a second build would remove the first's
# root under the nodes already running from it).
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock -w 900 9 || { echo "sid-root.sh: another build of $dir holds $dir.lock" >&2; exit 1; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "$dir"
	exit 0
fi
command -v debootstrap >/dev/null 2>&1 || {
	echo "sid-root.sh: installing debootstrap" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
}
mirror=${DM_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
# Built beside the final place and renamed at the end: a run killed half-way
# leaves no root that looks finished.
tmp="$dir.tmp.$$"
trap 'umount -R "$tmp/proc" 2>/dev/null; rm -rf "$tmp"' EXIT
rm -rf "$tmp"
echo "sid-root.sh: debootstrap sid into $dir ($mirror)" >&2
debootstrap --variant=minbase sid "$tmp" "$mirror" >&2
# sid's Release file may be called expired by a machine whose clock runs ahead
cat >"$tmp/etc/apt/apt.conf.d/99docker-migrate" <<'CONF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
Dpkg::Use-Pty "false";
CONF
# no service may start while the packages are installed
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 0755 "$tmp/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$tmp/proc"
chroot "$tmp" sh -c "export DEBIAN_FRONTEND=noninteractive; apt-get -qq update && apt-get install -y -qq $pkgs" >&2
umount "$tmp/proc"
# engines must never try docker.io: no resolver inside
rm -f "$tmp/etc/resolv.conf"
chroot "$tmp" apt-get clean
echo "$want" >"$tmp/.docker-migrate-stamp"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
