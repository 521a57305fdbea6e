#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the guest: profile CPU 0 (perf record -C 0 -g, 15 s) while each daemon
# in turn runs bench/healthcheck.sh's checks with HC_SPLIT=1 (the daemon on
# CPU 0, the responder and the receive path on CPU 1), then print where the
# CPU went by process and object and by system call (see bench/README.md):
#   flock /var/tmp/ipvsctl-vm.lock tests/vm/vmrun --timeout 900 -- bench/healthcheck_profile.sh build [tcp|http]
# Output in /var/tmp/healthcheck-profile (shared with the host).
set -euo pipefail
build=${1:?usage: healthcheck_profile.sh BUILD_DIR [tcp|http]}
check=${2:-tcp}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=/var/tmp/healthcheck-profile
mkdir -p "$out"
for daemon in healthcheckd keepalived; do
    DAEMONS=$daemon PARTS=checks HC_CHECKS=$check HC_SPLIT=1 \
        "$here/healthcheck.sh" "$build" 10000 40 0 0 20 > "$out/$daemon.bench" 2>&1 &
    bench=$!
    sleep 45  # started, the first round done: inside the 40 s window
    perf record -q -C 0 -g -o "$out/$daemon.data" -- sleep 15
    wait "$bench"
    echo "=== $daemon"
    grep -E 'cpu |whole machine' "$out/$daemon.bench"
    perf report -i "$out/$daemon.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -12
    perf report -i "$out/$daemon.data" --comm "$daemon" --children --sort sym --stdio -g none 2>/dev/null |
        grep -E '__x64_sys_|exit_to_user_mode_prepare|handle_softirqs|raw_sendmsg|dev_queue_xmit|nf_hook_slow' | head -20
done
