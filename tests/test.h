/* test.h — the test harness: TEST functions grouped in one binary per concern; a test passes when none of
 * its CHECKs failed. The binary's last line is "NAME: N passed, M failed"; tests/run.sh adds them up. */
#ifndef SO_TEST_H
#define SO_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int tests_passed, tests_failed;

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            test_failed_checks++;                                                     \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

/* |a - b| <= atol + rtol * |b|, b the reference. */
#define CHECK_CLOSE(a, b, rtol, atol, what)                                                           \
    do {                                                                                              \
        double a_ = (double)(a), b_ = (double)(b);                                                    \
        CHECK(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_), "%s: got %.9g, want %.9g (rtol %g, atol %g)", \
              (what), a_, b_, (double)(rtol), (double)(atol));                                        \
    } while (0)

#define RUN(fn)                                                            \
    do {                                                                   \
        int before_ = test_failed_checks;                                  \
        fn();                                                              \
        if (test_failed_checks == before_) tests_passed++;                 \
        else { tests_failed++; fprintf(stderr, "FAILED %s\n", #fn); }      \
    } while (0)

static inline int test_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, tests_passed, tests_failed);
    return tests_failed != 0;
}

#endif
