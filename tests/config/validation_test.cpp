// SPDX-License-Identifier: GPL-2.0-or-later
// One row per validation rule: a config breaking it and the exact message,
// with its file:line:col.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace config_test;

namespace {

std::string global_text(std::string_view body) {
    return "global_defs {\n" + std::string(body) + "\n}\n";
}

struct Rule {
    std::string_view name;
    std::string text;
    std::string message;  ///< must be among the diagnostics
};

const std::vector<Rule>& rules() {
    static const std::vector<Rule> table = {
        // Shape of statements.
        {"unknown keyword with a suggestion", instance("prority 100"),
         "test.conf:7:1: unknown keyword 'prority' in vrrp_instance; did you mean 'priority'?"},
        {"unknown keyword without a suggestion", instance("frobnicate"),
         "test.conf:7:1: unknown keyword 'frobnicate' in vrrp_instance"},
        {"keyword in the wrong block", instance("real_server 10.0.0.1 80"),
         "test.conf:7:1: 'real_server' is not valid in vrrp_instance; it belongs in "
         "virtual_server"},
        {"missing value", instance("priority"), "test.conf:7:1: 'priority' needs a value"},
        {"too many values", instance("priority 100 200"),
         "test.conf:7:14: 'priority' takes at most 1 argument"},
        {"flag with a value", instance("nopreempt yes"),
         "test.conf:7:11: 'nopreempt' takes no arguments"},
        {"block missing", instance("virtual_ipaddress"),
         "test.conf:7:1: 'virtual_ipaddress' needs a block { ... }"},
        {"unexpected block", instance("priority 100 {\n}"),
         "test.conf:7:14: 'priority' does not take a block"},
        {"not a number", instance("priority high"),
         "test.conf:7:10: priority must be a whole number, not 'high'"},
        {"not seconds", instance("advert_int 1s"),
         "test.conf:7:12: advert_int must be a number of seconds, not '1s'"},
        {"vrrp_rt_priority 0", global_text("vrrp_rt_priority 0"),
         "test.conf:2:18: vrrp_rt_priority 0 is out of range 1-99"},
        {"vrrp_rt_priority 100", global_text("vrrp_rt_priority 100"),
         "test.conf:2:18: vrrp_rt_priority 100 is out of range 1-99"},
        {"vrrp_cpu_affinity -1", global_text("vrrp_cpu_affinity 0 -1"),
         "test.conf:2:21: vrrp_cpu_affinity -1 is out of range 0-1023"},
        {"vrrp_cpu_affinity x", global_text("vrrp_cpu_affinity x"),
         "test.conf:2:19: vrrp_cpu_affinity must be a whole number, not 'x'"},
        {"vrrp_no_swap with a value", global_text("vrrp_no_swap yes"),
         "test.conf:2:14: 'vrrp_no_swap' takes no arguments"},
        {"bad boolean", global_text("vrrp_skip_check_adv_addr maybe"),
         "test.conf:2:26: vrrp_skip_check_adv_addr expects on|off|true|false|yes|no, not 'maybe'"},
        {"bad address", instance("unicast_src_ip 10.0.0.300"),
         "test.conf:7:16: unicast_src_ip '10.0.0.300' is not an IP address"},

        // VRRP instance rules.
        {"VRID below range", instance("virtual_router_id 0"),
         "test.conf:7:19: virtual_router_id 0 is out of range 1-255"},
        {"VRID above range", instance("virtual_router_id 256"),
         "test.conf:7:19: virtual_router_id 256 is out of range 1-255"},
        {"VRID missing",
         "vrrp_instance VI_1 {\ninterface eth0\nvirtual_ipaddress {\n10.0.0.1\n}\n}\n",
         "test.conf:1:1: vrrp_instance VI_1 has no virtual_router_id"},
        {"interface missing",
         "vrrp_instance VI_1 {\nvirtual_router_id 1\nvirtual_ipaddress {\n10.0.0.1\n}\n}\n",
         "test.conf:1:1: vrrp_instance VI_1 has no interface"},
        {"priority 0", instance("priority 0"), "test.conf:7:10: priority 0 is out of range 1-255"},
        {"priority 256", instance("priority 256"),
         "test.conf:7:10: priority 256 is out of range 1-255"},
        {"priority 255 needs MASTER", instance("priority 255"),
         "test.conf:7:1: priority 255 is reserved for the address owner, which must have state "
         "MASTER"},
        {"priority 255 with nopreempt", instance("state MASTER\npriority 255\nnopreempt"),
         "test.conf:9:1: the address owner (priority 255) always preempts; remove nopreempt"},
        {"priority 255 with weighted tracking",
         instance("state MASTER\npriority 255\ntrack_interface {\neth1 weight 10\n}"),
         "test.conf:9:1: the address owner (priority 255) cannot change priority: track_interface "
         "eth1 must have weight 0"},
        {"advert_int fraction in v2", instance("advert_int 0.5"),
         "test.conf:7:1: advert_int 0.5 is not valid for VRRP version 2, which needs whole seconds "
         "1-255"},
        {"advert_int above v3 limit", instance("version 3\nadvert_int 41"),
         "test.conf:8:1: advert_int 41 is not valid for VRRP version 3, which needs centiseconds "
         "0.01-40.95"},
        {"advert_int below centisecond in v3", instance("version 3\nadvert_int 0.015"),
         "test.conf:8:1: advert_int 0.015 is not valid for VRRP version 3, which needs "
         "centiseconds 0.01-40.95"},
        {"advert_int below minimum", instance("advert_int 0.001"),
         "test.conf:7:12: advert_int 0.001 is out of range 0.01-255 seconds"},
        {"IPv6 with version 2",
         "vrrp_instance V6 {\ninterface eth0\nvirtual_router_id 1\nversion 2\nvirtual_ipaddress "
         "{\n2001:db8::1/64\n}\n}\n",
         "test.conf:4:1: VRRP version 2 cannot carry IPv6 addresses; use version 3"},
        {"mixed families in virtual_ipaddress", instance("virtual_ipaddress {\n2001:db8::1/64\n}"),
         "test.conf:8:1: virtual_ipaddress 2001:db8::1 is not the same address family as the first "
         "one, 10.0.0.100; put it in virtual_ipaddress_excluded"},
        {"unicast peer of the other family", instance("unicast_peer {\n2001:db8::2\n}"),
         "test.conf:7:1: unicast_peer 2001:db8::2 is IPv6 but vrrp_instance VI_1 is IPv4"},
        {"unicast_src_ip of the other family", instance("unicast_src_ip 2001:db8::2"),
         "test.conf:7:1: unicast_src_ip 2001:db8::2 is IPv6 but vrrp_instance VI_1 is IPv4"},
        {"min_ttl above max_ttl", instance("unicast_peer {\n10.0.0.2 min_ttl 200 max_ttl 100\n}"),
         "test.conf:8:1: min_ttl 200 is greater than max_ttl 100"},
        {"duplicate VIP in an instance", instance("virtual_ipaddress_excluded {\n10.0.0.100/32\n}"),
         "test.conf:8:1: virtual address 10.0.0.100 is listed twice in vrrp_instance VI_1 (first "
         "at test.conf:5:9)"},
        {"track weight out of range", instance("track_interface {\neth1 weight 300\n}"),
         "test.conf:8:13: track weight 300 is out of range -253-253"},
        {"script weight out of range", "vrrp_script s {\nscript /bin/true\nweight -254\n}\n",
         "test.conf:3:8: weight -254 is out of range -253-253"},
        {"track_script without vrrp_script", instance("track_script {\nnope\n}"),
         "test.conf:8:1: track_script 'nope' of vrrp_instance VI_1 names no vrrp_script"},
        {"vrrp_script without script", "vrrp_script s {\ninterval 2\n}\n",
         "test.conf:1:1: vrrp_script s has no script"},
        {"authentication in v3",
         instance("version 3\nauthentication {\nauth_type PASS\nauth_pass x\n}"),
         "test.conf:8:1: VRRP version 3 has no authentication (RFC 5798)"},
        {"auth_type AH", instance("authentication {\nauth_type AH\nauth_pass x\n}"),
         "test.conf:8:11: auth_type AH is a keepalived option ipvsctl does not implement yet"},
        {"address option not implemented", instance("virtual_ipaddress {\n10.0.0.7 no_track\n}"),
         "test.conf:8:10: address option 'no_track' of virtual_ipaddress is a keepalived option "
         "ipvsctl does not implement yet"},
        {"bad scope", instance("virtual_ipaddress {\n10.0.0.7 scope galaxy\n}"),
         "test.conf:8:16: scope must be site, link, host, nowhere or global, not 'galaxy'"},
        {"duplicate vrrp_instance", instance("") + instance(""),
         "test.conf:9:1: vrrp_instance VI_1 is defined twice (first at test.conf:1:1)"},
        {"duplicate VRID on an interface",
         instance("") + "vrrp_instance VI_2 {\ninterface eth0\nvirtual_router_id "
                        "51\nvirtual_ipaddress {\n10.0.0.200\n}\n}\n",
         "test.conf:9:1: virtual_router_id 51 on eth0 (inet) is already used by vrrp_instance VI_1 "
         "at test.conf:1:1"},
        {"VIP in two instances",
         instance("") + "vrrp_instance VI_2 {\ninterface eth0\nvirtual_router_id "
                        "52\nvirtual_ipaddress {\n10.0.0.100\n}\n}\n",
         "test.conf:13:1: virtual address 10.0.0.100 is already managed by vrrp_instance VI_1"},
        {"sync group with unknown member", "vrrp_sync_group G {\ngroup {\nVI_9\n}\n}\n",
         "test.conf:3:1: vrrp_sync_group G names 'VI_9', which is no vrrp_instance"},
        {"empty sync group", "vrrp_sync_group G {\nnotify /bin/n\n}\n",
         "test.conf:1:1: vrrp_sync_group G has no group { } of vrrp_instances"},
        {"instance in two sync groups",
         instance("") +
             "vrrp_sync_group A {\ngroup {\nVI_1\n}\n}\nvrrp_sync_group B {\ngroup {\nVI_1\n}\n}\n",
         "test.conf:14:1: vrrp_instance VI_1 is in vrrp_sync_group A and B; an instance can be in "
         "one group only"},
        {"lvs_sync_daemon names no instance", "global_defs {\nlvs_sync_daemon eth1 inst VI_9\n}\n",
         "test.conf:1:1: lvs_sync_daemon names vrrp_instance VI_9, which is not defined"},
        {"shared control socket",
         "global_defs {\ncontrol_socket vrrpd /run/x.sock\ncontrol_socket healthcheckd "
         "/run/x.sock\n}\n",
         "test.conf:3:1: vrrpd and healthcheckd cannot share the control socket /run/x.sock"},
        {"relative control socket", "global_defs {\ncontrol_socket vrrpd x.sock\n}\n",
         "test.conf:2:22: control_socket needs an absolute path, not 'x.sock'"},
        {"bad metrics endpoint", "global_defs {\nmetrics_listen vrrpd ::1:9100\n}\n",
         "test.conf:2:22: metrics_listen needs ADDRESS:PORT (IPv6 as [ADDRESS]:PORT), not "
         "'::1:9100'"},
        {"unknown daemon", "global_defs {\nmetrics_listen keepalived 127.0.0.1:9100\n}\n",
         "test.conf:2:16: daemon must be vrrpd or healthcheckd, not 'keepalived'"},
        {"non-multicast group", "global_defs {\nvrrp_mcast_group4 10.0.0.1\n}\n",
         "test.conf:2:19: 10.0.0.1 is not an IPv4 multicast address"},

        // Virtual and real servers.
        {"unknown scheduler", virtual_server("lb_algo fastest"),
         "test.conf:2:9: unknown scheduler 'fastest'; the kernel has rr wrr lc wlc lblc lblcr dh "
         "sh sed nq fo ovf mh twos"},
        {"sh flag without sh", virtual_server("lb_algo rr\nsh-port"),
         "test.conf:3:1: 'sh-port' needs lb_algo sh, not rr"},
        {"ops without UDP", virtual_server("ops"),
         "test.conf:2:1: ops (one-packet scheduling) needs protocol UDP"},
        {"bad forwarding method", virtual_server("lb_kind PROXY"),
         "test.conf:2:9: lb_kind must be NAT, DR, TUN or FNAT, not 'PROXY'"},
        {"FNAT source not an address", virtual_server("lb_kind FNAT source eth0"),
         "test.conf:2:21: FNAT source 'eth0' is not an IP address"},
        {"FNAT option unknown", virtual_server("lb_kind FNAT laddr 10.0.0.1"),
         "test.conf:2:14: FNAT option 'laddr' is not 'source ADDRESS'"},
        {"FNAT source of another family", real_server("lb_kind FNAT source 2001:db8::1"),
         "test.conf:3:5: real_server 10.0.1.1 cannot get FNAT source 2001:db8::1 of another "
         "family"},
        {"tunnel options without TUN", virtual_server("lb_kind DR type gue"),
         "test.conf:2:12: tunnel option 'type' needs lb_kind TUN"},
        {"GUE without port", virtual_server("lb_kind TUN type gue"),
         "test.conf:2:18: tunnel type gue needs 'port N'"},
        {"remcsum without GUE", virtual_server("lb_kind TUN type gre remcsum"),
         "test.conf:2:22: remcsum needs tunnel type gue"},
        {"no port without persistence", "virtual_server 10.0.0.1 {\n}\n",
         "test.conf:1:1: virtual_server 10.0.0.1/tcp has no port; only a persistent service "
         "(persistence_timeout) may leave it out"},
        {"granularity without persistence", virtual_server("persistence_granularity 24"),
         "test.conf:2:1: persistence_granularity needs persistence_timeout"},
        {"granularity not a netmask",
         virtual_server("persistence_timeout 60\npersistence_granularity 255.0.255.0"),
         "test.conf:3:25: persistence_granularity '255.0.255.0' is not a contiguous IPv4 netmask "
         "for this virtual_server"},
        {"hysteresis above quorum", virtual_server("quorum 2\nhysteresis 3"),
         "test.conf:3:1: hysteresis 3 must not exceed quorum 2"},
        {"unknown group", "virtual_server group nope {\n}\n",
         "test.conf:1:1: virtual_server group 'nope' names no virtual_server_group"},
        {"empty group", "virtual_server_group g {\n}\n",
         "test.conf:1:1: virtual_server_group g is empty"},
        {"bad range", "virtual_server_group g {\n10.0.0.9-3 80\n}\n",
         "test.conf:2:1: address range 10.0.0.9-3 ends before it starts"},
        {"group mixing families", "virtual_server_group g {\n10.0.0.1 80\n2001:db8::1 80\n}\n",
         "test.conf:3:1: virtual_server_group g mixes IPv4 and IPv6 addresses"},
        {"duplicate virtual_server", virtual_server("") + virtual_server(""),
         "test.conf:4:1: virtual_server 10.0.0.100:80/tcp is defined twice (first at "
         "test.conf:1:1)"},
        {"duplicate real_server",
         virtual_server("real_server 10.0.1.1 80 {\n}\nreal_server 10.0.1.1 80 {\n}"),
         "test.conf:4:1: real_server 10.0.1.1:80 is already in virtual_server 10.0.0.100:80/tcp "
         "(at test.conf:2:1)"},
        {"real_server of the other family", virtual_server("real_server 2001:db8::5 80 {\n}"),
         "test.conf:2:1: real_server 2001:db8::5 is IPv6 but virtual_server 10.0.0.100:80/tcp is "
         "IPv4; only TUN forwarding may mix families"},
        {"sorry_server of the other family", virtual_server("sorry_server 2001:db8::9 80"),
         "test.conf:2:1: sorry_server 2001:db8::9 is not the same address family as virtual_server "
         "10.0.0.100:80/tcp"},
        {"sorry_server_inhibit without sorry_server", virtual_server("sorry_server_inhibit"),
         "test.conf:2:1: there is no sorry_server to apply this to"},
        {"weight out of range", real_server("weight 70000"),
         "test.conf:4:8: weight 70000 is out of range 0-65535"},
        {"weight negative", real_server("weight -1"),
         "test.conf:4:8: weight -1 is out of range 0-65535"},
        {"uthreshold out of range", real_server("uthreshold 65536"),
         "test.conf:4:12: uthreshold 65536 is out of range 0-65535"},
        {"lthreshold not below uthreshold", real_server("uthreshold 10\nlthreshold 10"),
         "test.conf:5:1: lthreshold 10 must be lower than uthreshold 10"},
        {"dynamic weight agent without port", real_server("dynamic_weight agent {\n}"),
         "test.conf:4:1: dynamic_weight agent needs a port"},
        {"dynamic weight min above max",
         real_server("weight 5\ndynamic_weight response_time {\nmin_weight 10\n}"),
         "test.conf:6:1: min_weight 10 is above max_weight 5"},
        {"dynamic weight field of the other source",
         real_server("dynamic_weight response_time {\nport 4444\n}"),
         "test.conf:5:1: 'port' does not apply to dynamic_weight response_time; it is a keyword of "
         "dynamic_weight agent"},
        {"dynamic weight bad source", real_server("dynamic_weight magic {\n}"),
         "test.conf:4:16: dynamic_weight source must be response_time or agent, not 'magic'"},

        // Checkers.
        {"misc field in TCP_CHECK", checker("TCP_CHECK", "misc_path /bin/true"),
         "test.conf:5:1: 'misc_path' does not apply to TCP_CHECK; it is a keyword of MISC_CHECK"},
        {"url in TCP_CHECK", checker("TCP_CHECK", "url {\npath /\n}"),
         "test.conf:5:1: 'url' does not apply to TCP_CHECK; it is a keyword of HTTP_GET, SSL_GET"},
        {"connect_port in MISC_CHECK",
         checker("MISC_CHECK", "misc_path /bin/true\nconnect_port 80"),
         "test.conf:6:1: 'connect_port' does not apply to MISC_CHECK; it is a keyword of "
         "TCP_CHECK, HTTP_GET, SSL_GET"},
        {"sni_name in HTTP_GET", checker("HTTP_GET", "url {\npath /\n}\nsni_name x"),
         "test.conf:8:1: 'sni_name' does not apply to HTTP_GET; it is a keyword of SSL_GET"},
        {"HTTP_GET without url", checker("HTTP_GET", ""),
         "test.conf:4:9: HTTP_GET needs at least one url { path ... }"},
        {"url without path", checker("HTTP_GET", "url {\nstatus_code 200\n}"),
         "test.conf:5:1: url needs a path"},
        {"MISC_CHECK without misc_path", checker("MISC_CHECK", ""),
         "test.conf:4:9: MISC_CHECK needs misc_path"},
        {"bad digest", checker("HTTP_GET", "url {\npath /\ndigest xyz\n}"),
         "test.conf:7:8: digest must be 32 hex digits (an MD5 sum), not 'xyz'"},
        {"bad status code", checker("HTTP_GET", "url {\npath /\nstatus_code 200-700\n}"),
         "test.conf:7:13: status_code 700 is out of range 100-599"},
        {"bad http_protocol", checker("HTTP_GET", "url {\npath /\n}\nhttp_protocol 2"),
         "test.conf:8:15: http_protocol must be 1.0, 1.0C or 1.1, not '2'"},
        {"reuse_connection with HTTP/1.0",
         checker("HTTP_GET", "url {\npath /\n}\nhttp_protocol 1.0C\nreuse_connection"),
         "test.conf:4:9: reuse_connection needs http_protocol 1.1, not '1.0C'"},
        {"reuse_connection in SSL_GET", checker("SSL_GET", "url {\npath /\n}\nreuse_connection"),
         "test.conf:8:1: 'reuse_connection' does not apply to SSL_GET; it is a keyword of "
         "HTTP_GET"},
        {"checker without a port",
         "virtual_server fwmark 1 {\nreal_server 10.0.1.1 {\nTCP_CHECK {\n}\n}\n}\n",
         "test.conf:3:1: TCP_CHECK needs a port to connect to: set connect_port or give the "
         "real_server a port"},
        {"checker not implemented", real_server("DNS_CHECK {\n}"),
         "test.conf:4:1: 'DNS_CHECK' in real_server is a keepalived keyword that ipvsctl does not "
         "implement yet"},
    };
    return table;
}

}  // namespace

TEST_CASE("each validation rule reports where and why", "[validation]") {
    for (const auto& rule : rules()) {
        DYNAMIC_SECTION(rule.name) {
            INFO(rule.text);
            const auto result = parse(rule.text);
            INFO(joined(result));
            CHECK_FALSE(result.ok());
            const auto all = messages(result);
            CHECK(std::find(all.begin(), all.end(), rule.message) != all.end());
        }
    }
}

TEST_CASE("warnings do not fail a config", "[validation]") {
    const auto no_vip = parse("vrrp_instance VI_1 {\ninterface eth0\nvirtual_router_id 1\n}\n");
    CHECK(no_vip.ok());
    CHECK(messages(no_vip) ==
          std::vector<std::string>{
              "test.conf:1:1: warning: vrrp_instance VI_1 has no virtual_ipaddress"});

    const auto long_pass = parse(instance("authentication {\nauth_pass 0123456789\n}"));
    REQUIRE(long_pass.ok());
    CHECK(messages(long_pass) ==
          std::vector<std::string>{"test.conf:8:11: warning: auth_pass is longer than 8 "
                                   "characters; only the first 8 are used"});
    CHECK(long_pass.config->vrrp_instances[0].auth_pass == "01234567");

    const auto master_nopreempt = parse(instance("state MASTER\nnopreempt"));
    CHECK(master_nopreempt.ok());
    CHECK(messages(master_nopreempt) ==
          std::vector<std::string>{
              "test.conf:8:1: warning: nopreempt only works when the initial state is BACKUP"});
}

TEST_CASE("errors do not stop the search for more errors", "[validation]") {
    const auto result =
        parse(instance("priority 0\nadvert_int x") + virtual_server("lb_algo nope"));
    CHECK(messages(result).size() == 3);
}
