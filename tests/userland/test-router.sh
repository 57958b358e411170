#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test-router.sh: userland/router/pvhv-router on the host, in a network namespace of its own
# (unshare -n, as root), with veths for trunk and uplink: --dns none and --host records
# (dnsmasq's configuration, lookups answered at once, a recorded name's address in the
# allow set of a sandbox that lists it), the bad values refused with their field, and a
# restarted control domain's adopt (kept entries of live domains back, the others dropped),
# and published ports, TCP and UDP: their checks and, for UDP, a datagram from a namespace on
# the uplink's side through the DNAT to a sandbox's namespace behind the trunk and back.
# Needs Debian's dnsmasq, nft and socat (installed by scripts/fetch-linux.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
R=$(realpath "${PVHV_ROUTER:-userland/router/pvhv-router}")

if [ "${1:-}" != --inside ]; then
	for t in unshare nsenter nft dnsmasq busybox socat; do
		command -v "$t" >/dev/null || { echo "not ok - $t missing"; echo "0 passed, 1 failed"; exit 1; }
	done
	exec unshare -n "$0" --inside
fi

S=$(mktemp -d /tmp/pvhv-router-test.XXXXXX)
export PVHV_ROUTER_STATE=$S/state PVHV_ROUTER_KEEP=$S/keep
pids=
trap 'kill "$(cat "$S/state/dnsmasq.pid" 2>/dev/null)" $pids 2>/dev/null; rm -rf "$S"' EXIT
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1: got \"$2\", want \"$3\""; fi; }

ip link set lo up
ip link add tr0 type veth peer name tr1 && ip link add up0 type veth peer name up1 || notok "veths"
for i in tr0 tr1 up0 up1; do ip link set "$i" up; done
ip addr add 10.0.0.1/24 dev tr0
ip addr add 10.0.2.15/24 dev up0

up() { "$R" up --uplink up0 --trunk tr0 "$@" 2>&1; }
out=$(up --dns none --host 'a;b=10.0.2.1'); check "--host with a bad name: refused (2)" "$? $out" \
	'2 pvhv-router: up: --host "a;b=10.0.2.1" is not NAME=IPV4'
out=$(up --dns none --host 'a.test=10.0.2'); check "--host with a bad address: refused (2)" "$? $out" \
	'2 pvhv-router: up: --host "a.test=10.0.2" is not NAME=IPV4'
out=$(up --dns nowhere); check "--dns neither an address nor none: refused (2)" "$? $out" \
	'2 pvhv-router: up: --dns "nowhere" is neither an IPv4 address nor none'
out=$(up --dns none --host Files.test=10.0.2.100 --host other.test=10.0.2.101)
check "up with --dns none and two records" "$? $out" \
	"0 up: tr0 (10.0.0.1/24) -> up0, dns none, files.test=10.0.2.100, other.test=10.0.2.101"
conf=$S/state/dnsmasq.conf
check "dnsmasq: no upstream" "$(grep -c '^server=' "$conf")" 0
check "dnsmasq: the records, local" "$(grep -E '^(host-record|local)=' "$conf" | tr '\n' ' ')" \
	"host-record=files.test,10.0.2.100 local=/files.test/ host-record=other.test,10.0.2.101 local=/other.test/ "

out=$("$R" add s2 10.0.0.3 02:00:0a:00:00:03 allow=files.test 2>&1)
check "add s2 allow=files.test" "$? $out" "0 added s2 10.0.0.3 02:00:0a:00:00:03 allow=files.test"
out=$("$R" add s3 10.0.0.4 02:00:0a:00:00:04 allow=10.1.0.0/16,Other.test 2>&1)
check "add s3 allow=10.1.0.0/16,Other.test" "$?" 0
elems() { nft list set ip pvhv "$1" 2>&1 | grep -o 'elements = {[^}]*}'; }
check "s2's name set: files.test's address alone" "$(elems d_0a000003)" "elements = { 10.0.2.100 }"
check "s3's name set: other.test's address alone" "$(elems d_0a000004)" "elements = { 10.0.2.101 }"

# dnsmasq on the trunk answers the records itself; AAAA and unknown names end at once (no upstream).
sleep 0.5
a=$(timeout 5 busybox nslookup files.test 10.0.0.1 2>&1 | sed -n 's/^Address: *\(10\.0\.2\.[0-9]*\)$/\1/p' | head -n 1)
check "files.test resolves to its record" "$a" 10.0.2.100
timeout 3 busybox nslookup -type=aaaa files.test 10.0.0.1 >/dev/null 2>&1
check "files.test AAAA: answered at once (not sent upstream)" \
	"$([ $? = 124 ] && echo timeout || echo answered)" answered
timeout 3 busybox nslookup nosuch.test 10.0.0.1 >/dev/null 2>&1
check "an unknown name: refused at once" "$([ $? = 124 ] && echo timeout || echo answered)" answered

"$R" del s2 >/dev/null 2>&1
check "del s2: its set gone" "$(nft list table ip pvhv | grep -c "set d_0a000003")" 0
check "del s2: its kept entry gone" "$(ls "$S/keep" | tr '\n' ' ')" "s3 "

# A restart of the control domain: its kernel's rules and its tmpfs state gone, the kept entries not.
"$R" bind s3 4:2 >/dev/null 2>&1
"$R" add s4 10.0.0.5 02:00:0a:00:00:05 all 8080:80 >/dev/null 2>&1 && "$R" bind s4 5:1 >/dev/null 2>&1
kill "$(cat "$S/state/dnsmasq.pid" 2>/dev/null)" 2>/dev/null
nft delete table ip pvhv
rm -rf "$S/state"
out=$(up --dns none --host files.test=10.0.2.100 --host other.test=10.0.2.101)
check "up again after the restart" "$?" 0
check "after the restart: no entry" "$("$R" show)" ""
out=$("$R" adopt 1:1 4:2 7:1 2>&1)
check "adopt: s3 (live) back, s4 (ended) dropped" "$? $out" "0 adopted: s3; dropped: s4"
check "adopt: s3 as it was" "$("$R" show)" "s3 4:2 10.0.0.4 02:00:0a:00:00:04 allow=10.1.0.0/16,Other.test "
check "adopt: s3's name set again" "$(elems d_0a000004)" "elements = { 10.0.2.101 }"
check "adopt: s4's port not published" "$(nft list map ip pvhv pub | grep -c 8080)" 0
check "adopt: s4's kept entry gone" "$(ls "$S/keep" | tr '\n' ' ')" "s3 "
out=$("$R" adopt 4:x 2>&1)
check "adopt with a bad reference: refused (2)" "$? $out" '2 pvhv-router: adopt: "4:x" is not ID:GEN'

# Published ports: TCP unless /udp; a host port once per protocol, across sandboxes too.
out=$("$R" add s5 10.0.0.5 02:00:0a:00:00:05 all 8053:53/udp 8053:80 8054:54/tcp 2>&1)
check "add s5 with UDP and TCP ports on one host port" "$? $out" \
	"0 added s5 10.0.0.5 02:00:0a:00:00:05 all 8053:53/udp 8053:80 8054:54"
mapped() { nft list map ip pvhv "$1" 2>&1 | grep -o 'elements = {[^}]*}'; }
check "the UDP port in pubu alone" "$(mapped pubu)" "elements = { 8053 : 10.0.0.5 . 53 }"
check "the TCP ports in pub" "$(mapped pub)" "elements = { 8053 : 10.0.0.5 . 80, 8054 : 10.0.0.5 . 54 }"
out=$("$R" add s6 10.0.0.6 02:00:0a:00:00:06 all 8053:53/udp 2>&1)
check "a UDP host port in use: refused (3)" "$? $out" \
	"3 pvhv-router: ports: UDP host port 8053 is published already, by sandbox s5"
out=$("$R" add s6 10.0.0.6 02:00:0a:00:00:06 all 9000:1/udp 9000:2/udp 2>&1)
check "a UDP host port twice in one add: refused (2)" "$? $out" "2 pvhv-router: ports: UDP host port 9000 given twice"
for bad in 8053:53/sctp 8053:53/UDP 8053/udp:53 8053:53/udp/udp 0:53/udp; do
	out=$("$R" add s6 10.0.0.6 02:00:0a:00:00:06 all "$bad" 2>&1)
	check "port \"$bad\": refused (2)" "$? $out" \
		"2 pvhv-router: ports: \"$bad\" is not HOSTPORT:PORT[/tcp|/udp] (each port 1..65535)"
done

# End to end: s5's namespace behind the trunk answers on UDP 53; a host on the uplink's side sends to 8053.
unshare -n sleep 300 & sb_pid=$!
unshare -n sleep 300 & out_pid=$!
pids="$sb_pid $out_pid"
sleep 0.3
ip link set tr1 netns "$sb_pid" && ip link set up1 netns "$out_pid" || notok "veth ends into their namespaces"
nsenter -t "$sb_pid" -n sh -c 'ip link set lo up; ip link set tr1 up; ip addr add 10.0.0.5/24 dev tr1;
	ip route add default via 10.0.0.1'
nsenter -t "$out_pid" -n sh -c 'ip link set up1 up; ip addr add 10.0.2.2/24 dev up1'
nsenter -t "$sb_pid" -n socat -T 10 UDP4-RECVFROM:53,fork SYSTEM:'read l; echo "s5 got $l"' & pids="$pids $!"
sleep 0.5
udp() { echo "$1" | nsenter -t "$out_pid" -n timeout 4 socat -T 2 - "UDP4:10.0.2.15:$2" 2>/dev/null; }
check "UDP to the published 8053 reaches s5's port 53 and comes back" "$(udp ping 8053)" "s5 got ping"
check "UDP to 8054 (published for TCP only): nothing" "$(udp ping 8054)" ""
"$R" del s5 >/dev/null 2>&1
check "del s5: its ports gone from both maps" "$(mapped pubu)$(mapped pub)" ""
check "after del, UDP to 8053: nothing" "$(udp again 8053)" ""
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
