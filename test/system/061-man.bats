#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The man pages (man/*.1): each renders without a warning, with groff, man
# and mandoc; there is one for the plugin and one for every command that
# "docker migrate --help" lists; and each page's options are exactly the
# flags its command's --help prints, so that pages and code cannot drift
# apart.

load helpers

MAN_DIR=$(cd "$BATS_TEST_DIRNAME/../../man" && pwd)

setup_file() { dm_setup_file; }
setup() { dm_setup; }

# The commands "docker migrate --help" lists.
subcommands() {
	"$DOCKER" migrate --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p'
}

# help_flags ARGS...: the options of "docker migrate ARGS... --help", one a
# line: "--name ARG" or "--name" (a boolean).  A flag's line is indented
# by 2 ("  -q, --quiet") or 6; the lines that continue a description are
# indented deeper and may begin with a flag's name.
help_flags() {
	"$DOCKER" migrate "$@" --help |
		sed -n '/^Options:/,/^$/p' |
		sed -n -E 's/^(  -[a-zA-Z], |      )(--[a-z][a-z-]*)( ([A-Z][A-Z_=]*|string|list|int))?( |$).*/\2 \4/p' |
		sed 's/ $//' | sort
}

# page_flags PAGE SECTION: the options a section of a page describes, as
# help_flags prints them: the tags of its .TP items that are options.
page_flags() {
	awk -v sec="$2" '
		/^\.SH / {
			name = substr($0, 5)
			gsub(/"/, "", name)
			insec = name == sec
			next
		}
		insec && /^\.TP/ { tag = 1; next }
		insec && tag { tag = 0; print }
	' "$1" |
		sed -e 's/^\.[A-Z]* //' -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/"//g' |
		sed -n -E 's/^ *(-[a-zA-Z] *, *)?(--[a-z][a-z-]*)( +([^ ]+))?.*/\2 \4/p' |
		sed 's/ $//' | sort
}

# The flags' names only, for the CLI's global flags: their help says
# "string" or "list" where the page names the value.
names_only() {
	sed -E 's/ [^ ]+$/ VALUE/'
}

@test "there is a page for the plugin and for every command, under its name" {
	local sub n=0
	[ -f "$MAN_DIR/docker-migrate.1" ]
	head -n 20 "$MAN_DIR/docker-migrate.1" | grep -q '^\.TH DOCKER-MIGRATE 1 '
	for sub in $(subcommands); do
		n=$((n + 1))
		if [ ! -f "$MAN_DIR/docker-migrate-$sub.1" ]; then
			echo "FAIL: no man page man/docker-migrate-$sub.1 for 'docker migrate $sub'" >&2
			return 1
		fi
		run grep -c "^\.TH DOCKER-MIGRATE-${sub^^} 1 " "$MAN_DIR/docker-migrate-$sub.1"
		is "$output" 1 "docker-migrate-$sub.1 has its .TH"
		run grep -A1 '^\.SH NAME' "$MAN_DIR/docker-migrate-$sub.1"
		contains "$output" "docker-migrate-$sub \\-" "docker-migrate-$sub.1 names itself in NAME"
		grep -q "docker\\\\-migrate\\\\-$sub (1)" "$MAN_DIR/docker-migrate.1" || {
			echo "FAIL: docker-migrate.1 does not refer to docker-migrate-$sub(1)" >&2
			return 1
		}
	done
	[ "$n" -ge 4 ]
}

@test "every page renders with groff -ww without a warning" {
	local page
	for page in "$MAN_DIR"/*.1; do
		run --separate-stderr groff -ww -man -Tutf8 "$page"
		is "$status" 0 "groff exit status for $page"
		is "$stderr" "" "groff warnings for $page"
		[ -n "$output" ]
	done
}

@test "every page renders with man -l without a warning" {
	local page
	for page in "$MAN_DIR"/*.1; do
		run --separate-stderr env MANPAGER=cat PAGER=cat MANWIDTH=80 \
			man --warnings -l "$page"
		is "$status" 0 "man -l exit status for $page"
		is "$stderr" "" "man -l warnings for $page"
		contains "$output" "SYNOPSIS" "$page has a SYNOPSIS"
	done
}

@test "mandoc -T lint finds nothing above style level" {
	local page
	for page in "$MAN_DIR"/*.1; do
		run mandoc -T lint -W warning "$page"
		is "$output" "" "mandoc warnings for $page"
		is "$status" 0 "mandoc exit status for $page"
	done
}

@test "every page has the sections a reader looks for" {
	local page sec
	for page in "$MAN_DIR"/*.1; do
		for sec in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES "SEE ALSO"; do
			grep -qE "^\\.SH \"?$sec\"?\$" "$page" || {
				echo "FAIL: $page has no $sec section" >&2
				return 1
			}
		done
	done
	for sec in FILES ENVIRONMENT STRATEGIES "THE SOURCE ENGINE" "THE DESTINATION" \
		"THE MIGRATION RECORD"; do
		grep -qE "^\\.SH \"?$sec\"?\$" "$MAN_DIR/docker-migrate.1" || {
			echo "FAIL: docker-migrate.1 has no $sec section" >&2
			return 1
		}
	done
}

@test "docker-migrate.1 describes exactly the global options docker migrate --help prints" {
	local want got
	want=$(help_flags | names_only)
	[ -n "$want" ]
	got=$(page_flags "$MAN_DIR/docker-migrate.1" "GLOBAL OPTIONS" | names_only)
	is "$got" "$want" "GLOBAL OPTIONS of docker-migrate.1 (--flag and whether it takes a value)"
}

@test "each command's page describes exactly the options its --help prints" {
	local sub want got
	for sub in $(subcommands); do
		want=$(help_flags "$sub")
		[ -n "$want" ]
		got=$(page_flags "$MAN_DIR/docker-migrate-$sub.1" OPTIONS)
		is "$got" "$want" "OPTIONS of docker-migrate-$sub.1 against 'docker migrate $sub --help'"
	done
}

@test "the pages carry the plugin's version" {
	local version page
	version=$("$DM_BIN" docker-cli-plugin-metadata | jq -r .Version)
	for page in "$MAN_DIR"/*.1; do
		run grep -c "^\\.TH .* \"docker-migrate $version\" " "$page"
		is "$output" 1 "$page is for docker-migrate $version"
	done
}
