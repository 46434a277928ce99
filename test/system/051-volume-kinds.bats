#!/usr/bin/env bats
# Every kind of file in a container's move: dm-helper reads the volume at
# the source and the destination engine writes what its stream carries,
# so a sparse file of 1 GB stays sparse, user.* and trusted.* extended
# attributes, POSIX ACLs (access and default) and a file capability
# arrive, with hard links, a fifo, a device node, odd names, owners and
# times; between 20.10 nodes and between 28 nodes.  And a volume's copy
# is checked where its data is: the bytes on the destination's link are
# those of the transfer, not twice as many.
#
# setfattr, setfacl and getfattr are not in busybox: the attributes are
# written and read from the host, on the volume's directory (a node's
# /var/lib/docker is $LAB_DIR/NODE/docker).

load helpers

K28A=node3
K28B=node4

setup_file() {
	dm_setup_file
	local n
	for n in "$K28A" "$K28B"; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
	lab_ctl add "$K28A" --engine 28
	lab_ctl add "$K28B" --engine 28
	lab_env
}

teardown_file() {
	local n
	for n in "$K28B" "$K28A"; do lab_ctl remove "$n" >/dev/null 2>&1 || true; done
	lab_env
}

setup() {
	dm_setup
	command -v setfattr >/dev/null || skip "attr (setfattr) is not installed: scripts/deps.sh"
	command -v setfacl >/dev/null || skip "acl (setfacl) is not installed: scripts/deps.sh"
}

teardown() { lab_clean node1 node2 "$K28A" "$K28B" >/dev/null 2>&1 || true; }

# host_dir NODE VOLUME: the volume's directory as the host sees it
host_dir() {
	local mp
	mp=$(ldocker "$1" volume inspect -f '{{.Mountpoint}}' "$2") || return
	printf '%s/%s/docker%s\n' "$(_lab_dir)" "$1" "${mp#/var/lib/docker}"
}

fill_kinds() {
	local d
	d=$(host_dir "$1" "$2")
	(
		set -e
		cd "$d"
		truncate -s 1G sparse
		printf x | dd of=sparse bs=1 seek=500000000 conv=notrunc 2>/dev/null
		echo u >user
		setfattr -n user.color -v blue user
		setfattr -n user.bin -v 0x00ff0a00 user
		setfattr -n trusted.t -v tv user
		echo a >acl
		setfacl -m u:1234:rw,g:55:r acl
		echo cap >capped
		setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 capped
		mkdir shared
		setfacl -d -m g:55:rwx shared
		echo in >shared/inherits
		echo plain >shared/plain
		setfacl -b shared/plain	# no ACL, where the destination's kernel would give one
		echo h >hard1
		ln hard1 hard2
		chown 1234:5678 hard1
		mkfifo fifo
		mknod null c 1 3
		printf o >"$(printf 'odd\nname \351')"
		ln -s user link
		touch -d "2001-02-03 04:05:06" shared/plain
	)
}

# what must arrive identical, from the host: every entry's name, mode,
# owner, size, mtime (seconds), type and link count; every attribute
attrs_of() {
	local d
	d=$(host_dir "$1" "$2")
	(cd "$d" && find . -printf '%p %m %U %G %s %Ts %y %n\n' | sort)
	(cd "$d" && getfattr -R -h -d -m - -e hex . 2>/dev/null)
}

move_kinds() {
	local src=$1 dst=$2 c=dmt-kinds v=dmt-kinds-vol a b s d
	ldocker "$src" volume create "$v" >/dev/null
	fill_kinds "$src" "$v"
	ldocker "$src" run -d --name "$c" -v "$v":/data "$LAB_BASE_IMAGE" sleep 600 >/dev/null
	DOCKER_HOST=$(lab_sock "$src") run_dm container "$c" --to "$dst"
	contains "$output" "completed container $c" "moved"
	a=$(attrs_of "$src" "$v")
	b=$(attrs_of "$dst" "$v")
	diff <(echo "$a") <(echo "$b")
	contains "$b" "user.color=0x626c7565" "user.* arrived"
	contains "$b" "user.bin=0x00ff0a00" "a binary value too"
	contains "$b" "trusted.t=0x7476" "trusted.* arrived"
	contains "$b" "security.capability=0x0100000200040000" "the capability arrived"
	contains "$(lab_getfacl "$dst" "$v" acl)" "user:1234:rw-" "the ACL arrived"
	contains "$(lab_getfacl "$dst" "$v" shared)" "default:group:55:rwx" "the default ACL arrived"
	contains "$(lab_getfacl "$dst" "$v" shared/inherits)" "group:55:rwx" "an inherited ACL arrived"
	[[ $(lab_getfacl "$dst" "$v" shared/plain) != *group:55* ]] ||
		{ echo "shared/plain has an ACL the source's has not"; false; }
	contains "$b" "./hard1 644 1234 5678 2" "hard links, owner"
	contains "$b" "./shared/plain 644 0 0 6 981173106 f 1" "an old mtime"
	# the sparse file: the same bytes, and about as few blocks
	s=$(host_dir "$src" "$v")/sparse
	d=$(host_dir "$dst" "$v")/sparse
	is "$(stat -c %s "$d")" 1073741824 "its size"
	local bs bd
	bs=$(stat -c %b "$s")
	bd=$(stat -c %b "$d")
	echo "blocks of 512 bytes: source $bs, destination $bd ($(du -k "$d" | cut -f1) kB)"
	[ "$bd" -le $((bs + 128)) ] || { echo "not sparse at the destination: $bd blocks"; false; }
	cmp "$s" "$d"
}

lab_getfacl() {
	getfacl -n -p "$(host_dir "$1" "$2")/$3" 2>/dev/null
}

@test "a sparse 1 GB file, user and trusted xattrs, ACLs and every kind of file arrive (20.10 to 20.10)" {
	move_kinds node1 node2
}

@test "a sparse 1 GB file, user and trusted xattrs, ACLs and every kind of file arrive (28 to 28)" {
	move_kinds "$K28A" "$K28B"
}

# rx + tx bytes of the node's link
link_bytes() {
	lab_exec "$1" cat /proc/net/dev | awk '$1 == "eth0:" { print $2 + $10 }'
}

@test "a volume's copy is checked where its data is: the link carries the transfer, within 5 %" {
	local v=dmt-bytes before after sent
	ldocker node1 volume create "$v" >/dev/null
	ldocker node1 run --rm -v "$v":/d "$LAB_BASE_IMAGE" \
		dd if=/dev/urandom of=/d/random bs=1M count=50 2>/dev/null
	# the helper image is loaded first: its bytes are not the copy's
	ldocker node1 volume create dmt-warm >/dev/null
	run_dm volumes dmt-warm --to node2
	before=$(link_bytes node2)
	run_dm volumes "$v" --to node2
	after=$(link_bytes node2)
	contains "$output" "tree digest" "compared"
	sent=$(printf '%s\n' "$output" | sed -n 's/.*sent .*(\([0-9]*\) bytes).*/\1/p' | head -n 1)
	echo "sent $sent bytes; node2's link carried $((after - before))"
	[ "$sent" -ge $((50 * 1024 * 1024)) ]
	[ $((after - before)) -le $((sent * 105 / 100)) ] ||
		{ echo "more than 5 % over the transfer: the copy was read back"; false; }
}
