#!/bin/sh
# netns-hosts.sh — emulated hosts on one machine, for multi-host MPI runs: K network namespaces, each with one
# veth link into a bridge (in a namespace of its own), addresses from the benchmarking range 198.18.0.0/15 only,
# an optional per-link rate (tc tbf on both ends of every link; this kernel has no netem, so no added delay), and
# Open MPI pointed at them (plm_rsh_agent = a script that runs `ip netns exec HOST ...`, btl tcp over that range).
# Runs COMMAND in host 0 with these set in its environment:
#   SO_HOSTFILE   an Open MPI hostfile, one slot per host (h0 .. hK-1 by address)
#   SO_MPIRUN     "mpirun" with every option the emulated hosts need (agent, hostfile, btl/oob interfaces)
#   SO_HOSTS      the hosts' addresses, space-separated; SO_NETNS_PREFIX the namespaces' common prefix
# Every namespace it made is removed on every exit path (normal end, error, SIGINT, SIGTERM, SIGHUP), with the
# processes still inside them; the names carry this script's PID, so two runs never collide. No traffic leaves
# these namespaces: the bridge has no uplink and nothing is routed.
#
# usage: sh tools/netns-hosts.sh [-k HOSTS] [-r RATE] [-b BURST] COMMAND [ARG...]     (as root)
#   -k HOSTS  number of hosts (2 to 64, default 4)
#   -r RATE   per-link rate in tc's units (100mbit, 1gbit, 10gbit; default: none, the veth's own speed)
#   -b BURST  tbf burst (default 512kb)
# example: sh tools/netns-hosts.sh -k 4 -r 1gbit sh -c '$SO_MPIRUN -np 4 build/signopt train --backend mpi ...'
set -u
K=4
RATE=""
BURST=512kb
while [ $# -gt 0 ]; do
    case "$1" in
    -k) K=$2; shift 2 ;;
    -r) RATE=$2; shift 2 ;;
    -b) BURST=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "netns-hosts: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "netns-hosts: expected a COMMAND to run in host 0 (see --help)" >&2; exit 2; }
case "$K" in ''|*[!0-9]*) echo "netns-hosts: -k: expected an integer from 2 to 64, got '$K'" >&2; exit 2 ;; esac
[ "$K" -ge 2 ] && [ "$K" -le 64 ] || { echo "netns-hosts: -k: expected an integer from 2 to 64, got '$K'" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "netns-hosts: needs root (ip netns)" >&2; exit 1; }
command -v ip >/dev/null || { echo "netns-hosts: 'ip' not found (apt-get install iproute2)" >&2; exit 1; }

P=so$$
BR=$P-br
DIR=$(mktemp -d /tmp/netns-hosts.XXXXXX)
cleanup() {
    trap - EXIT INT TERM HUP
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-"); do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$DIR"
}
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP

fail() { echo "netns-hosts: $*" >&2; exit 1; }
ip netns add "$BR" || fail "cannot create namespace $BR"
ip -n "$BR" link add br0 type bridge || fail "cannot create the bridge"
ip -n "$BR" link set br0 up
ip -n "$BR" link set lo up
HOSTS=""
: >"$DIR/hostfile"
i=0
while [ $i -lt "$K" ]; do
    ns=$P-h$i
    addr=198.18.0.$((i + 1))
    ip netns add "$ns" || fail "cannot create namespace $ns"
    ip link add "v$P-$i" type veth peer name "b$P-$i" || fail "cannot create the veth pair of host $i"
    ip link set "v$P-$i" netns "$ns"
    ip link set "b$P-$i" netns "$BR"
    ip -n "$ns" link set "v$P-$i" name eth0
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    # A host gives up on a peer that stopped answering after ~6 s of retransmissions (5 tries; Linux's default
    # of 15 waits ~15 minutes), so that mpirun learns of a cut link and ends the job (docs/cli.md, MPI).
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_retries2=5 2>/dev/null || true
    ip -n "$BR" link set "b$P-$i" master br0
    ip -n "$BR" link set "b$P-$i" up
    if [ -n "$RATE" ]; then
        # both directions of the host's link: its egress (eth0) and its ingress (the bridge port's egress)
        ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$RATE" burst "$BURST" latency 100ms ||
            fail "tc tbf rate $RATE failed on host $i"
        ip netns exec "$BR" tc qdisc add dev "b$P-$i" root tbf rate "$RATE" burst "$BURST" latency 100ms ||
            fail "tc tbf rate $RATE failed on the bridge port of host $i"
    fi
    echo "$addr slots=1" >>"$DIR/hostfile"
    echo "$addr $ns" >>"$DIR/map"
    HOSTS="$HOSTS $addr"
    i=$((i + 1))
done

# The agent Open MPI starts its daemons with: AGENT [options] HOST CMD...; it runs CMD inside HOST's namespace.
cat >"$DIR/agent" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do case "\$1" in -*) shift ;; *) break ;; esac; done
host=\$1; shift
ns=\$(awk -v h="\$host" '\$1 == h { print \$2 }' "$DIR/map")
[ -n "\$ns" ] || { echo "netns-hosts agent: unknown host '\$host'" >&2; exit 1; }
exec ip netns exec "\$ns" /bin/sh -c "\$*"
EOF
chmod +x "$DIR/agent"

export SO_HOSTFILE="$DIR/hostfile"
export SO_HOSTS="${HOSTS# }"
export SO_NETNS_PREFIX="$P"
# orte_startup_timeout: now and then (about one launch in 30 here) the daemon of one emulated host is gone before it
# reports to mpirun, which then waits for ever; with the timeout the launch fails within 30 s and can be retried.
# mpi_yield_when_idle: the emulated hosts share this machine's cores, and a rank that busy-polls for a message takes
# the core its sender needs (measured with 8 hosts on 2 cores at 1 Gb/s, d = 1M: a sharded round 0.108 s polling,
# 0.012 s yielding).
export SO_MPIRUN="mpirun --allow-run-as-root --hostfile $DIR/hostfile --mca plm_rsh_agent $DIR/agent \
--mca btl tcp,self --mca btl_tcp_if_include 198.18.0.0/15 --mca oob_tcp_if_include 198.18.0.0/15 \
--mca plm_rsh_no_tree_spawn 1 --mca mpi_yield_when_idle 1 \
--mca oob_tcp_keepalive_time 2 --mca oob_tcp_keepalive_intvl 1 --mca oob_tcp_keepalive_probes 3 \
--mca orte_startup_timeout 30"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# In the background and waited for: a shell runs its traps only between commands, so a foreground child would
# hold SIGINT/SIGTERM (and the cleanup) until it ended by itself.
ip netns exec "$P-h0" "$@" &
child=$!
wait $child
rc=$?
exit $rc
