// SPDX-License-Identifier: GPL-2.0-or-later
// Internal: keepalived keywords ipvsctl recognises without implementing
// them. Unimplemented ones are errors (a config must never be half-read);
// the ignored ones (email, SNMP, D-Bus) are warnings because dropping them
// cannot change what the daemons do to traffic.
#pragma once

#include <string_view>

#include "config/builder_support.hpp"

namespace ipvsctl::config::detail {

inline constexpr std::string_view kUnimplementedTop[] = {"static_ipaddress",
                                                         "static_routes",
                                                         "static_rules",
                                                         "bfd_instance",
                                                         "vrrp_track_process",
                                                         "track_file",
                                                         "vrrp_track_file",
                                                         "garp_group",
                                                         "linkbeat_interfaces",
                                                         "track_group",
                                                         "interface_up_down_delays",
                                                         "SSL",
                                                         "net_namespace",
                                                         "net_namespace_ipvs",
                                                         "namespace_with_ipsets",
                                                         "instance",
                                                         "use_pid_dir",
                                                         "linkbeat_use_polling",
                                                         "child_wait_time"};

inline constexpr std::string_view kUnimplementedGlobal[] = {"tmp_config_directory",
                                                            "config_save_dir",
                                                            "process_names",
                                                            "process_name",
                                                            "vrrp_process_name",
                                                            "checker_process_name",
                                                            "bfd_process_name",
                                                            "use_symlink_paths",
                                                            "set_supplementary_groups",
                                                            "startup_script",
                                                            "startup_script_timeout",
                                                            "shutdown_script",
                                                            "shutdown_script_timeout",
                                                            "default_interface",
                                                            "vrrp_garp_lower_prio_repeat",
                                                            "vrrp_garp_lower_prio_delay",
                                                            "vrrp_garp_master_refresh_repeat_delay",
                                                            "vrrp_garp_extra_if",
                                                            "vrrp_down_timer_adverts",
                                                            "vrrp_lower_prio_no_advert",
                                                            "vrrp_higher_prio_send_advert",
                                                            "v3_checksum_as_v2",
                                                            "nftables",
                                                            "nftables_priority",
                                                            "nftables_counters",
                                                            "nftables_ifindex",
                                                            "nftables_ipvs",
                                                            "nftables_ipvs_priority",
                                                            "nftables_ipvs_start_fwmark",
                                                            "vrrp_iptables",
                                                            "vrrp_ipsets",
                                                            "disable_local_igmp",
                                                            "vrrp_notify_priority_changes",
                                                            "max_auto_priority",
                                                            "min_auto_priority_delay",
                                                            "vrrp_priority",
                                                            "checker_priority",
                                                            "bfd_priority",
                                                            "checker_no_swap",
                                                            "bfd_no_swap",
                                                            "checker_cpu_affinity",
                                                            "bfd_cpu_affinity",
                                                            "checker_rt_priority",
                                                            "bfd_rt_priority",
                                                            "vrrp_rlimit_rttime",
                                                            "checker_rlimit_rttime",
                                                            "bfd_rlimit_rttime",
                                                            "notify_fifo",
                                                            "notify_fifo_script",
                                                            "vrrp_notify_fifo",
                                                            "vrrp_notify_fifo_script",
                                                            "lvs_notify_fifo",
                                                            "lvs_notify_fifo_script",
                                                            "fifo_write_vrrp_states_on_reload",
                                                            "dynamic_interfaces",
                                                            "vrrp_netlink_cmd_rcv_bufs",
                                                            "vrrp_netlink_cmd_rcv_bufs_force",
                                                            "vrrp_netlink_monitor_rcv_bufs",
                                                            "vrrp_netlink_monitor_rcv_bufs_force",
                                                            "lvs_netlink_cmd_rcv_bufs",
                                                            "lvs_netlink_cmd_rcv_bufs_force",
                                                            "lvs_netlink_monitor_rcv_bufs",
                                                            "lvs_netlink_monitor_rcv_bufs_force",
                                                            "process_monitor_rcv_bufs",
                                                            "process_monitor_rcv_bufs_force",
                                                            "vrrp_rx_bufs_policy",
                                                            "vrrp_rx_bufs_multiplier",
                                                            "rs_init_notifies",
                                                            "umask",
                                                            "vrrp_delay_after_boot",
                                                            "log_unknown_vrids",
                                                            "vmac_prefix",
                                                            "vmac_addr_prefix",
                                                            "random_seed",
                                                            "reload_check_config",
                                                            "include_check",
                                                            "reload_time_file",
                                                            "reload_repeat",
                                                            "reload_file",
                                                            "data_use_instance",
                                                            "state_file_location",
                                                            "stats_file_location",
                                                            "json_file_location",
                                                            "json_version",
                                                            "iproute_usr_dir",
                                                            "iproute_etc_dir",
                                                            "checker_log_all_failures",
                                                            "lvs_sync_daemon_interface",
                                                            "net_namespace",
                                                            "net_namespace_ipvs",
                                                            "namespace_with_ipsets",
                                                            "instance",
                                                            "use_pid_dir",
                                                            "linkbeat_use_polling",
                                                            "child_wait_time"};

inline constexpr Ignored kIgnoredGlobal[] = {
    {"notification_email", "ipvsctl does not send email"},
    {"notification_email_from", "ipvsctl does not send email"},
    {"smtp_server", "ipvsctl does not send email"},
    {"smtp_helo_name", "ipvsctl does not send email"},
    {"smtp_connect_timeout", "ipvsctl does not send email"},
    {"smtp_alert", "ipvsctl does not send email"},
    {"smtp_alert_vrrp", "ipvsctl does not send email"},
    {"smtp_alert_checker", "ipvsctl does not send email"},
    {"no_email_faults", "ipvsctl does not send email"},
    {"no_checker_emails", "ipvsctl does not send email"},
    {"snmp_socket", "ipvsctl has no SNMP support"},
    {"enable_snmp_vrrp", "ipvsctl has no SNMP support"},
    {"enable_snmp_checker", "ipvsctl has no SNMP support"},
    {"enable_snmp_rfc", "ipvsctl has no SNMP support"},
    {"enable_snmp_rfcv2", "ipvsctl has no SNMP support"},
    {"enable_snmp_rfcv3", "ipvsctl has no SNMP support"},
    {"enable_snmp_keepalived", "ipvsctl has no SNMP support"},
    {"enable_traps", "ipvsctl has no SNMP support"},
    {"snmp_vs_stats_update_interval", "ipvsctl has no SNMP support"},
    {"snmp_rs_stats_update_interval", "ipvsctl has no SNMP support"},
    {"enable_dbus", "ipvsctl has no D-Bus support"},
    {"enable_dbus_create_instance", "ipvsctl has no D-Bus support"},
    {"dbus_service_name", "ipvsctl has no D-Bus support"},
    {"dbus_no_interface_name", "ipvsctl has no D-Bus support"},
};

inline constexpr std::string_view kUnimplementedScript[] = {"user_script_timeout"};

inline constexpr std::string_view kUnimplementedInstance[] = {"vrf",
                                                              "use_vmac",
                                                              "use_vmac_addr",
                                                              "vmac_xmit_base",
                                                              "use_ipvlan",
                                                              "native_ipv6",
                                                              "track_file",
                                                              "track_process",
                                                              "track_bfd",
                                                              "mcast_dst_ip",
                                                              "track_src_ip",
                                                              "check_unicast_src",
                                                              "unicast_fault_no_peer",
                                                              "unicast_ttl",
                                                              "old_unicast_checksum",
                                                              "v3_checksum_as_v2",
                                                              "garp_lower_prio_delay",
                                                              "garp_lower_prio_repeat",
                                                              "garp_extra_if",
                                                              "down_timer_adverts",
                                                              "timer_expired_backup",
                                                              "lower_prio_no_advert",
                                                              "higher_prio_send_advert",
                                                              "auth_hmac",
                                                              "no_virtual_ipaddress",
                                                              "promote_secondaries",
                                                              "virtual_routes",
                                                              "virtual_rules",
                                                              "skip_check_adv_addr",
                                                              "strict_mode",
                                                              "debug",
                                                              "notify_master_rx_lower_pri",
                                                              "notify_priority_changes",
                                                              "notify_deleted",
                                                              "kernel_rx_buf_size",
                                                              "linkbeat_use_polling",
                                                              "lvs_sync_daemon_interface"};

inline constexpr Ignored kIgnoredInstance[] = {
    {"smtp_alert", "ipvsctl does not send email"},
};

inline constexpr std::string_view kUnimplementedSyncGroup[] = {"track_file",
                                                               "track_process",
                                                               "track_bfd",
                                                               "notify_deleted",
                                                               "notify_priority_changes",
                                                               "global_tracking",
                                                               "sync_group_tracking_weight"};

inline constexpr Ignored kIgnoredSyncGroup[] = {
    {"smtp_alert", "ipvsctl does not send email"},
};

inline constexpr std::string_view kUnimplementedVirtualServer[] = {"persistence_engine"};

inline constexpr Ignored kIgnoredVirtualServer[] = {
    {"smtp_alert", "ipvsctl does not send email"},
    {"snmp_name", "ipvsctl has no SNMP support"},
    {"nat_mask", "it is obsolete and has no effect"},
};

inline constexpr std::string_view kUnimplementedRealServer[] = {
    "SMTP_CHECK", "DNS_CHECK", "BFD_CHECK", "PING_CHECK", "UDP_CHECK", "FILE_CHECK"};

inline constexpr Ignored kIgnoredRealServer[] = {
    {"smtp_alert", "ipvsctl does not send email"},
    {"snmp_name", "ipvsctl has no SNMP support"},
};

inline constexpr std::string_view kUnimplementedChecker[] = {"helo_name", "payload",
                                                             "require_reply"};

inline constexpr std::string_view kUnimplementedUrl[] = {
    "regex",        "regex_no_match",   "regex_options",
    "regex_stack",  "regex_min_offset", "regex_max_offset",
    "tls_compliant"};

inline constexpr std::string_view kUnimplementedAddressOptions[] = {
    "peer",     "home",     "-nodad",        "mngtmpaddr", "noprefixroute",
    "autojoin", "no_track", "preferred_lft", "use_vmac",   "track_group"};

}  // namespace ipvsctl::config::detail
