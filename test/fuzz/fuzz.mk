# test/fuzz/fuzz.mk - the libFuzzer targets; run from the top directory
# through "make fuzz" (build, fuzz each for FUZZ_SECONDS, replay the
# regression inputs) or "make fuzz-replay" (gcc + ASan/UBSan builds of the
# same targets, without libFuzzer, over the committed inputs).

FUZZ_SECONDS ?= 20
PKGS    := libcurl yajl libssh libcrypto libdeflate
B       := build/fuzz
COMMON  := -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -Itest/fuzz -pthread \
           -DDM_VERSION='"fuzz"' -fno-omit-frame-pointer \
           -fsanitize=address,undefined -fno-sanitize-recover=all \
           $(shell pkg-config --cflags $(PKGS))
LIBS    := $(shell pkg-config --libs $(PKGS)) -lm -pthread
HDRS    := $(wildcard include/*.h) test/fuzz/fuzz.h
NAMES   := $(patsubst test/fuzz/fuzz_%.c,%,$(wildcard test/fuzz/fuzz_*.c))
SRC     := $(wildcard src/*.c)
FUZZERS := $(addprefix $(B)/fuzz_,$(NAMES))
REPLAYS := $(addprefix $(B)/replay_,$(NAMES))

.PHONY: fuzz fuzz-build fuzz-replay
.SECONDARY:

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./test/fuzz/run.sh $(NAMES)

fuzz-build: $(FUZZERS) $(REPLAYS)

# scratch files under build/, where a crash leaves them
fuzz-replay: $(REPLAYS)
	@mkdir -p $(B)/tmp; failed=; for n in $(NAMES); do \
	  TMPDIR=$(B)/tmp $(B)/replay_$$n test/fuzz/corpus/$$n test/fuzz/regressions/$$n || \
	    failed="$$failed $$n"; \
	done; [ -z "$$failed" ] || { echo "fuzz-replay: FAILED:$$failed" >&2; exit 1; }

# src/ with clang: instrumented for coverage, not linked with libFuzzer.
$(B)/clang/%.o: src/%.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@clang $(COMMON) -fsanitize=fuzzer-no-link -c -o $@ $<

$(B)/gcc/%.o: src/%.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@gcc $(COMMON) -c -o $@ $<

# dm-helper, embedded as in the plugin (volume_helper.c carries it)
$(B)/dm-helper: $(wildcard src/helper/*.c src/helper/*.h) include/dmh_proto.h
	@mkdir -p $(dir $@)
	@gcc -static -Os -s -std=c11 -D_GNU_SOURCE -Iinclude -o $@ $(filter %.c,$^)

$(B)/%/helper-blob.o: src/helper/blob.S $(B)/dm-helper
	@mkdir -p $(dir $@)
	@gcc -c -DHELPER_BIN='"$(B)/dm-helper"' -o $@ $<

# An archive: each target links only the objects it needs.
$(B)/dm-%.a: $(patsubst src/%.c,$(B)/\%/%.o,$(SRC)) $(B)/%/helper-blob.o
	@rm -f $@
	@ar rcs $@ $^

$(B)/fuzz_%: test/fuzz/fuzz_%.c $(B)/dm-clang.a $(HDRS)
	@echo "  CC+LD   $@"
	@clang $(COMMON) -Wall -Wextra -fsanitize=fuzzer -o $@ $< $(B)/dm-clang.a $(LIBS)

$(B)/replay_%: test/fuzz/fuzz_%.c test/fuzz/replay.c $(B)/dm-gcc.a $(HDRS)
	@echo "  CC+LD   $@"
	@gcc $(COMMON) -Wall -Wextra -o $@ $< test/fuzz/replay.c $(B)/dm-gcc.a $(LIBS)
