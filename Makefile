# tinglado — build, test, demo.
#
# Plain GNU make rather than CMake: one library, one binary, a handful of
# test programs and per-file SIMD flags are a few pattern rules; the
# dependency graph comes from the compiler (-MMD), and `make -j` is enough.
#
#   make            build/rel/tinglado (optimised, runtime CPU dispatch)
#   make test       set up what is missing, build under ASan+UBSan, run every test
#   make demo       set up the default model and run the main job on it
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each (default 60)
#   make bench      tinglado vs llama.cpp, interleaved, ratios with intervals
#   make check TEST_SRC=tests/x/test_y.c   build and run only some tests (no setup)
#   BUILD=dir     build somewhere else than build/ (default)
#   make clean

CC      ?= cc
CLANG   ?= clang
PYTHON  ?= python3
WERROR  ?= -Werror
BUILD   ?= build
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

# -ffp-contract=off: the scalar reference code must evaluate float expressions
# exactly as written (no fused multiply-add), so results are reproducible and
# comparable bit for bit with other implementations.
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wformat=2 -Wvla $(WERROR)
BASEFLAGS := -std=gnu11 -D_GNU_SOURCE -g -fno-strict-aliasing -ffp-contract=off \
           -Iinclude -Isrc $(WARN) -MMD -MP -pthread
# poppler-glib (PDF text) brings GLib's headers; only src/read/pdf.c includes them.
POPPLER_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags poppler-glib 2>/dev/null))
LIBS    := -lpcre2-8 -lutf8proc -lcurl -ljansson -lmicrohttpd -lsqlite3 -lz -lgumbo \
           $(shell pkg-config --libs poppler-glib 2>/dev/null || echo -lpoppler-glib -lgobject-2.0 -lglib-2.0) -lm -pthread

REL_CFLAGS  := $(BASEFLAGS) -O2
ASAN_CFLAGS := $(BASEFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
ASAN_LDFLAGS := -fsanitize=address,undefined

# Library sources: everything under src/ except the CLI.  SIMD kernel files
# get their instruction-set flags below; nothing else may use them.
LIB_SRC  := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRC  := $(shell find src/cli -name '*.c' | sort)
TEST_SRC := $(shell find tests -name 'test_*.c' | sort)
# End-to-end tests in Python (a fake server, the real binary): run after the
# C tests with TINGLADO_BIN set; `make check PY_TEST_SRC=` leaves them out.
PY_TEST_SRC := $(shell find tests -name 'test_*.py' | sort)

# per-file extra flags ride on the same hook as the kernels' (KERNEL_FLAGS_<file>)
KERNEL_FLAGS_pdf    = $(POPPLER_CFLAGS)
KERNEL_FLAGS_avx2   := -mavx2 -mfma -mf16c -mbmi2
KERNEL_FLAGS_avx512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c -mbmi2

define objs
$(patsubst %.c,$(1)/%.o,$(2))
endef

.PHONY: all test check demo setup fuzz clean bench help
# Keep intermediate objects (the fuzz and test link rules chain through
# them).  .PRECIOUS, not .SECONDARY: the latter would let an up-to-date
# archive hide a missing object of a newly added source file.
.PRECIOUS: $(BUILD)/rel/%.o $(BUILD)/asan/%.o $(BUILD)/fuzzlib/%.o
.DEFAULT_GOAL := all

all: $(BUILD)/rel/tinglado

help:
	@sed -n '3,14p' Makefile

# The web page's files are copied into web_assets.o by the assembler's
# .incbin, which the compiler's dependency lists do not see.
WEB_ASSETS := $(wildcard src/serve/web/*)
$(BUILD)/rel/src/serve/web_assets.o $(BUILD)/asan/src/serve/web_assets.o $(BUILD)/fuzzlib/src/serve/web_assets.o: $(WEB_ASSETS)

# ---- release build --------------------------------------------------------
$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	@printf '  CC      %s\n' $<
	@$(CC) $(REL_CFLAGS) $(KERNEL_FLAGS_$(basename $(notdir $<))) -c $< -o $@

$(BUILD)/rel/libtinglado.a: $(call objs,$(BUILD)/rel,$(LIB_SRC))
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/rel/tinglado: $(call objs,$(BUILD)/rel,$(CLI_SRC)) $(BUILD)/rel/libtinglado.a
	$(CC) -o $@ $^ $(LIBS)

# ---- sanitizer build used by the tests ------------------------------------
$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@printf '  CC asan %s\n' $<
	@$(CC) $(ASAN_CFLAGS) $(KERNEL_FLAGS_$(basename $(notdir $<))) -c $< -o $@

$(BUILD)/asan/libtinglado.a: $(call objs,$(BUILD)/asan,$(LIB_SRC))
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/asan/tinglado: $(call objs,$(BUILD)/asan,$(CLI_SRC)) $(BUILD)/asan/libtinglado.a
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/asan/tests/%: $(BUILD)/asan/tests/%.o $(BUILD)/asan/libtinglado.a
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

# The fuzz corpus replayer: the libFuzzer entry points driven by a plain main
# over the committed corpus files, so `make test` needs no clang runtime.
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/fuzz_*.c)))
$(BUILD)/asan/fuzz/%: $(BUILD)/asan/fuzz/%.o $(BUILD)/asan/fuzz/replay_main.o $(BUILD)/asan/libtinglado.a
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

TEST_BINS := $(patsubst %.c,$(BUILD)/asan/%,$(TEST_SRC))
REPLAY_BINS := $(addprefix $(BUILD)/asan/fuzz/,$(FUZZ_TARGETS))

# The test command of the README.  `setup` fetches what a fresh machine lacks
# (system packages, the default model, llama.cpp's tokenizer test vocabularies).
test: setup
	$(MAKE) -j$(JOBS) check

# The server end-to-end test also gets the optimised binary: generating a few
# thousand tokens under the sanitizers would take too long.
check: $(TEST_BINS) $(REPLAY_BINS) $(BUILD)/asan/tinglado $(BUILD)/rel/tinglado
	@TINGLADO_BIN=$(BUILD)/asan/tinglado TINGLADO_REL_BIN=$(BUILD)/rel/tinglado PYTHON=$(PYTHON) scripts/run-tests.sh $(TEST_BINS) -- $(REPLAY_BINS) -- $(PY_TEST_SRC)

setup:
	@scripts/setup.sh

demo: setup
	$(MAKE) -j$(JOBS) $(BUILD)/rel/tinglado
	@scripts/demo.sh $(BUILD)/rel/tinglado

# ---- fuzzing (clang + libFuzzer) ------------------------------------------
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 8192
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -ffp-contract=off -pthread \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzzlib/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) $(KERNEL_FLAGS_$(basename $(notdir $<))) -c $< -o $@

$(BUILD)/fuzz/%: fuzz/%.c $(call objs,$(BUILD)/fuzzlib,$(LIB_SRC))
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  name=$${t#fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$name; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS)s"; \
	  $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	      $(BUILD)/fuzz/corpus-$$name tests/fuzz/$$name || exit 1; \
	done

# Side-by-side speed against llama.cpp (BENCH_MODELS, BENCH_ARGS); builds or
# reuses llama.cpp from llama-cpp-python in a cached venv.
BENCH_MODELS ?= $(HOME)/.cache/tinglado/models/gemma-3-270m-q4_k_m.gguf
BENCH_ARGS ?= -p 512 -n 128 -t 2 -r 5
bench: setup
	$(MAKE) -j$(JOBS) $(BUILD)/rel/tinglado
	@py=$$(scripts/llama-venv.sh) && $$py bench/peer.py $(addprefix -m ,$(BENCH_MODELS)) $(BENCH_ARGS) \
	    --tinglado $(BUILD)/rel/tinglado --json $(BUILD)/bench.json

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
