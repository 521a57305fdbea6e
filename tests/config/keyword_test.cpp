// SPDX-License-Identifier: GPL-2.0-or-later
// One row per keyword: a config using it and the value it must produce.
// A coverage test makes sure every implemented keyword has a row, and every
// recognised-but-unimplemented keepalived keyword is refused with its location.
#include <catch2/catch.hpp>
#include <set>

#include "config/builder.hpp"
#include "helpers.hpp"

using namespace config_test;
using nlohmann::json;

namespace {

std::string global(std::string_view body) {
    return "global_defs {\n" + std::string(body) + "\n}\n";
}
std::string script(std::string_view body) {
    return "vrrp_script chk {\n    script /bin/true\n" + std::string(body) + "\n}\n";
}
std::string sync_group(std::string_view body) {
    return instance("") + "vrrp_sync_group G {\n    group {\n        VI_1\n    }\n" +
           std::string(body) + "\n}\n";
}
std::string http(std::string_view body) {
    return checker("HTTP_GET", "url {\npath /\n}\n" + std::string(body));
}
std::string ssl(std::string_view body) {
    return checker("SSL_GET", "url {\npath /\n}\n" + std::string(body));
}
std::string misc(std::string_view body) {
    return checker("MISC_CHECK", "misc_path /bin/true\n" + std::string(body));
}
std::string url(std::string_view body) {
    return checker("HTTP_GET", "url {\n" + std::string(body) + "\n}");
}
std::string weight(std::string_view source, std::string_view body) {
    return real_server("dynamic_weight " + std::string(source) + " {\n" + std::string(body) +
                       "\n}");
}

struct Row {
    std::string_view context;
    std::string_view keyword;
    std::string text;
    std::string_view pointer;
    std::string_view expected;  ///< JSON text
};

const std::vector<Row>& rows() {
    static const std::vector<Row> table = {
        // the top level
        {"the top level", "global_defs", global("router_id a"), "/global_defs/router_id", R"("a")"},
        {"the top level", "vrrp_script", script(""), "/vrrp_scripts/0/name", R"("chk")"},
        {"the top level", "vrrp_instance", instance(""), "/vrrp_instances/0/name", R"("VI_1")"},
        {"the top level", "vrrp_sync_group", sync_group(""), "/vrrp_sync_groups/0/group",
         R"(["VI_1"])"},
        {"the top level", "virtual_server_group",
         "virtual_server_group web {\n10.0.0.1-3 80\nfwmark 7 inet\n}\n",
         "/virtual_server_groups/0",
         R"({"name":"web","addresses":[{"first":"10.0.0.1","last":"10.0.0.3","port":80}],"fwmarks":[{"fwmark":7,"family":"inet"}]})"},
        {"the top level", "virtual_server", virtual_server(""), "/virtual_servers/0/key",
         R"("10.0.0.100:80/tcp")"},
        {"the top level", "virtual_server", "virtual_server fwmark 9 {\n}\n",
         "/virtual_servers/0/key", R"("fwmark 9/inet")"},
        {"the top level", "virtual_server",
         "virtual_server_group g {\n10.0.0.1 80\n}\nvirtual_server group g {\nprotocol UDP\n}\n",
         "/virtual_servers/0/key", R"("group g/udp")"},

        // global_defs
        {"global_defs", "router_id", global("router_id lb1"), "/global_defs/router_id", R"("lb1")"},
        {"global_defs", "script_user", global("script_user nobody :nogroup"),
         "/global_defs/script_user", R"({"user":"nobody","group":"nogroup"})"},
        {"global_defs", "enable_script_security", global("enable_script_security"),
         "/global_defs/enable_script_security", "true"},
        {"global_defs", "vrrp_version", global("vrrp_version 3"), "/global_defs/vrrp_version", "3"},
        {"global_defs", "vrrp_version", global("vrrp_version 3") + instance(""),
         "/vrrp_instances/0/version", "3"},
        {"global_defs", "vrrp_mcast_group4", global("vrrp_mcast_group4 224.0.0.19"),
         "/global_defs/vrrp_mcast_group4", R"("224.0.0.19")"},
        {"global_defs", "vrrp_mcast_group6", global("vrrp_mcast_group6 ff02::13"),
         "/global_defs/vrrp_mcast_group6", R"("ff02::13")"},
        {"global_defs", "vrrp_garp_master_delay", global("vrrp_garp_master_delay 10"),
         "/global_defs/vrrp_garp_master_delay", "10"},
        {"global_defs", "vrrp_garp_master_delay",
         global("vrrp_garp_master_delay 10") + instance(""), "/vrrp_instances/0/garp_master_delay",
         "10"},
        {"global_defs", "vrrp_garp_master_repeat", global("vrrp_garp_master_repeat 2"),
         "/global_defs/vrrp_garp_master_repeat", "2"},
        {"global_defs", "vrrp_garp_master_refresh", global("vrrp_garp_master_refresh 60"),
         "/global_defs/vrrp_garp_master_refresh", "60"},
        {"global_defs", "vrrp_garp_master_refresh_repeat",
         global("vrrp_garp_master_refresh_repeat 2"),
         "/global_defs/vrrp_garp_master_refresh_repeat", "2"},
        {"global_defs", "vrrp_garp_interval", global("vrrp_garp_interval 0.001"),
         "/global_defs/vrrp_garp_interval", "0.001"},
        {"global_defs", "vrrp_gna_interval", global("vrrp_gna_interval 0.000001"),
         "/global_defs/vrrp_gna_interval", "0.000001"},
        {"global_defs", "vrrp_min_garp", global("vrrp_min_garp"),
         "/global_defs/vrrp_garp_master_repeat", "1"},
        {"global_defs", "vrrp_min_garp", global("vrrp_min_garp on"),
         "/global_defs/vrrp_garp_master_delay", "0"},
        {"global_defs", "vrrp_min_garp", global("vrrp_min_garp off"),
         "/global_defs/vrrp_garp_master_repeat", "5"},
        {"global_defs", "vrrp_strict", global("vrrp_strict"), "/global_defs/vrrp_strict", "true"},
        {"global_defs", "vrrp_strict", global("vrrp_strict") + instance(""),
         "/vrrp_instances/0/accept", "false"},
        {"global_defs", "vrrp_check_unicast_src", global("vrrp_check_unicast_src"),
         "/global_defs/vrrp_check_unicast_src", "true"},
        {"global_defs", "vrrp_skip_check_adv_addr", global("vrrp_skip_check_adv_addr yes"),
         "/global_defs/vrrp_skip_check_adv_addr", "true"},
        {"global_defs", "vrrp_startup_delay", global("vrrp_startup_delay 5.5"),
         "/global_defs/vrrp_startup_delay", "5.5"},
        {"global_defs", "vrrp_rt_priority", global("vrrp_rt_priority 50"),
         "/global_defs/vrrp_rt_priority", "50"},
        {"global_defs", "vrrp_rt_priority", global(""), "/global_defs/vrrp_rt_priority", "null"},
        {"global_defs", "vrrp_no_swap", global("vrrp_no_swap"), "/global_defs/vrrp_no_swap",
         "true"},
        {"global_defs", "vrrp_cpu_affinity", global("vrrp_cpu_affinity 3 1 3"),
         "/global_defs/vrrp_cpu_affinity", "[1,3]"},
        {"global_defs", "lvs_timeouts", global("lvs_timeouts tcp 7200 tcpfin 120 udp 300"),
         "/global_defs/lvs_timeouts", R"({"tcp":7200,"tcpfin":120,"udp":300})"},
        {"global_defs", "lvs_sync_daemon",
         global("lvs_sync_daemon eth1 VI_1 id 5 maxlen 1400 port 8849 ttl 2 group 224.0.0.82") +
             instance(""),
         "/global_defs/lvs_sync_daemon",
         R"({"interface":"eth1","inst":"VI_1","id":5,"maxlen":1400,"port":8849,"ttl":2,"group":"224.0.0.82"})"},
        {"global_defs", "lvs_sync_daemon", global("lvs_sync_daemon eth1"),
         "/global_defs/lvs_sync_daemon",
         R"({"interface":"eth1","inst":null,"id":null,"maxlen":null,"port":8848,"ttl":null,"group":"224.0.0.81"})"},
        {"global_defs", "lvs_flush", global("lvs_flush"), "/global_defs/lvs_flush", "true"},
        {"global_defs", "lvs_flush_on_stop", global("lvs_flush_on_stop VS"),
         "/global_defs/lvs_flush_on_stop", "true"},
        {"global_defs", "metrics_listen",
         global("metrics_listen healthcheckd [::1]:9102\nmetrics_listen vrrpd 127.0.0.1:9101"),
         "/global_defs/metrics_listen",
         R"({"healthcheckd":"[::1]:9102","vrrpd":"127.0.0.1:9101"})"},
        {"global_defs", "control_socket", global("control_socket vrrpd /run/x.sock"),
         "/global_defs/control_socket",
         R"({"vrrpd":"/run/x.sock","healthcheckd":"/run/ipvsctl/healthcheckd.sock"})"},

        // vrrp_script
        {"vrrp_script", "script", "vrrp_script chk {\nscript \"/usr/bin/check --fast\"\n}\n",
         "/vrrp_scripts/0/script", R"("/usr/bin/check --fast")"},
        {"vrrp_script", "interval", script("interval 2.5"), "/vrrp_scripts/0/interval", "2.5"},
        {"vrrp_script", "interval", script("interval 2.5"), "/vrrp_scripts/0/timeout", "2.5"},
        {"vrrp_script", "timeout", script("timeout 4"), "/vrrp_scripts/0/timeout", "4"},
        {"vrrp_script", "weight", script("weight -20"), "/vrrp_scripts/0/weight", "-20"},
        {"vrrp_script", "weight", script("weight 20 reverse"), "/vrrp_scripts/0/reverse", "true"},
        {"vrrp_script", "rise", script("rise 3"), "/vrrp_scripts/0/rise", "3"},
        {"vrrp_script", "fall", script("fall 2"), "/vrrp_scripts/0/fall", "2"},
        {"vrrp_script", "user", script("user nobody"), "/vrrp_scripts/0/user",
         R"({"user":"nobody","group":null})"},
        {"vrrp_script", "init_fail", script("init_fail"), "/vrrp_scripts/0/init_fail", "true"},

        // vrrp_instance
        {"vrrp_instance", "state", instance("state MASTER"), "/vrrp_instances/0/state",
         R"("MASTER")"},
        {"vrrp_instance", "interface", instance("interface eth1"), "/vrrp_instances/0/interface",
         R"("eth1")"},
        {"vrrp_instance", "virtual_router_id", instance("virtual_router_id 7"),
         "/vrrp_instances/0/virtual_router_id", "7"},
        {"vrrp_instance", "priority", instance("priority 200"), "/vrrp_instances/0/priority",
         "200"},
        {"vrrp_instance", "advert_int", instance("advert_int 3"), "/vrrp_instances/0/advert_int",
         "3"},
        {"vrrp_instance", "advert_int", instance("version 3\nadvert_int 0.25"),
         "/vrrp_instances/0/advert_int", "0.25"},
        {"vrrp_instance", "version", instance("version 3"), "/vrrp_instances/0/version", "3"},
        {"vrrp_instance", "nopreempt", instance("nopreempt"), "/vrrp_instances/0/nopreempt",
         "true"},
        {"vrrp_instance", "preempt", instance("nopreempt\npreempt"), "/vrrp_instances/0/nopreempt",
         "false"},
        {"vrrp_instance", "preempt_delay", instance("preempt_delay 300"),
         "/vrrp_instances/0/preempt_delay", "300"},
        {"vrrp_instance", "accept", global("vrrp_strict") + instance("accept"),
         "/vrrp_instances/0/accept", "true"},
        {"vrrp_instance", "no_accept", instance("no_accept"), "/vrrp_instances/0/accept", "false"},
        {"vrrp_instance", "dont_track_primary", instance("dont_track_primary"),
         "/vrrp_instances/0/dont_track_primary", "true"},
        {"vrrp_instance", "authentication",
         instance("authentication {\nauth_type PASS\nauth_pass s3cret\n}"),
         "/vrrp_instances/0/authentication", R"({"auth_type":"PASS","auth_pass":"s3cret"})"},
        {"vrrp_instance", "unicast_src_ip", instance("unicast_src_ip 10.0.0.1"),
         "/vrrp_instances/0/unicast_src_ip", R"("10.0.0.1")"},
        {"vrrp_instance", "unicast_peer",
         instance("unicast_peer {\n10.0.0.2 min_ttl 250 max_ttl 255\n10.0.0.3\n}"),
         "/vrrp_instances/0/unicast_peer",
         R"([{"address":"10.0.0.2","min_ttl":250,"max_ttl":255},{"address":"10.0.0.3","min_ttl":null,"max_ttl":null}])"},
        {"vrrp_instance", "mcast_src_ip", instance("mcast_src_ip 10.0.0.1"),
         "/vrrp_instances/0/mcast_src_ip", R"("10.0.0.1")"},
        {"vrrp_instance", "virtual_ipaddress",
         instance("virtual_ipaddress {\n10.0.0.101/24 brd 10.0.0.255 dev eth1 label eth1:1 scope "
                  "global\n10.0.0.102\n}"),
         "/vrrp_instances/0/virtual_ipaddress",
         R"([{"address":"10.0.0.100/24","brd":null,"dev":null,"label":null,"scope":null},
             {"address":"10.0.0.101/24","brd":"10.0.0.255","dev":"eth1","label":"eth1:1","scope":"global"},
             {"address":"10.0.0.102/32","brd":null,"dev":null,"label":null,"scope":null}])"},
        {"vrrp_instance", "virtual_ipaddress_excluded",
         instance("virtual_ipaddress_excluded {\n2001:db8::1/64 dev eth0\n}"),
         "/vrrp_instances/0/virtual_ipaddress_excluded",
         R"([{"address":"2001:db8::1/64","brd":null,"dev":"eth0","label":null,"scope":null}])"},
        {"vrrp_instance", "track_interface",
         instance("track_interface {\neth1 weight -10 reverse\neth2\n}"),
         "/vrrp_instances/0/track_interface",
         R"([{"name":"eth1","weight":-10,"reverse":true},{"name":"eth2","weight":0,"reverse":false}])"},
        {"vrrp_instance", "track_script", script("weight -2") + instance("track_script {\nchk\n}"),
         "/vrrp_instances/0/track_script", R"([{"name":"chk","weight":-2,"reverse":false}])"},
        {"vrrp_instance", "track_script",
         script("weight -2") + instance("track_script {\nchk weight 5 reverse\n}"),
         "/vrrp_instances/0/track_script", R"([{"name":"chk","weight":5,"reverse":true}])"},
        {"vrrp_instance", "notify_master", instance("notify_master \"/bin/n master\" root :wheel"),
         "/vrrp_instances/0/notify_master",
         R"({"command":"/bin/n master","user":"root","group":"wheel"})"},
        {"vrrp_instance", "notify_backup", instance("notify_backup /bin/b"),
         "/vrrp_instances/0/notify_backup", R"({"command":"/bin/b","user":null,"group":null})"},
        {"vrrp_instance", "notify_fault", instance("notify_fault /bin/f"),
         "/vrrp_instances/0/notify_fault/command", R"("/bin/f")"},
        {"vrrp_instance", "notify_stop", instance("notify_stop /bin/s"),
         "/vrrp_instances/0/notify_stop/command", R"("/bin/s")"},
        {"vrrp_instance", "notify", instance("notify /bin/any"), "/vrrp_instances/0/notify/command",
         R"("/bin/any")"},
        {"vrrp_instance", "garp_master_delay", instance("garp_master_delay 1"),
         "/vrrp_instances/0/garp_master_delay", "1"},
        {"vrrp_instance", "garp_master_repeat", instance("garp_master_repeat 3"),
         "/vrrp_instances/0/garp_master_repeat", "3"},
        {"vrrp_instance", "garp_master_refresh", instance("garp_master_refresh 30"),
         "/vrrp_instances/0/garp_master_refresh", "30"},
        {"vrrp_instance", "garp_master_refresh_repeat", instance("garp_master_refresh_repeat 2"),
         "/vrrp_instances/0/garp_master_refresh_repeat", "2"},

        // authentication
        {"authentication", "auth_type",
         instance("authentication {\nauth_type PASS\nauth_pass x\n}"),
         "/vrrp_instances/0/authentication/auth_type", R"("PASS")"},
        {"authentication", "auth_pass", instance("authentication {\nauth_pass 12345678\n}"),
         "/vrrp_instances/0/authentication/auth_pass", R"("12345678")"},

        // vrrp_sync_group
        {"vrrp_sync_group", "group", sync_group(""), "/vrrp_sync_groups/0/group", R"(["VI_1"])"},
        {"vrrp_sync_group", "track_interface", sync_group("track_interface {\neth3\n}"),
         "/vrrp_sync_groups/0/track_interface", R"([{"name":"eth3","weight":0,"reverse":false}])"},
        {"vrrp_sync_group", "track_script", script("") + sync_group("track_script {\nchk\n}"),
         "/vrrp_sync_groups/0/track_script", R"([{"name":"chk","weight":0,"reverse":false}])"},
        {"vrrp_sync_group", "notify_master", sync_group("notify_master /bin/m"),
         "/vrrp_sync_groups/0/notify_master/command", R"("/bin/m")"},
        {"vrrp_sync_group", "notify_backup", sync_group("notify_backup /bin/b"),
         "/vrrp_sync_groups/0/notify_backup/command", R"("/bin/b")"},
        {"vrrp_sync_group", "notify_fault", sync_group("notify_fault /bin/f"),
         "/vrrp_sync_groups/0/notify_fault/command", R"("/bin/f")"},
        {"vrrp_sync_group", "notify_stop", sync_group("notify_stop /bin/s"),
         "/vrrp_sync_groups/0/notify_stop/command", R"("/bin/s")"},
        {"vrrp_sync_group", "notify", sync_group("notify /bin/n"),
         "/vrrp_sync_groups/0/notify/command", R"("/bin/n")"},

        // virtual_server
        {"virtual_server", "lb_algo", virtual_server("lb_algo rr"), "/virtual_servers/0/lvs_sched",
         R"("rr")"},
        {"virtual_server", "lvs_sched", virtual_server("lvs_sched twos"),
         "/virtual_servers/0/lvs_sched", R"("twos")"},
        {"virtual_server", "flag-1", virtual_server("flag-1"), "/virtual_servers/0/scheduler_flags",
         R"(["flag-1"])"},
        {"virtual_server", "flag-2", virtual_server("flag-2"), "/virtual_servers/0/scheduler_flags",
         R"(["flag-2"])"},
        {"virtual_server", "flag-3", virtual_server("flag-3"), "/virtual_servers/0/scheduler_flags",
         R"(["flag-3"])"},
        {"virtual_server", "sh-port", virtual_server("lb_algo sh\nsh-port"),
         "/virtual_servers/0/scheduler_flags", R"(["sh-port"])"},
        {"virtual_server", "sh-fallback", virtual_server("lb_algo sh\nsh-fallback"),
         "/virtual_servers/0/scheduler_flags", R"(["sh-fallback"])"},
        {"virtual_server", "mh-port", virtual_server("lb_algo mh\nmh-port"),
         "/virtual_servers/0/scheduler_flags", R"(["mh-port"])"},
        {"virtual_server", "mh-fallback", virtual_server("lb_algo mh\nmh-fallback"),
         "/virtual_servers/0/scheduler_flags", R"(["mh-fallback"])"},
        {"virtual_server", "ops", virtual_server("protocol UDP\nops"), "/virtual_servers/0/ops",
         "true"},
        {"virtual_server", "lb_kind", virtual_server("lb_kind DR"), "/virtual_servers/0/lvs_method",
         R"({"method":"DR"})"},
        {"virtual_server", "lb_kind", virtual_server("lb_kind FNAT"),
         "/virtual_servers/0/lvs_method", R"({"method":"FNAT","source":null})"},
        {"virtual_server", "lb_kind", virtual_server("lb_kind FNAT source 10.0.1.254"),
         "/virtual_servers/0/lvs_method", R"({"method":"FNAT","source":"10.0.1.254"})"},
        {"virtual_server", "lvs_method",
         virtual_server("lvs_method TUN type gue port 6080 remcsum"),
         "/virtual_servers/0/lvs_method",
         R"({"method":"TUN","tunnel_type":"gue","tunnel_port":6080,"tunnel_checksum":"remcsum"})"},
        {"virtual_server", "lvs_method", virtual_server("lvs_method TUN"),
         "/virtual_servers/0/lvs_method",
         R"({"method":"TUN","tunnel_type":"ipip","tunnel_port":null,"tunnel_checksum":"none"})"},
        {"virtual_server", "persistence_timeout", virtual_server("persistence_timeout 600"),
         "/virtual_servers/0/persistence_timeout", "600"},
        {"virtual_server", "persistence_timeout", virtual_server("persistence_timeout"),
         "/virtual_servers/0/persistence_timeout", "360"},
        {"virtual_server", "persistence_timeout", virtual_server("persistence_timeout 0"),
         "/virtual_servers/0/persistence_timeout", "null"},
        {"virtual_server", "persistence_granularity",
         virtual_server("persistence_timeout 60\npersistence_granularity 255.255.255.0"),
         "/virtual_servers/0/persistence_granularity", "24"},
        {"virtual_server", "protocol", virtual_server("protocol SCTP"),
         "/virtual_servers/0/protocol", R"("SCTP")"},
        {"virtual_server", "ha_suspend", virtual_server("ha_suspend"),
         "/virtual_servers/0/ha_suspend", "true"},
        {"virtual_server", "virtualhost", virtual_server("virtualhost www.example.org"),
         "/virtual_servers/0/virtualhost", R"("www.example.org")"},
        {"virtual_server", "alpha", virtual_server("alpha"), "/virtual_servers/0/alpha", "true"},
        {"virtual_server", "omega", virtual_server("omega"), "/virtual_servers/0/omega", "true"},
        {"virtual_server", "quorum", virtual_server("quorum 3"), "/virtual_servers/0/quorum", "3"},
        {"virtual_server", "hysteresis", virtual_server("quorum 3\nhysteresis 1"),
         "/virtual_servers/0/hysteresis", "1"},
        {"virtual_server", "quorum_up", virtual_server("quorum_up \"/bin/up web\""),
         "/virtual_servers/0/quorum_up/command", R"("/bin/up web")"},
        {"virtual_server", "quorum_down", virtual_server("quorum_down /bin/down"),
         "/virtual_servers/0/quorum_down/command", R"("/bin/down")"},
        {"virtual_server", "ip_family", "virtual_server fwmark 5 {\nip_family inet6\n}\n",
         "/virtual_servers/0/ip_family", R"("inet6")"},
        {"virtual_server", "sorry_server", virtual_server("sorry_server 10.0.9.9 8080"),
         "/virtual_servers/0/sorry_server",
         R"({"address":"10.0.9.9","port":8080,"inhibit":false,"lvs_method":{"method":"NAT"}})"},
        {"virtual_server", "sorry_server_inhibit",
         virtual_server("sorry_server 10.0.9.9 8080\nsorry_server_inhibit"),
         "/virtual_servers/0/sorry_server/inhibit", "true"},
        {"virtual_server", "sorry_server_lvs_method",
         virtual_server("lb_kind DR\nsorry_server 10.0.9.9\nsorry_server_lvs_method NAT"),
         "/virtual_servers/0/sorry_server/lvs_method", R"({"method":"NAT"})"},
        {"virtual_server", "connect_timeout", real_server("TCP_CHECK {\n}", "connect_timeout 7"),
         "/virtual_servers/0/real_servers/0/checkers/0/connect_timeout", "7"},
        {"virtual_server", "retry", real_server("TCP_CHECK {\n}", "retry 4"),
         "/virtual_servers/0/real_servers/0/checkers/0/retry", "4"},
        {"virtual_server", "delay_before_retry",
         real_server("TCP_CHECK {\n}", "delay_before_retry 2"),
         "/virtual_servers/0/real_servers/0/checkers/0/delay_before_retry", "2"},
        {"virtual_server", "warmup", real_server("TCP_CHECK {\n}", "warmup 0"),
         "/virtual_servers/0/real_servers/0/checkers/0/warmup", "0"},
        {"virtual_server", "delay_loop", real_server("TCP_CHECK {\n}", "delay_loop 10"),
         "/virtual_servers/0/real_servers/0/checkers/0/warmup", "10"},
        {"virtual_server", "delay_loop", virtual_server("delay_loop 10"),
         "/virtual_servers/0/delay_loop", "10"},
        {"virtual_server", "rise", real_server("TCP_CHECK {\n}", "rise 3"),
         "/virtual_servers/0/real_servers/0/checkers/0/rise", "3"},
        {"virtual_server", "inhibit_on_failure", real_server("", "inhibit_on_failure"),
         "/virtual_servers/0/real_servers/0/inhibit_on_failure", "true"},
        {"virtual_server", "real_server", virtual_server("real_server 10.0.1.5 {\n}"),
         "/virtual_servers/0/real_servers/0/port", "80"},

        // real_server
        {"real_server", "weight", real_server("weight 100"),
         "/virtual_servers/0/real_servers/0/weight", "100"},
        {"real_server", "lvs_method", real_server("lvs_method DR"),
         "/virtual_servers/0/real_servers/0/lvs_method", R"({"method":"DR"})"},
        {"real_server", "lb_kind", real_server("lb_kind FNAT"),
         "/virtual_servers/0/real_servers/0/lvs_method", R"({"method":"FNAT","source":null})"},
        {"real_server", "notify_up", real_server("notify_up /bin/up"),
         "/virtual_servers/0/real_servers/0/notify_up/command", R"("/bin/up")"},
        {"real_server", "notify_down", real_server("notify_down /bin/down"),
         "/virtual_servers/0/real_servers/0/notify_down/command", R"("/bin/down")"},
        {"real_server", "uthreshold", real_server("uthreshold 1000"),
         "/virtual_servers/0/real_servers/0/uthreshold", "1000"},
        {"real_server", "lthreshold", real_server("lthreshold 10\nuthreshold 20"),
         "/virtual_servers/0/real_servers/0/lthreshold", "10"},
        {"real_server", "inhibit_on_failure",
         real_server("inhibit_on_failure false", "inhibit_on_failure"),
         "/virtual_servers/0/real_servers/0/inhibit_on_failure", "false"},
        {"real_server", "alpha", real_server("alpha\nTCP_CHECK {\n}"),
         "/virtual_servers/0/real_servers/0/checkers/0/alpha", "true"},
        {"real_server", "virtualhost",
         real_server("virtualhost rs.example\nHTTP_GET {\nurl {\npath /\n}\n}",
                     "virtualhost vs.example"),
         "/virtual_servers/0/real_servers/0/checkers/0/virtualhost", R"("rs.example")"},
        {"real_server", "connect_timeout",
         real_server("connect_timeout 2\nTCP_CHECK {\n}", "connect_timeout 7"),
         "/virtual_servers/0/real_servers/0/checkers/0/connect_timeout", "2"},
        {"real_server", "retry", real_server("retry 0\nTCP_CHECK {\n}"),
         "/virtual_servers/0/real_servers/0/checkers/0/retry", "0"},
        {"real_server", "delay_before_retry", real_server("delay_before_retry 0.5\nTCP_CHECK {\n}"),
         "/virtual_servers/0/real_servers/0/checkers/0/delay_before_retry", "0.5"},
        {"real_server", "warmup", real_server("warmup 2\nTCP_CHECK {\n}"),
         "/virtual_servers/0/real_servers/0/checkers/0/warmup", "2"},
        {"real_server", "delay_loop", real_server("delay_loop 3\nTCP_CHECK {\n}"),
         "/virtual_servers/0/real_servers/0/checkers/0/delay_loop", "3"},
        {"real_server", "rise", real_server("rise 2\nTCP_CHECK {\n}"),
         "/virtual_servers/0/real_servers/0/checkers/0/rise", "2"},
        {"real_server", "backup", real_server("backup"), "/virtual_servers/0/real_servers/0/backup",
         "true"},
        {"real_server", "down", real_server("down"), "/virtual_servers/0/real_servers/0/down",
         "true"},
        {"real_server", "dynamic_weight",
         real_server("weight 50\ndynamic_weight response_time {\n}"),
         "/virtual_servers/0/real_servers/0/dynamic_weight",
         R"({"source":"response_time","target_response_time":0.1,"min_weight":1,"max_weight":50})"},
        {"real_server", "dynamic_weight", real_server("dynamic_weight agent {\nport 4444\n}"),
         "/virtual_servers/0/real_servers/0/dynamic_weight",
         R"({"source":"agent","port":4444,"interval":5,"timeout":2,"min_weight":1,"max_weight":1})"},
        {"real_server", "TCP_CHECK", real_server("TCP_CHECK {\n}"),
         "/virtual_servers/0/real_servers/0/checkers/0",
         R"({"type":"TCP_CHECK","connect_ip":null,"connect_port":null,"bindto":null,"bind_port":null,"bind_if":null,
             "fwmark":null,"connect_timeout":5,"retry":1,"delay_before_retry":1,"warmup":60,"delay_loop":60,"alpha":false,
             "rise":1,"log_all_failures":false})"},
        {"real_server", "HTTP_GET", http(""),
         "/virtual_servers/0/real_servers/0/checkers/0/delay_before_retry", "3"},
        {"real_server", "SSL_GET", ssl(""), "/virtual_servers/0/real_servers/0/checkers/0/type",
         R"("SSL_GET")"},
        {"real_server", "MISC_CHECK", misc(""),
         "/virtual_servers/0/real_servers/0/checkers/0/retry", "0"},
        {"real_server", "MISC_CHECK", misc(""),
         "/virtual_servers/0/real_servers/0/checkers/0/misc_timeout", "60"},

        // checkers
        {"checker", "connect_ip", checker("TCP_CHECK", "connect_ip 10.0.2.1"),
         "/virtual_servers/0/real_servers/0/checkers/0/connect_ip", R"("10.0.2.1")"},
        {"checker", "connect_port", checker("TCP_CHECK", "connect_port 8080"),
         "/virtual_servers/0/real_servers/0/checkers/0/connect_port", "8080"},
        {"checker", "bindto", checker("TCP_CHECK", "bindto 10.0.0.2"),
         "/virtual_servers/0/real_servers/0/checkers/0/bindto", R"("10.0.0.2")"},
        {"checker", "bind_port", checker("TCP_CHECK", "bind_port 40000"),
         "/virtual_servers/0/real_servers/0/checkers/0/bind_port", "40000"},
        {"checker", "bind_if", checker("TCP_CHECK", "bind_if eth1"),
         "/virtual_servers/0/real_servers/0/checkers/0/bind_if", R"("eth1")"},
        {"checker", "fwmark", checker("TCP_CHECK", "fwmark 12"),
         "/virtual_servers/0/real_servers/0/checkers/0/fwmark", "12"},
        {"checker", "connect_timeout", checker("TCP_CHECK", "connect_timeout 1.5"),
         "/virtual_servers/0/real_servers/0/checkers/0/connect_timeout", "1.5"},
        {"checker", "retry", checker("TCP_CHECK", "retry 2"),
         "/virtual_servers/0/real_servers/0/checkers/0/retry", "2"},
        {"checker", "nb_get_retry", checker("TCP_CHECK", "nb_get_retry 3"),
         "/virtual_servers/0/real_servers/0/checkers/0/retry", "3"},
        {"checker", "delay_before_retry", checker("TCP_CHECK", "delay_before_retry 4"),
         "/virtual_servers/0/real_servers/0/checkers/0/delay_before_retry", "4"},
        {"checker", "warmup", checker("TCP_CHECK", "warmup 5"),
         "/virtual_servers/0/real_servers/0/checkers/0/warmup", "5"},
        {"checker", "delay_loop", checker("TCP_CHECK", "delay_loop 6"),
         "/virtual_servers/0/real_servers/0/checkers/0/delay_loop", "6"},
        {"checker", "alpha", checker("TCP_CHECK", "alpha yes"),
         "/virtual_servers/0/real_servers/0/checkers/0/alpha", "true"},
        {"checker", "rise", checker("TCP_CHECK", "rise 4"),
         "/virtual_servers/0/real_servers/0/checkers/0/rise", "4"},
        {"checker", "log_all_failures", checker("TCP_CHECK", "log_all_failures"),
         "/virtual_servers/0/real_servers/0/checkers/0/log_all_failures", "true"},
        {"checker", "http_protocol", http("http_protocol 1.1"),
         "/virtual_servers/0/real_servers/0/checkers/0/http_protocol", R"("1.1")"},
        {"checker", "url", http(""), "/virtual_servers/0/real_servers/0/checkers/0/url",
         R"([{"path":"/","digest":null,"status_code":["200-299"],"virtualhost":null}])"},
        {"checker", "virtualhost", http("virtualhost www.example.org"),
         "/virtual_servers/0/real_servers/0/checkers/0/virtualhost", R"("www.example.org")"},
        {"checker", "fast_recovery", http("fast_recovery"),
         "/virtual_servers/0/real_servers/0/checkers/0/fast_recovery", "true"},
        {"checker", "reuse_connection", http("reuse_connection"),
         "/virtual_servers/0/real_servers/0/checkers/0/reuse_connection", "true"},
        {"checker", "enable_sni", ssl("enable_sni"),
         "/virtual_servers/0/real_servers/0/checkers/0/enable_sni", "true"},
        {"checker", "sni_name", ssl("sni_name api.example.org"),
         "/virtual_servers/0/real_servers/0/checkers/0/sni_name", R"("api.example.org")"},
        {"checker", "tls_compliant", ssl("tls_compliant"),
         "/virtual_servers/0/real_servers/0/checkers/0/tls_compliant", "true"},
        {"checker", "misc_path", checker("MISC_CHECK", "misc_path \"/usr/lib/check.sh 10.0.1.1\""),
         "/virtual_servers/0/real_servers/0/checkers/0/misc_path",
         R"("/usr/lib/check.sh 10.0.1.1")"},
        {"checker", "misc_timeout", misc("misc_timeout 5"),
         "/virtual_servers/0/real_servers/0/checkers/0/misc_timeout", "5"},
        {"checker", "misc_dynamic", misc("misc_dynamic"),
         "/virtual_servers/0/real_servers/0/checkers/0/misc_dynamic", "true"},
        {"checker", "user", misc("user nobody nogroup"),
         "/virtual_servers/0/real_servers/0/checkers/0/user",
         R"({"user":"nobody","group":"nogroup"})"},

        // url
        {"url", "path", url("path /health?full=1"),
         "/virtual_servers/0/real_servers/0/checkers/0/url/0/path", R"("/health?full=1")"},
        {"url", "digest", url("path /\ndigest 9b3a0c85a887a256d6939da88aabd8cd"),
         "/virtual_servers/0/real_servers/0/checkers/0/url/0/digest",
         R"("9b3a0c85a887a256d6939da88aabd8cd")"},
        {"url", "status_code", url("path /\nstatus_code 200-299 301 503"),
         "/virtual_servers/0/real_servers/0/checkers/0/url/0/status_code",
         R"(["200-299","301","503"])"},
        {"url", "virtualhost", url("path /\nvirtualhost a.example"),
         "/virtual_servers/0/real_servers/0/checkers/0/url/0/virtualhost", R"("a.example")"},

        // dynamic_weight
        {"dynamic_weight", "target_response_time",
         weight("response_time", "target_response_time 0.25"),
         "/virtual_servers/0/real_servers/0/dynamic_weight/target_response_time", "0.25"},
        {"dynamic_weight", "port", weight("agent", "port 4444"),
         "/virtual_servers/0/real_servers/0/dynamic_weight/port", "4444"},
        {"dynamic_weight", "interval", weight("agent", "port 4444\ninterval 10"),
         "/virtual_servers/0/real_servers/0/dynamic_weight/interval", "10"},
        {"dynamic_weight", "timeout", weight("agent", "port 4444\ntimeout 1"),
         "/virtual_servers/0/real_servers/0/dynamic_weight/timeout", "1"},
        {"dynamic_weight", "min_weight", weight("response_time", "min_weight 0"),
         "/virtual_servers/0/real_servers/0/dynamic_weight/min_weight", "0"},
        {"dynamic_weight", "max_weight", weight("response_time", "max_weight 200"),
         "/virtual_servers/0/real_servers/0/dynamic_weight/max_weight", "200"},
    };
    return table;
}

}  // namespace

TEST_CASE("each keyword produces its value", "[keywords]") {
    for (const auto& row : rows()) {
        DYNAMIC_SECTION(row.context << " / " << row.keyword << " -> " << row.pointer) {
            INFO(row.text);
            const auto result = parse(row.text);
            INFO(joined(result));
            REQUIRE(result.ok());
            for (const auto& diagnostic : result.diagnostics) {
                CHECK(diagnostic.severity != ipvsctl::config::Severity::warning);
            }
            const auto value = dump(result).at(json::json_pointer(std::string(row.pointer)));
            CHECK(value == json::parse(row.expected));
        }
    }
}

TEST_CASE("every implemented keyword has a row", "[keywords]") {
    std::set<std::pair<std::string_view, std::string_view>> covered;
    for (const auto& row : rows()) covered.emplace(row.context, row.keyword);
    for (const auto& [context, keyword] : ipvsctl::config::implemented_keywords()) {
        INFO(context << " / " << keyword);
        CHECK(covered.count({context, keyword}) == 1);
    }
}

namespace {

/// Places `line` at line 2 (or deeper, returned) of a config in `context`.
std::pair<std::string, std::string> place(std::string_view context, std::string_view line) {
    const std::string l(line);
    if (context == "the top level") return {l + "\n", "1:1"};
    if (context == "global_defs") return {"global_defs {\n" + l + "\n}\n", "2:1"};
    if (context == "vrrp_script") return {"vrrp_script s {\n" + l + "\n}\n", "2:1"};
    if (context == "vrrp_instance") return {"vrrp_instance VI_1 {\n" + l + "\n}\n", "2:1"};
    if (context == "vrrp_sync_group") return {"vrrp_sync_group G {\n" + l + "\n}\n", "2:1"};
    if (context == "virtual_server") return {"virtual_server 10.0.0.1 80 {\n" + l + "\n}\n", "2:1"};
    if (context == "real_server") {
        return {"virtual_server 10.0.0.1 80 {\nreal_server 10.0.1.1 80 {\n" + l + "\n}\n}\n",
                "3:1"};
    }
    if (context == "checker") {
        return {"virtual_server 10.0.0.1 80 {\nreal_server 10.0.1.1 80 {\nTCP_CHECK {\n" + l +
                    "\n}\n}\n}\n",
                "4:1"};
    }
    if (context == "url") {
        return {"virtual_server 10.0.0.1 80 {\nreal_server 10.0.1.1 80 {\nHTTP_GET {\nurl {\n" + l +
                    "\n}\n}\n}\n}\n",
                "5:1"};
    }
    return {"", ""};
}

}  // namespace

TEST_CASE("known keepalived keywords that are not implemented are errors", "[keywords]") {
    for (const auto& [context, keyword] : ipvsctl::config::unimplemented_keywords()) {
        DYNAMIC_SECTION(context << " / " << keyword) {
            const auto [text, at] = place(context, keyword);
            const std::string shown_context =
                context == "checker" ? "TCP_CHECK" : std::string(context);
            const auto expected = std::string(kFile) + ":" + at + ": '" + std::string(keyword) +
                                  "' in " + shown_context +
                                  " is a keepalived keyword that ipvsctl does not implement yet";
            const auto all = messages(parse(text));
            CHECK(std::find(all.begin(), all.end(), expected) != all.end());
        }
    }
}

TEST_CASE("email, SNMP and D-Bus keywords are warnings", "[keywords]") {
    struct Case {
        std::string text;
        std::string message;
    };
    const std::vector<Case> cases = {
        {global("notification_email {\nops@example.com\n}"),
         "test.conf:2:1: warning: 'notification_email' is ignored: ipvsctl does not send email"},
        {global("notification_email_from lb@example.com"),
         "test.conf:2:1: warning: 'notification_email_from' is ignored: ipvsctl does not send "
         "email"},
        {global("smtp_server 127.0.0.1"),
         "test.conf:2:1: warning: 'smtp_server' is ignored: ipvsctl does not send email"},
        {global("smtp_connect_timeout 30"),
         "test.conf:2:1: warning: 'smtp_connect_timeout' is ignored: ipvsctl does not send email"},
        {global("enable_snmp_vrrp"),
         "test.conf:2:1: warning: 'enable_snmp_vrrp' is ignored: ipvsctl has no SNMP support"},
        {global("enable_traps"),
         "test.conf:2:1: warning: 'enable_traps' is ignored: ipvsctl has no SNMP support"},
        {global("enable_dbus"),
         "test.conf:2:1: warning: 'enable_dbus' is ignored: ipvsctl has no D-Bus support"},
        {instance("smtp_alert"),
         "test.conf:7:1: warning: 'smtp_alert' is ignored: ipvsctl does not send email"},
        {virtual_server("smtp_alert"),
         "test.conf:2:1: warning: 'smtp_alert' is ignored: ipvsctl does not send email"},
        {virtual_server("nat_mask 255.255.255.0"),
         "test.conf:2:1: warning: 'nat_mask' is ignored: it is obsolete and has no effect"},
        {real_server("snmp_name web1"),
         "test.conf:4:1: warning: 'snmp_name' is ignored: ipvsctl has no SNMP support"},
    };
    for (const auto& c : cases) {
        const auto result = parse(c.text);
        INFO(c.text);
        CHECK(result.ok());
        CHECK(messages(result) == std::vector<std::string>{c.message});
    }
}
