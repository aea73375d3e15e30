/* test_netcost.c — so_netcost_predict (src/dist/netcost.c) against values computed by hand from the stated
 * alpha-beta formulas: ps = a + n d/B + ceil(log2 n)(a + d D/B); allgather = (n-1)(a + d/B);
 * ring = 2(n-1) a + (2(n-1)/n) 32 d/B; sharded = 2(n-1) a + ((n-1)/n)(1 + D) d/B. Tolerance: relative 1e-12 (double rounding only). */
#include "signopt/dist.h"
#include "test.h"

/* n = 4, d = 1e6, B = 1 Gbit/s, a = 100 us, D = 1:
 *   ps   = (1e-4 + 4e6/1e9) + 2 (1e-4 + 1e6/1e9) = 0.0041 + 0.0022 = 0.0063 s
 *   ring allgather = 3 (1e-4 + 1e-3) = 0.0033 s
 *   ring allreduce = 6e-4 + 1.5 * 32e6/1e9 = 6e-4 + 0.048 = 0.0486 s */
static void test_power_of_two_workers(void)
{
    so_netcost c;
    so_netcost_predict(&c, 4, 1000000, 1e9, 1e-4, 1);
    CHECK_CLOSE(c.ps_1bit, 0.0063, 1e-12, 0, "ps_1bit");
    CHECK_CLOSE(c.allgather_1bit, 0.0033, 1e-12, 0, "allgather_1bit");
    CHECK_CLOSE(c.ring_fp32, 0.0486, 1e-12, 0, "ring_fp32");
}

/* n = 5 (ceil(log2 5) = 3 tree rounds), d = 64, B = 1 Mbit/s, a = 1 ms, D = 2 (zero-tie bit):
 *   ps   = (1e-3 + 320e-6) + 3 (1e-3 + 128e-6) = 1.32e-3 + 3.384e-3 = 4.704e-3 s
 *   ring allgather = 4 (1e-3 + 64e-6) = 4.256e-3 s
 *   ring allreduce = 8e-3 + (8/5) 2048e-6 = 8e-3 + 3.2768e-3 = 1.12768e-2 s */
static void test_odd_workers_two_down_bits(void)
{
    so_netcost c;
    so_netcost_predict(&c, 5, 64, 1e6, 1e-3, 2);
    CHECK_CLOSE(c.ps_1bit, 4.704e-3, 1e-12, 0, "ps_1bit");
    CHECK_CLOSE(c.allgather_1bit, 4.256e-3, 1e-12, 0, "allgather_1bit");
    CHECK_CLOSE(c.ring_fp32, 1.12768e-2, 1e-12, 0, "ring_fp32");
}

/* One worker: the rings move nothing; the parameter server still costs one upload, a + d/B = 1e-3 + 1e-3. */
static void test_single_worker(void)
{
    so_netcost c;
    so_netcost_predict(&c, 1, 1000, 1e6, 1e-3, 1);
    CHECK_CLOSE(c.ps_1bit, 2e-3, 1e-12, 0, "ps_1bit");
    CHECK(c.allgather_1bit == 0 && c.ring_fp32 == 0, "rings with one worker: %g %g", c.allgather_1bit,
          c.ring_fp32);
}

/* The sharded vote, by hand:
 *   n = 4, d = 1e6, B = 1e9, a = 1e-4, D = 1: 6e-4 + 0.75 * 2e6/1e9 = 6e-4 + 1.5e-3 = 2.1e-3 s
 *   n = 5, d = 64, B = 1e6, a = 1e-3, D = 2: 8e-3 + 0.8 * 192/1e6 = 8e-3 + 1.536e-4 = 8.1536e-3 s
 *   n = 1000, d = 25e6, B = 1e9, a = 5e-5, D = 2: 0.0999 + 0.999 * 75e6/1e9 = 0.0999 + 0.074925 = 0.174825 s
 *   (per-rank bytes flat in n: at n = 8 the bandwidth term is 0.875 * 75e6/1e9 = 0.065625 s)
 *   n = 1: nothing to exchange, 0. */
static void test_sharded(void)
{
    CHECK_CLOSE(so_netcost_sharded_1bit(4, 1000000, 1e9, 1e-4, 1), 2.1e-3, 1e-12, 0, "n = 4");
    CHECK_CLOSE(so_netcost_sharded_1bit(5, 64, 1e6, 1e-3, 2), 8.1536e-3, 1e-12, 0, "n = 5");
    CHECK_CLOSE(so_netcost_sharded_1bit(1000, 25000000, 1e9, 5e-5, 2), 0.174825, 1e-12, 0, "n = 1000");
    CHECK_CLOSE(so_netcost_sharded_1bit(8, 25000000, 1e9, 0, 2), 0.065625, 1e-12, 0, "n = 8, no latency");
    CHECK(so_netcost_sharded_1bit(1, 1000, 1e6, 1e-3, 1) == 0, "one worker");
}

int main(void)
{
    RUN(test_sharded);
    RUN(test_power_of_two_workers);
    RUN(test_odd_workers_two_down_bits);
    RUN(test_single_worker);
    return test_report("netcost");
}
