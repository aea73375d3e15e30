/* netcost.c — predicted communication seconds per round (dist.h, so_netcost_predict), by the alpha-beta model
 * (Hockney 1994; Thakur, Rabenseifner, Gropp, "Optimization of collective communication operations in
 * MPICH", 2005): one message of b bits over one link costs alpha + b / beta, alpha the latency in seconds and
 * beta the link bandwidth in bits/s. Every node has one full-duplex link of bandwidth beta; messages sent at
 * the same time over different links overlap, messages through the same link queue. Compute is not counted.
 *
 * With n workers, d coordinates, D = down_bits (1, or 2 when the zero-tie rule sends a second bit):
 *   1-bit parameter server (gather to the server, vote, broadcast; src/dist/transport_mpi.c does MPI_Gather then
 *   MPI_Bcast):
 *     uplink:    the n messages of d bits are sent at once and queue in the server's one link:
 *                alpha + n d / beta
 *     downlink:  a binomial-tree broadcast (what MPI_Bcast does for short messages), ceil(log2 n) rounds each
 *                forwarding the d D-bit result: ceil(log2 n) (alpha + d D / beta)
 *     ps_1bit = alpha + n d / beta + ceil(log2 n) (alpha + d D / beta)
 *   Ring allgather of the n d-bit messages (decentralized vote): n - 1 steps, each node passing one d-bit
 *   message to its neighbour: allgather_1bit = (n - 1) (alpha + d / beta)
 *   Ring allreduce of d fp32 (reduce-scatter then allgather): 2 (n - 1) steps, each moving a chunk of 32 d / n
 *   bits: ring_fp32 = 2 (n - 1) alpha + (2 (n - 1) / n) 32 d / beta
 *   Sharded vote (so_netcost_sharded_1bit; SO_PATTERN_SHARDED, src/dist/cluster.c): a pairwise all-to-all, each
 *   node sending its d/n-bit share to each of the n - 1 others through its one link, then a ring allgather of the
 *   n shard results of D d / n bits: sharded_1bit = 2 (n - 1) alpha + ((n - 1) / n) (1 + D) d / beta - the
 *   bandwidth term flat in n. The fp32 fixed-order reduce (reduce-scatter by all-to-all, then allgather) moves the
 *   ring allreduce's bytes in as many steps: ring_fp32 models both.
 * One worker (n = 1) talks to no one in the ring schemes (0 s); in the parameter server it still uploads. */
#include "signopt/dist.h"

/* ceil(log2 n) for n >= 1: the rounds of a binomial-tree broadcast to n nodes. */
static int ceil_log2(int n)
{
    int r = 0;
    while ((1L << r) < (long)n) r++;
    return r;
}

void so_netcost_predict(so_netcost *out, int n, size_t d, double bandwidth_bps, double latency_s, int down_bits)
{
    double a = latency_s, b = bandwidth_bps, bits = (double)d;
    if (n < 1) n = 1;
    out->ps_1bit = a + n * bits / b + ceil_log2(n) * (a + bits * down_bits / b);
    out->allgather_1bit = (n - 1) * (a + bits / b);
    out->ring_fp32 = 2.0 * (n - 1) * a + (2.0 * (n - 1) / n) * 32.0 * bits / b;
}

double so_netcost_sharded_1bit(int n, size_t d, double bandwidth_bps, double latency_s, int down_bits)
{
    if (n <= 1) return 0.0;
    return 2.0 * (n - 1) * latency_s + (double)(n - 1) / n * (1.0 + down_bits) * (double)d / bandwidth_bps;
}
