#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# global_defs vrrp_rt_priority, vrrp_no_swap and vrrp_cpu_affinity: vrrpd runs
# under SCHED_FIFO at that priority, with locked memory, on those CPUs; a
# reload without them returns it to normal scheduling on every CPU.
. "$(dirname "$0")/lib.sh"
need_root
make_lan 1

with_globals() {
    vrrp_conf r1 3 100 0.1 192.0.2.100/24 | sed "s/^global_defs {/global_defs {\n$1/"
}
policy_of() { chrt -p "$1" | sed -n 's/.*scheduling policy: //p'; }
priority_of() { chrt -p "$1" | sed -n 's/.*scheduling priority: //p'; }
mask_of() { taskset -p "$1" | sed -n 's/.*affinity mask: //p'; }
locked_kb() { awk '/^VmLck:/ {print $2}' "/proc/$1/status"; }
all_cpus=$(taskset -p $$ | sed -n 's/.*affinity mask: //p')

start_vrrpd 1 sched "$(with_globals '    vrrp_rt_priority 20\n    vrrp_no_swap\n    vrrp_cpu_affinity 0')"
expect "vrrpd comes up" 5 log_has sched "INIT -> BACKUP"
check "vrrp_rt_priority 20: SCHED_FIFO" [ "$(policy_of "$PID_sched")" = "SCHED_FIFO|SCHED_RESET_ON_FORK" ]
check "vrrp_rt_priority 20: priority 20" [ "$(priority_of "$PID_sched")" = 20 ]
check "vrrp_cpu_affinity 0: mask 1" [ "$(mask_of "$PID_sched")" = 1 ]
check "vrrp_no_swap: memory locked (VmLck > 0)" [ "$(locked_kb "$PID_sched")" -gt 0 ]

with_globals '' > "$WORK/sched.conf"
kill -HUP "$PID_sched"
expect "reload done" 5 log_has sched "reloaded"
check "without vrrp_rt_priority: SCHED_OTHER again" [ "$(policy_of "$PID_sched")" = SCHED_OTHER ]
check "without vrrp_cpu_affinity: every CPU again ($all_cpus)" [ "$(mask_of "$PID_sched")" = "$all_cpus" ]
check "without vrrp_no_swap: memory unlocked" [ "$(locked_kb "$PID_sched")" -eq 0 ]
stop sched TERM

# --realtime wins over vrrp_rt_priority.
VRRPD_EXTRA="--realtime 30" start_vrrpd 1 cli "$(with_globals '    vrrp_rt_priority 20')"
expect "vrrpd --realtime 30 comes up" 5 log_has cli "INIT -> BACKUP"
check "--realtime 30 overrides vrrp_rt_priority 20" [ "$(priority_of "$PID_cli")" = 30 ]
stop cli TERM
finish
