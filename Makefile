# signopt — plain Makefile. `make` builds build/signopt, build/libsignopt.a, build/libsignopt.so;
# `make test` runs every test; `make run` runs the main demo. Options: SAN=1 (ASan+UBSan), OPENMP=0, O=-O0.
PREFIX  ?= /usr/local
BUILD   ?= build
CC      := mpicc
O       ?= -O3 -march=native
OPENMP  ?= 1
# -ffp-contract=off: no fused multiply-adds behind our back, so results match hand-derived values and are the
# same whatever the compiler decides to vectorize. -fno-math-errno: sqrtf need not set errno, so adam's loop
# vectorizes (4x faster, bit-identical results).
CFLAGS  ?= $(O) -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -fPIC -ffp-contract=off -fno-math-errno -Iinclude \
           -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS  := -lopenblas -lz -lm -lpthread
ifeq ($(OPENMP),1)
CFLAGS  += -fopenmp
LDFLAGS += -fopenmp
endif
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
BUILD   := build-san
# Open MPI leaks in its own components, which it dlcloses, so LeakSanitizer cannot even name them for a
# suppression: ranks that mpirun starts get ASAN_OPTIONS=detect_leaks=0 (mca_base_env_list sets their
# environment); every other process keeps leak detection.
export OMPI_MCA_mca_base_env_list := ASAN_OPTIONS=detect_leaks=0
# What a test script that links its own program against $(BUILD)/libsignopt.a must add.
export SO_SAN_FLAGS := -fsanitize=address,undefined
endif

LIB_SRC  := $(shell find src -name '*.c' | sort)
# The command: cli/ plus the benchmark suite behind `signopt bench` (bench/bench_*.c).
CLI_SRC  := $(sort $(wildcard cli/*.c) $(wildcard bench/bench_*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HEADERS  := $(wildcard include/*.h include/signopt/*.h) $(shell find src cli tests bench -name '*.h')

.PHONY: all deps build test run install clean bench experiments fuzz
all: deps
	@$(MAKE) --no-print-directory build

deps:
	@sh tools/install-deps.sh

build: $(BUILD)/signopt $(BUILD)/libsignopt.a $(BUILD)/libsignopt.so

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libsignopt.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsignopt.so: $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Linked to a temporary name and renamed, so a run using build/signopt during a rebuild never finds it half written.
$(BUILD)/signopt: $(CLI_OBJ) $(BUILD)/libsignopt.a
	$(CC) $(LDFLAGS) -o $@.tmp $(CLI_OBJ) $(BUILD)/libsignopt.a $(LDLIBS) && mv -f $@.tmp $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libsignopt.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libsignopt.a $(LDFLAGS) $(LDLIBS)

test: deps
	@$(MAKE) --no-print-directory build $(TEST_BIN)
	@BUILD=$(BUILD) sh tests/run.sh $(TEST_BIN)

run: all
	@sh tools/run-demo.sh $(BUILD)/signopt

bench: all
	$(BUILD)/signopt bench

# The papers' experiments (E1..E11), or some: make experiments E="E2 E5". Results under runs/, claims printed.
experiments: all
	@sh experiments/run.sh $(E)

# libFuzzer targets (clang, ASan+UBSan, under build-fuzz/; not part of the default build): each runs FUZZ_SECONDS
# seconds on tests/fuzz/corpus/TARGET/. See tests/fuzz/run.sh and docs/robustness.md.
FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/signopt
	install -m 755 $(BUILD)/signopt $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libsignopt.a $(BUILD)/libsignopt.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/signopt.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/signopt/*.h $(DESTDIR)$(PREFIX)/include/signopt/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/#define SO_VERSION "\(.*\)"/\1/p' include/signopt/core.h)|' \
	    tools/signopt.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/signopt.pc

clean:
	rm -rf build build-san build-fuzz
