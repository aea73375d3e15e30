#!/bin/sh
# run.sh — build the libFuzzer targets with clang (ASan + UBSan) under build-fuzz/ and run each for FUZZ_SECONDS
# seconds (default 60) on its seed corpus tests/fuzz/corpus/TARGET/. New inputs go to build-fuzz/corpus/TARGET/,
# so the committed seeds stay small; a crash leaves build-fuzz/crash-TARGET-* and fails the run. Prints one line
# per target with the executions run. Usage: sh tests/fuzz/run.sh [TARGET...]   (make fuzz FUZZ_SECONDS=N)
set -e
B=build-fuzz
SECS=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
TARGETS=${*:-"idx libsvm config ckpt optim_load cluster_load json"}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install -y clang libclang-rt-14-dev)"; exit 1; }
MPI_CFLAGS=$(mpicc --showme:compile)
MPI_LIBS=$(mpicc --showme:link)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-O1 -g -march=native -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off -fno-math-errno -fopenmp -Iinclude \
-I/usr/include/x86_64-linux-gnu/openblas-pthread $MPI_CFLAGS $SAN"
mkdir -p $B/obj

# The library (whole archive: problems register themselves) and the flag parser's files (cli/ without main.c,
# a plain archive so only what cli_parse needs is linked), rebuilt only where a source is newer than its object.
build_archive() { # build_archive ARCHIVE SOURCES...
    a=$1; shift
    objs=""
    for src in "$@"; do
        obj=$B/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')
        objs="$objs $obj"
        if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find src cli include -name '*.h' -newer "$obj" | head -n 1)" ]; then
            # A file clang cannot compile (GCC-only builtins) is built by gcc without instrumentation: it is
            # then linked but neither sanitized nor coverage-guided. The script says which.
            $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" 2>"$obj.err" || {
                echo "fuzz: $src: clang cannot compile it; built by gcc without sanitizers or coverage"
                gcc -O2 -g -march=native -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off -fno-math-errno \
                    -fopenmp -fPIC -Iinclude -I/usr/include/x86_64-linux-gnu/openblas-pthread $MPI_CFLAGS \
                    -c "$src" -o "$obj" || exit 1
            }
        fi
    done
    rm -f "$a"
    ar rcs "$a" $objs
}
build_archive $B/libsignopt-fuzz.a $(find src -name '*.c' | sort)
build_archive $B/libcli-fuzz.a $(ls cli/*.c | grep -v '^cli/main\.c$')

status=0
for t in $TARGETS; do
    $CC $CFLAGS -fsanitize=fuzzer -o $B/fuzz_$t tests/fuzz/fuzz_$t.c \
        $B/libcli-fuzz.a -Wl,--whole-archive $B/libsignopt-fuzz.a -Wl,--no-whole-archive -lopenblas -lz -lm -lpthread -lcjson $MPI_LIBS
    mkdir -p $B/corpus/$t
    log=$B/fuzz_$t.log
    # -rss_limit_mb / -malloc_limit_mb: a header that makes a loader allocate gigabytes is a finding too.
    if OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 $B/fuzz_$t -max_total_time="$SECS" -print_final_stats=1 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -artifact_prefix=$B/crash-$t- \
        $B/corpus/$t tests/fuzz/corpus/$t >"$log" 2>&1; then
        verdict=ok
    else
        verdict="FINDING (see $log and $B/crash-$t-*)"
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    echo "fuzz_$t: ${execs:-?} executions in ${SECS}s, coverage ${cov:-?} edges, $verdict"
done
rm -f /tmp/signopt-fuzz-*
exit $status
