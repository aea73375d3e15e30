#!/bin/sh
# test_api.sh — the library surface that C and C++ programs build on: the headers compile as C++; the shared
# library exports exactly the functions the headers declare (SO_API), nothing of its insides; its SONAME follows
# the version; libsignopt needs no MPI (a program with its own model links and runs with plain cc); the MPI
# transport is its own library; the examples build and keep their promises (own_model.c, cpp_quickstart.cpp,
# mpi_own_model.c under mpirun -np 4); `make install` gives pkg-config files a static link works from; and a build
# with MPI=0 BENCH=0 makes a command that says what it lacks.
NAME=api
. "$(dirname "$0")/lib.sh"
B=${BUILD:-build}
SAN=$SO_SAN_FLAGS
LIBS="-fopenmp -lopenblas -lz -lm"
ver=$(sed -n 's/^#define SO_VERSION "\(.*\)"/\1/p' include/signopt/core.h)
sover=${ver%.*}

# ---- headers as C++ ----
printf '#include "signopt.h"\nint main(){ so_optim_config c; so_optim_config_default(&c); return c.lr > 0 ? 0 : 1; }\n' \
    >"$T/h.cpp"
check "signopt.h compiles as C++17 with -Wall -Wextra -Werror" \
    g++ -std=c++17 -Wall -Wextra -Werror -Iinclude -fsyntax-only "$T/h.cpp"
printf '#include "signopt/mpi.h"\nint main(){ return 0; }\n' >"$T/m.cpp"
if command -v mpicxx >/dev/null 2>&1; then
    check "signopt/mpi.h compiles as C++17" mpicxx -std=c++17 -DOMPI_SKIP_MPICXX -Wall -Wextra -Werror -Iinclude \
        -fsyntax-only "$T/m.cpp"
fi

# ---- what the shared library exports ----
nm -D --defined-only "$B/libsignopt.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort >"$T/exported"
sed -n 's/^SO_API [^(]*[ *]\(so_[a-z0-9_]*\)(.*/\1/p' include/signopt.h include/signopt/*.h | grep -v 'so_transport_mpi' \
    | sort >"$T/declared"
check "libsignopt.so exports only so_ symbols, none of the library's so__ insides" \
    sh -c "! grep -qv '^so_' '$T/exported' && ! grep -q '^so__' '$T/exported'"
check "libsignopt.so exports exactly the functions the headers declare with SO_API ($(wc -l <"$T/declared"))" \
    cmp -s "$T/exported" "$T/declared"
cmp -s "$T/exported" "$T/declared" || diff "$T/declared" "$T/exported" | head -10 >&2
check "SONAME libsignopt.so.$sover on libsignopt.so.$ver, libsignopt.so links to it" sh -c "
    readelf -d '$B/libsignopt.so.$ver' | grep -q 'SONAME.*\[libsignopt.so.$sover\]' &&
    [ \"\$(readlink '$B/libsignopt.so')\" = libsignopt.so.$ver ] &&
    [ \"\$(readlink '$B/libsignopt.so.$sover')\" = libsignopt.so.$ver ]"
check "libsignopt.so needs no MPI library" sh -c "! readelf -d '$B/libsignopt.so' | grep NEEDED | grep -qi mpi"

# ---- your own model, plain cc, no MPI ----
if gcc -std=c11 -Wall -Wextra -Werror -Iinclude examples/own_model.c -L"$B" -lsignopt -lm -Wl,-rpath,"$PWD/$B" $SAN \
        -o "$T/own_model" 2>"$T/cc.err"; then
    ok
    check "own_model (shared library) needs no MPI" sh -c "! readelf -d '$T/own_model' | grep NEEDED | grep -qi mpi"
    "$T/own_model" >"$T/own.out" 2>&1
    check "own_model runs" [ $? -eq 0 ]
    check "own_model: signum and mv-signum over 9 workers both reach 90% test accuracy; loss falls 10x" awk '
        /^signum .* step +0 / { f0 = $5 } /^signum .* step +400 / { f1 = $5 } /^mv-signum .* step +400 / { f2 = $5 }
        /^test accuracy/ { a = $4 + 0; b = $NF + 0 }
        END { exit !(a > 0.9 && b > 0.9 && f1 < f0 / 10 && f2 < f0 / 10) }' "$T/own.out"
else
    bad "examples/own_model.c does not build with gcc against libsignopt.so"; cat "$T/cc.err" >&2
fi
check "own_model links statically against libsignopt.a with plain cc" \
    gcc -std=c11 -Iinclude examples/own_model.c "$B/libsignopt.a" $LIBS $SAN -o "$T/own_static"

# ---- the same model as a plugin of the command: train, sweep, checkpoints and MPI on it ----
if gcc -std=c11 -Wall -Wextra -Werror -Iinclude -DSIGNOPT_PLUGIN -shared -fPIC examples/own_model.c \
        -o "$T/own_model.so" 2>"$T/plugin.err"; then
    ok
    P="--plugin $T/own_model.so --problem own-softmax --lr 3e-3 --steps 40 --eval-every 10 --quiet"
    check "train --plugin runs the plugin's family (4 workers, mv-signum)" sh -c \
        "'$S' train $P --algo mv-signum --workers 4 --threads 2 --out '$T/pl_local' >/dev/null"
    check "the plugin's run reports loss, gradient norms and test accuracy" awk -F, '
        NR > 1 && $2 == 40 { ok = $4 > 0 && $4 < 1.2 && $6 > 0.5 && $7 > 0 } END { exit !ok }' "$T/pl_local/metrics.csv"
    "$S" train $P --algo mv-signum --workers 4 --steps 20 --checkpoint "$T/pl.ckpt" --out "$T/pl_half" >/dev/null &&
        "$S" train $P --algo mv-signum --workers 4 --resume "$T/pl.ckpt" --out "$T/pl_resumed" >/dev/null
    check "a checkpoint of the plugin's run resumes to the same rows" sh -c \
        "cut -d, -f1-11 '$T/pl_local/metrics.csv' > '$T/a'; cut -d, -f1-11 '$T/pl_resumed/metrics.csv' > '$T/b'; cmp -s '$T/a' '$T/b'"
    check "sweep --plugin ranks two cells" sh -c "'$S' sweep $P --algo signum --lr 1e-3,3e-3 --seeds 2 --out '$T/pl_sweep' \
        >/dev/null && grep -q '\"best\"' '$T/pl_sweep/summary.json'"
    if [ "${MPI:-1}" = 1 ] && command -v mpirun >/dev/null 2>&1; then
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 120 mpirun --oversubscribe -np 4 \
            "$S" train $P --algo mv-signum --backend mpi --out "$T/pl_mpi" >/dev/null 2>"$T/pl_mpi.err"
        check "the plugin's model under mpirun -np 4 gives the in-process rows" sh -c \
            "cut -d, -f1-11 '$T/pl_mpi/metrics.csv' > '$T/c'; cmp -s '$T/a' '$T/c'"
    fi
    "$S" train --plugin "$T/nonexistent.so" --quiet >/dev/null 2>"$T/e"
    check "a missing plugin: exit 1 naming it" sh -c "[ $? -eq 1 ] && grep -q 'nonexistent.so' '$T/e'"
    printf 'int unrelated(void) { return 0; }\n' >"$T/noinit.c"
    gcc -shared -fPIC "$T/noinit.c" -o "$T/noinit.so"
    "$S" train --plugin "$T/noinit.so" --quiet >/dev/null 2>"$T/e"
    check "a plugin without signopt_plugin_init: exit 1 saying so" sh -c \
        "[ $? -eq 1 ] && grep -q 'no function signopt_plugin_init' '$T/e'"
else
    bad "examples/own_model.c does not build as a plugin"; cat "$T/plugin.err" >&2
fi

# ---- C++ ----
if g++ -std=c++17 -Wall -Wextra -Werror -Iinclude examples/cpp_quickstart.cpp -L"$B" -lsignopt \
        -Wl,-rpath,"$PWD/$B" $SAN -o "$T/cpp" 2>"$T/cxx.err"; then
    ok
    "$T/cpp" >"$T/cpp.out" 2>&1
    check "cpp_quickstart runs and both runs lower the loss (exit 0)" [ $? -eq 0 ]
else
    bad "examples/cpp_quickstart.cpp does not build with g++"; cat "$T/cxx.err" >&2
fi

# ---- your own MPI program: the per-rank optimizer ----
if [ "${MPI:-1}" = 1 ] && command -v mpirun >/dev/null 2>&1; then
    check "libsignopt_mpi.so: SONAME libsignopt_mpi.so.$sover, needs libsignopt and MPI" sh -c "
        readelf -d '$B/libsignopt_mpi.so' | grep -q 'SONAME.*\[libsignopt_mpi.so.$sover\]' &&
        readelf -d '$B/libsignopt_mpi.so' | grep -q 'NEEDED.*libsignopt.so.$sover' &&
        readelf -d '$B/libsignopt_mpi.so' | grep -q 'NEEDED.*libmpi'"
    if mpicc -std=c11 -Wall -Wextra -Werror -Iinclude examples/mpi_own_model.c "$B/libsignopt_mpi.a" \
            "$B/libsignopt.a" $LIBS $SAN -o "$T/mpi_own" 2>"$T/mpicc.err"; then
        ok
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 120 mpirun --oversubscribe -np 4 \
            "$T/mpi_own" >"$T/mpi.out" 2>&1
        check "mpi_own_model under mpirun -np 4 exits 0" [ $? -eq 0 ]
        check "per-rank optimizer == in-process cluster, bit for bit" grep -q 'in-process cluster, bit for bit: yes' \
            "$T/mpi.out"
        check "per-rank save and load ends at the same x" grep -q 'same end: yes' "$T/mpi.out"
        grep -q 'same end: yes' "$T/mpi.out" || cat "$T/mpi.out" >&2
    else
        bad "examples/mpi_own_model.c does not build with mpicc"; cat "$T/mpicc.err" >&2
    fi
fi

# ---- make install and pkg-config ----
if command -v pkg-config >/dev/null 2>&1 && [ -z "$SAN" ]; then
    make --no-print-directory install PREFIX="$T/prefix" BUILD="$B" >"$T/install.log" 2>&1
    check "make install PREFIX=... succeeds" [ $? -eq 0 ]
    PKG="env PKG_CONFIG_PATH=$T/prefix/lib/pkgconfig pkg-config"
    check "pkg-config --static --libs signopt names OpenBLAS, OpenMP and zlib" sh -c "
        $PKG --static --libs signopt | grep -q -- -lopenblas && $PKG --static --libs signopt | grep -q -- -fopenmp &&
        $PKG --static --libs signopt | grep -q -- -lz"
    check "a static link from the installed pkg-config flags works" sh -c "
        gcc -std=c11 examples/quickstart.c \$($PKG --cflags signopt) '$T/prefix/lib/libsignopt.a' \
            \$($PKG --static --libs signopt | sed 's/-lsignopt//') -o '$T/q_static' &&
        ! readelf -d '$T/q_static' | grep -q 'NEEDED.*signopt' && '$T/q_static' >/dev/null"
    pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    check "the installed Python package imports and loads the installed library" sh -c "
        PYTHONPATH='$T/prefix/lib/python$pyver/dist-packages' /usr/bin/python3 -c \
            'import signopt; assert signopt.library_path.startswith(\"$T/prefix/lib/\"), signopt.library_path'"
    check "a shared link from the installed files runs" sh -c "
        gcc -std=c11 examples/quickstart.c \$($PKG --cflags --libs signopt) -Wl,-rpath,'$T/prefix/lib' \
            -o '$T/q_shared' && '$T/q_shared' >/dev/null"
    if [ "${MPI:-1}" = 1 ]; then
        check "pkg-config signopt-mpi gives -lsignopt_mpi and -lsignopt" sh -c "
            $PKG --libs signopt-mpi | grep -q -- -lsignopt_mpi && $PKG --libs signopt-mpi | grep -q -- '-lsignopt\b'"
    fi
fi

# ---- a build without MPI and without the benchmarks ----
if [ -z "$SAN" ]; then
    NB="$T/nompi"
    make --no-print-directory BUILD="$NB" MPI=0 BENCH=0 "$NB/signopt" "$NB/libsignopt.so" >"$T/nompi.log" 2>&1
    if [ $? -eq 0 ]; then
        ok
        check "MPI=0: the command needs no MPI library" sh -c "! readelf -d '$NB/signopt' | grep NEEDED | grep -qi mpi"
        "$NB/signopt" train --backend mpi --algo mv-signsgd --quiet >"$T/o" 2>"$T/e"
        check "MPI=0: --backend mpi exits 2 saying the build has no MPI" sh -c \
            "[ $? -eq 2 ] && grep -q 'built without MPI' '$T/e'"
        "$NB/signopt" bench --quick >"$T/o" 2>"$T/e"
        check "BENCH=0: bench exits 2 saying the build has no benchmarks" sh -c \
            "[ $? -eq 2 ] && grep -q 'without the benchmarks' '$T/e'"
        check "MPI=0: a distributed run in-process still works" sh -c \
            "'$NB/signopt' train --algo mv-signum --workers 4 --steps 5 --quiet >/dev/null"
    else
        bad "make MPI=0 BENCH=0 fails"; tail -20 "$T/nompi.log" >&2
    fi
fi

echo "$NAME: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
