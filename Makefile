# docker-migrate - a Docker CLI plugin that moves containers, images and
# volumes between Docker hosts.  Plain GNU make; see README.md.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
PLUGINDIR  ?= $(PREFIX)/lib/docker/cli-plugins
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DOCKER_CONFIG_DIR ?= $(or $(DOCKER_CONFIG),$(HOME)/.docker)

PKGS       := libcurl yajl libssh libcrypto libdeflate
CC         ?= cc
CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
              -DDM_VERSION='"$(VERSION)"' -pthread
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS     += $(PKG_LIBS) -lm -pthread

# make SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer, in a
# build directory of its own so both builds can live side by side.
# make SANITIZE=thread: ThreadSanitizer, in build/tsan (it cannot be
# combined with AddressSanitizer).
ifeq ($(SANITIZE),1)
BUILD      := build/asan
CFLAGS     += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined -O1
LDFLAGS    += -fsanitize=address,undefined
else ifeq ($(SANITIZE),thread)
BUILD      := build/tsan
CFLAGS     += -fsanitize=thread -fno-omit-frame-pointer -O1
LDFLAGS    += -fsanitize=thread
else
BUILD      := build/default
endif

SRC        := $(wildcard src/*.c)
PLUGIN_SRC := $(wildcard plugin/*.c)
# dm-helper: the tool of the helper image, static, embedded in the plugin
HELPER     := $(BUILD)/dm-helper
HELPER_OBJ := $(BUILD)/src/helper/blob.o
OBJ        := $(patsubst %.c,$(BUILD)/%.o,$(SRC)) $(HELPER_OBJ)
PLUGIN_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(PLUGIN_SRC))
BIN        := $(BUILD)/docker-migrate
UNIT_SRC   := $(wildcard test/unit/test_*.c)
UNIT_BIN   := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRC))

.PHONY: all deps install install-user uninstall check check-unit \
        check-system demo lab-up lab-down clean man fuzz fuzz-replay bench

all: docker-migrate

docker-migrate: $(BIN)
	@if [ "$(BIN)" != "build/default/docker-migrate" ]; then :; else cp $(BIN) $@; fi

$(BIN): $(OBJ) $(PLUGIN_OBJ)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(wildcard include/*.h) | deps-build
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# no sanitizer, no shared library, no NSS: it runs alone in a container;
# of the plugin's headers it includes only the protocol's, self-contained
$(HELPER): $(wildcard src/helper/*.c src/helper/*.h) include/dmh_proto.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@ (static)"
	@$(CC) -static -Os -s -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-Iinclude -o $@ $(filter %.c,$^)

$(HELPER_OBJ): src/helper/blob.S $(HELPER)
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	@$(CC) -c -DHELPER_BIN='"$(HELPER)"' -o $@ $<

# Build dependencies only; the test and lab tools are checked by 'deps'.
deps-build:
	@./scripts/deps.sh build

deps:
	@./scripts/deps.sh all

$(BUILD)/test/%: test/unit/%.c $(OBJ) | deps-build
	@mkdir -p $(dir $@)
	@echo "  CC+LD   $@"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(OBJ) $(LDFLAGS) $(LDLIBS) -lcmocka

check-unit: $(UNIT_BIN)
	@./test/run-unit.sh $(UNIT_BIN)

# SYSTEM_FILES: some of test/system/*.bats only (all by default)
check-system: $(BIN)
	@DM_BIN=$(abspath $(BIN)) ./test/run-system.sh $(SYSTEM_FILES)

# The README's test command: everything, against real engines, sshd and a
# registry in the lab.  Installs what is missing when run as root.
# SYSTEM_FILES limits its system tests too (.ci/run's sanitizer pass).
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(BIN)
	@DM_BIN=$(abspath $(BIN)) SYSTEM_FILES="$(SYSTEM_FILES)" \
		./test/check.sh $(UNIT_BIN)

# libFuzzer targets (clang) for the parsers of outside bytes: test/fuzz/.
# make fuzz [FUZZ_SECONDS=20]; make fuzz-replay: gcc+ASan, saved inputs only.
fuzz fuzz-replay: deps-build
	@$(MAKE) --no-print-directory -f test/fuzz/fuzz.mk $@

demo: deps all
	@./scripts/demo.sh

# The benchmark against the baselines on emulated links (bench/README.md);
# options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--size 200 --links 100mbit:10ms".
# bench/service.sh: the swarm service row (its own lab, after run.sh's)
bench: deps $(BIN)
	@DM_BIN=$(abspath $(BIN)) ./bench/run.sh $(BENCH_ARGS)
	@DM_BIN=$(abspath $(BIN)) ./bench/service.sh --latest

lab-up: deps
	@./test/lab/lab.sh up
lab-down:
	@./test/lab/lab.sh down

install: $(BIN)
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(PLUGINDIR)/docker-migrate
	for m in man/*.1; do [ -e "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man1/ || true; done
	[ -e completions/docker-migrate.bash ] && install -m 0644 completions/docker-migrate.bash $(DESTDIR)$(BASHCOMPDIR)/docker-migrate || true
	[ -e completions/_docker-migrate ] && install -m 0644 completions/_docker-migrate $(DESTDIR)$(ZSHCOMPDIR)/_docker-migrate || true
	[ -e completions/docker-migrate.fish ] && install -m 0644 completions/docker-migrate.fish $(DESTDIR)$(FISHCOMPDIR)/docker-migrate.fish || true

# For one user: the plugin where the CLI looks, man pages where man-db
# finds them (~/.local/share/man, from ~/.local/bin in PATH), completions
# where bash-completion and fish load them by themselves, and a zsh
# directory to add to fpath (zsh has no per-user default).
USER_DATA  ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)
USER_FISH  ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/fish/completions
install-user: $(BIN)
	install -d $(DOCKER_CONFIG_DIR)/cli-plugins $(USER_DATA)/man/man1 \
	  $(USER_DATA)/bash-completion/completions $(USER_DATA)/zsh/site-functions \
	  $(USER_FISH)
	install -m 0755 $(BIN) $(DOCKER_CONFIG_DIR)/cli-plugins/docker-migrate
	install -m 0644 man/*.1 $(USER_DATA)/man/man1/
	install -m 0644 completions/docker-migrate.bash $(USER_DATA)/bash-completion/completions/docker-migrate
	install -m 0644 completions/_docker-migrate $(USER_DATA)/zsh/site-functions/_docker-migrate
	install -m 0644 completions/docker-migrate.fish $(USER_FISH)/docker-migrate.fish
	@echo "man: found when $(HOME)/.local/bin is in PATH (or MANPATH has $(USER_DATA)/man)"
	@echo "zsh: add to ~/.zshrc, before compinit: fpath=($(USER_DATA)/zsh/site-functions \$$fpath)"
	@echo "'docker migrate <TAB>': 'docker completion SHELL' asks the plugin; or see completions/ for each shell"

uninstall:
	rm -f $(DESTDIR)$(PLUGINDIR)/docker-migrate
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/docker-migrate $(DESTDIR)$(ZSHCOMPDIR)/_docker-migrate \
	  $(DESTDIR)$(FISHCOMPDIR)/docker-migrate.fish

# The man pages are plain roff, committed as they are: nothing to build;
# this checks that each renders without a warning.
man:
	@for m in man/*.1; do \
	  w=$$(groff -ww -z -man "$$m" 2>&1); \
	  [ -z "$$w" ] || { echo "$$m: $$w" >&2; exit 1; }; \
	done

clean:
	rm -rf build docker-migrate
