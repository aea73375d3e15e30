# signopt — plain Makefile. `make` builds build/signopt, build/libsignopt.{a,so} and the MPI transport's
# build/libsignopt_mpi.{a,so}; `make test` runs every test; `make run` runs the main demo.
# Options: SAN=1 (ASan+UBSan), OPENMP=0, MPI=0 (no MPI anywhere: the command's --backend mpi says so),
# BENCH=0 (the command without `signopt bench`), O=-O0.
PREFIX  ?= /usr/local
BUILD   ?= build
CC      := gcc
MPICC   ?= mpicc
O       ?= -O3 -march=native
OPENMP  ?= 1
MPI     ?= 1
BENCH   ?= 1
VERSION := $(shell sed -n 's/^\#define SO_VERSION "\(.*\)"/\1/p' include/signopt/core.h)
# The SONAME names MAJOR.MINOR while the major version is 0: a minor release may change the ABI.
SOVER   := $(basename $(VERSION))
# -ffp-contract=off: no fused multiply-adds behind our back, so results match hand-derived values and are the
# same whatever the compiler decides to vectorize. -fno-math-errno: sqrtf need not set errno, so adam's loop
# vectorizes (4x faster, bit-identical results). -fvisibility=hidden: the shared library exports what the
# headers declare with SO_API and nothing else.
CFLAGS  ?= $(O) -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -fPIC -ffp-contract=off -fno-math-errno -Iinclude \
           -I/usr/include/x86_64-linux-gnu/openblas-pthread -fvisibility=hidden
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

# The library: everything under src/ but the MPI transport, which is its own library.
MPI_LIB_SRC := src/dist/transport_mpi.c
LIB_SRC  := $(filter-out $(MPI_LIB_SRC),$(shell find src -name '*.c' | sort))
# The command: cli/, plus the benchmark suite behind `signopt bench` (bench/bench_*.c) unless BENCH=0.
CLI_SRC  := $(filter-out cli/nobench.c,$(sort $(wildcard cli/*.c)))
ifeq ($(BENCH),1)
CLI_SRC  += $(sort $(wildcard bench/bench_*.c))
else
CLI_SRC  += cli/nobench.c
endif
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HEADERS  := $(wildcard include/*.h include/signopt/*.h) $(shell find src cli tests bench -name '*.h')
LIB_HEADERS := $(wildcard include/*.h include/signopt/*.h) $(shell find src -name '*.h')
SHLIB    := $(BUILD)/libsignopt.so.$(VERSION)
# Where `make install` puts the Python package: the prefix's dist-packages of Debian's python3 (on its sys.path for
# /usr/local); the package finds the library three folders up, in PREFIX/lib.
PYVER    := $(shell /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)
PYDIR    ?= $(PREFIX)/lib/python$(PYVER)/dist-packages

ifeq ($(MPI),1)
# What is compiled and linked with MPI: the transport, the command's MPI parts, the tests (which run under mpirun).
MPI_OBJ   := $(MPI_LIB_SRC:%.c=$(BUILD)/obj/%.o)
MPI_LIBS  := $(BUILD)/libsignopt_mpi.a $(BUILD)/libsignopt_mpi.so
CLI_CC    := $(MPICC)
CLI_FLAGS := -DSO_WITH_MPI
CLI_LIBS  := $(BUILD)/libsignopt_mpi.a $(BUILD)/libsignopt.a
else
MPI_OBJ   :=
MPI_LIBS  :=
CLI_CC    := $(CC)
CLI_FLAGS :=
CLI_LIBS  := $(BUILD)/libsignopt.a
endif

.PHONY: all deps test-deps build test run install clean bench experiments fuzz
all: deps
	@$(MAKE) --no-print-directory build

deps:
	@sh tools/install-deps.sh

# The tests also need Debian's python3-torch, python3-numpy and python3-pytest (the Python package's tests).
test-deps:
	@sh tools/install-deps.sh --with-python

build: $(BUILD)/signopt $(BUILD)/libsignopt.a $(BUILD)/libsignopt.so $(MPI_LIBS) $(BUILD)/signopt.pc \
       $(BUILD)/signopt-mpi.pc

$(BUILD)/obj/src/%.o: src/%.c $(LIB_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/src/dist/transport_mpi.o: src/dist/transport_mpi.c $(LIB_HEADERS)
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/%.o: cli/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLI_CC) $(CFLAGS) $(CLI_FLAGS) -c $< -o $@

$(BUILD)/obj/bench/%.o: bench/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLI_CC) $(CFLAGS) $(CLI_FLAGS) -c $< -o $@

$(BUILD)/libsignopt.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SHLIB): $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libsignopt.so.$(SOVER) -o $@ $^ $(LDLIBS)

$(BUILD)/libsignopt.so: $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $(BUILD)/libsignopt.so.$(SOVER)
	ln -sf $(notdir $(SHLIB)) $@

$(BUILD)/libsignopt_mpi.a: $(MPI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsignopt_mpi.so: $(MPI_OBJ) $(BUILD)/libsignopt.so
	$(MPICC) -shared $(LDFLAGS) -Wl,-soname,libsignopt_mpi.so.$(SOVER) -o $@.$(VERSION) $(MPI_OBJ) \
	    -L$(BUILD) -lsignopt
	ln -sf $(notdir $@).$(VERSION) $@.$(SOVER)
	ln -sf $(notdir $@).$(VERSION) $@

# pkg-config files (build/ holds copies for PREFIX, for a look before installing).
$(BUILD)/%.pc: tools/%.pc.in include/signopt/core.h
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

# Linked to a temporary name and renamed, so a run using build/signopt during a rebuild never finds it half written.
# The whole library goes in, and its API (so_*) is exported from the command, so that a --plugin's calls
# (so_problem_register, so_problem_create_oracle, ...) resolve against the command's own copy.
$(BUILD)/signopt: $(CLI_OBJ) $(CLI_LIBS)
	$(CLI_CC) $(LDFLAGS) -o $@.tmp $(CLI_OBJ) -Wl,--whole-archive $(CLI_LIBS) -Wl,--no-whole-archive \
	    -Wl,--export-dynamic-symbol='so_*' $(LDLIBS) -lcjson -ldl && mv -f $@.tmp $@

$(BUILD)/tests/%: tests/%.c $(CLI_LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLI_CC) $(CFLAGS) $(CLI_FLAGS) -Itests -o $@ $< $(CLI_LIBS) $(LDFLAGS) $(LDLIBS) -lcjson

# test_vote again on the vote's other vector paths (src/sign/vote.c, VW): the 256-bit adders (SO_VOTE_VW=4), and no
# AVX at all (-mno-avx: GCC's generic vector lowering, plain stores). Each links its own vote.o ahead of the
# library, so the archive's copy is not pulled in; each test prints the path it ran (vote[avx2], vote[generic]).
VOTE_VARIANTS := $(BUILD)/tests/test_vote_w4 $(BUILD)/tests/test_vote_noavx
$(BUILD)/obj/vote_w4.o: src/sign/vote.c $(LIB_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSO_VOTE_VW=4 -c $< -o $@
$(BUILD)/obj/vote_noavx.o: src/sign/vote.c $(LIB_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mno-avx -Wno-psabi -c $< -o $@
$(BUILD)/tests/test_vote_%: tests/test_vote.c $(BUILD)/obj/vote_%.o $(CLI_LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLI_CC) $(CFLAGS) $(CLI_FLAGS) -Itests -o $@ $< $(BUILD)/obj/vote_$*.o $(CLI_LIBS) $(LDFLAGS) $(LDLIBS) -lcjson

test: test-deps
	@$(MAKE) --no-print-directory build $(TEST_BIN) $(VOTE_VARIANTS)
	@BUILD=$(BUILD) MPI=$(MPI) sh tests/run.sh $(TEST_BIN) $(VOTE_VARIANTS)

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
	install -m 644 $(BUILD)/libsignopt.a $(SHLIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(PREFIX)/lib/libsignopt.so.$(SOVER)
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(PREFIX)/lib/libsignopt.so
	if [ "$(MPI)" = 1 ]; then \
	    install -m 644 $(BUILD)/libsignopt_mpi.a $(BUILD)/libsignopt_mpi.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/ && \
	    ln -sf libsignopt_mpi.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libsignopt_mpi.so.$(SOVER) && \
	    ln -sf libsignopt_mpi.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libsignopt_mpi.so; fi
	install -d $(DESTDIR)$(PYDIR)/signopt
	install -m 644 python/signopt/*.py $(DESTDIR)$(PYDIR)/signopt/
	install -m 644 include/signopt.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/signopt/*.h $(DESTDIR)$(PREFIX)/include/signopt/
	for pc in signopt signopt-mpi; do \
	    sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' tools/$$pc.pc.in \
	        > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc; done

clean:
	rm -rf build build-san build-fuzz
