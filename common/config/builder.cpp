// SPDX-License-Identifier: GPL-2.0-or-later
// Statements to typed objects: one keyword table per block type, drafts that
// remember what was written explicitly, and finalisers that fill defaults,
// resolve inheritance and check each object as a whole.
#include "config/builder.hpp"

#include <algorithm>
#include <array>

#include "config/builder_support.hpp"
#include "config/keyword_lists.hpp"

namespace ipvsctl::config {
namespace {

using namespace detail;
using namespace std::chrono_literals;

/// The highest CPU number a cpu_set_t holds (glibc's CPU_SETSIZE is 1024).
constexpr int kMaxCpu = 1023;

std::string quote(std::string_view text) {
    return "'" + std::string(text) + "'";
}

template <typename T>
std::optional<T> first_of(const std::optional<T>& a, const std::optional<T>& b,
                          const std::optional<T>& c) {
    if (a) return a;
    if (b) return b;
    return c;
}

/// Settings a virtual server passes to its real servers and they to their checkers.
struct CheckSettings {
    std::optional<Duration> connect_timeout;
    std::optional<Duration> delay_before_retry;
    std::optional<Duration> warmup;
    std::optional<Duration> delay_loop;
    std::optional<int> retry;
    std::optional<int> rise;
    std::optional<bool> alpha;
    std::optional<std::string> virtualhost;
};

// ---------------------------------------------------------------- drafts

struct GlobalDraft {
    GlobalDefs defs;
    Seen seen;
    bool min_garp = false;
};

struct ScriptDraft {
    VrrpScript script;
    Seen seen;
    std::optional<Duration> timeout;
};

struct AuthDraft {
    Seen seen;
    std::optional<std::string> type;
    std::optional<std::string> pass;
};

struct InstanceDraft {
    VrrpInstance instance;
    Seen seen;
    std::optional<int> vrid;
    std::optional<int> priority;
    std::optional<int> version;
    std::optional<Duration> advert_int;
    std::optional<Duration> garp_master_delay;
    std::optional<int> garp_master_repeat;
    std::optional<Duration> garp_master_refresh;
    std::optional<int> garp_master_refresh_repeat;
    std::optional<bool> accept;
    std::optional<AuthDraft> auth;
    std::vector<bool> track_weight_given;
};

struct SyncGroupDraft {
    VrrpSyncGroup group;
    Seen seen;
    std::vector<SourceLocation> member_where;
    std::vector<bool> track_weight_given;
};

struct UrlDraft {
    HttpUrl url;
    Seen seen;
};

struct CheckerDraft {
    Checker checker;
    Seen seen;
    CheckSettings settings;
    HttpCheck http;
    MiscCheck misc;
    std::optional<Duration> misc_timeout;
};

struct DynamicWeightDraft {
    DynamicWeight weight;
    Seen seen;
    SourceLocation where;
    std::optional<int> max_weight;
};

struct RealServerDraft {
    RealServer server;
    Seen seen;
    CheckSettings settings;
    std::optional<Forwarding> forwarding;
    std::optional<bool> inhibit_on_failure;
    std::vector<CheckerDraft> checkers;
    std::optional<DynamicWeightDraft> dynamic_weight;
};

struct VirtualServerDraft {
    VirtualServer server;
    Seen seen;
    CheckSettings settings;
    std::optional<AddressFamily> ip_family;
    std::optional<Token> granularity;
    std::optional<SorryServer> sorry_server;
    std::optional<Forwarding> sorry_forwarding;
    bool sorry_inhibit = false;
    std::vector<RealServerDraft> real_servers;
    /// The self-contained block it is (BlockReuse, 1-based), or 0.
    std::uint32_t block = 0;
    bool reused = false;  ///< `server` is finished already: the previous load's
    bool clean = true;    ///< nothing was reported while it was built
};

struct GroupDraft {
    VirtualServerGroup group;
    Seen seen;
};

struct TopDraft {
    Seen seen;
    GlobalDraft global;
    std::vector<ScriptDraft> scripts;
    std::vector<InstanceDraft> instances;
    std::vector<SyncGroupDraft> sync_groups;
    std::vector<GroupDraft> vs_groups;
    std::vector<VirtualServerDraft> virtual_servers;
};

// ------------------------------------------------------ list-block lines

/// Calls `line` for each line of a list block (virtual_ipaddress, group, ...).
template <typename Fn>
void for_each_line(Values& values, const Statement& block, Fn line) {
    for (const auto& child : block.children) {
        if (child.has_block) {
            values.error(child.block_where,
                         "lines of " + block.keyword.text + " do not take a block");
            continue;
        }
        line(child);
    }
}

/// `weight W [reverse|noreverse]` after a name, for track_interface / track_script.
bool parse_track_weight(Values& values, const Statement& line, int& weight, bool& reverse,
                        bool& weight_given) {
    const auto& args = line.args;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i].text == "weight") {
            if (i + 1 >= args.size()) {
                values.error(args[i].where, "'weight' needs a value");
                return false;
            }
            auto value = values.small_integer(args[++i], "track weight", -defaults::kMaxTrackWeight,
                                              defaults::kMaxTrackWeight);
            if (!value) return false;
            weight = *value;
            weight_given = true;
        } else if (args[i].text == "reverse") {
            reverse = true;
        } else if (args[i].text == "noreverse") {
            reverse = false;
        } else {
            values.error(args[i].where, "unexpected " + quote(args[i].text) +
                                            " (expected weight N, reverse or noreverse)");
            return false;
        }
    }
    return true;
}

void parse_track_interfaces(Values& values, const Statement& block,
                            std::vector<TrackedInterface>& out) {
    for_each_line(values, block, [&](const Statement& line) {
        TrackedInterface tracked{line.keyword.text, 0, false};
        bool given = false;
        if (parse_track_weight(values, line, tracked.weight, tracked.reverse, given)) {
            out.push_back(tracked);
        }
    });
}

void parse_track_scripts(Values& values, const Statement& block, std::vector<TrackedScript>& out,
                         std::vector<bool>& weight_given) {
    for_each_line(values, block, [&](const Statement& line) {
        TrackedScript tracked{line.keyword.where, line.keyword.text, 0, false};
        bool given = false;
        if (parse_track_weight(values, line, tracked.weight, tracked.reverse, given)) {
            out.push_back(tracked);
            weight_given.push_back(given);
        }
    });
}

void parse_virtual_addresses(Values& values, const Statement& block,
                             std::vector<VirtualAddress>& out) {
    for_each_line(values, block, [&](const Statement& line) {
        VirtualAddress address;
        address.where = line.keyword.where;
        auto prefix = IpPrefix::parse(line.keyword.text);
        if (!prefix) {
            values.error(line.keyword.where,
                         quote(line.keyword.text) + " is not an IP address or prefix");
            return;
        }
        address.prefix = *prefix;
        const auto& args = line.args;
        for (std::size_t i = 0; i < args.size(); ++i) {
            const auto& option = args[i].text;
            const bool has_value = i + 1 < args.size();
            if (option == "brd" || option == "broadcast" || option == "dev" || option == "label" ||
                option == "scope") {
                if (!has_value) {
                    values.error(args[i].where, quote(option) + " needs a value");
                    return;
                }
                const auto& value = args[++i];
                if (option == "brd" || option == "broadcast") {
                    address.broadcast = values.address(value, "brd");
                    if (!address.broadcast) return;
                } else if (option == "dev") {
                    address.device = value.text;
                } else if (option == "label") {
                    address.label = value.text;
                } else {
                    static constexpr std::string_view kScopes[] = {"site", "link", "host",
                                                                   "nowhere", "global"};
                    if (std::find(std::begin(kScopes), std::end(kScopes), value.text) ==
                        std::end(kScopes)) {
                        values.error(value.where,
                                     "scope must be site, link, host, nowhere or "
                                     "global, not " +
                                         quote(value.text));
                        return;
                    }
                    address.scope = value.text;
                }
            } else if (std::find(std::begin(kUnimplementedAddressOptions),
                                 std::end(kUnimplementedAddressOptions),
                                 option) != std::end(kUnimplementedAddressOptions)) {
                values.error(args[i].where, "address option " + quote(option) + " of " +
                                                block.keyword.text +
                                                " is a keepalived option ipvsctl does not "
                                                "implement yet");
                return;
            } else {
                values.error(args[i].where, "unknown address option " + quote(option) +
                                                " (expected brd, dev, label or scope)");
                return;
            }
        }
        out.push_back(std::move(address));
    });
}

// --------------------------------------------------------- global_defs

std::optional<Daemon> parse_daemon(Values& values, const Token& token) {
    if (token.text == "vrrpd") return Daemon::vrrpd;
    if (token.text == "healthcheckd") return Daemon::healthcheckd;
    values.error(token.where, "daemon must be vrrpd or healthcheckd, not " + quote(token.text));
    return std::nullopt;
}

void parse_lvs_sync_daemon(Values& values, const Statement& s, GlobalDraft& d) {
    LvsSyncDaemon sync;
    sync.interface = s.args[0].text;
    sync.port = defaults::kLvsSyncDaemonPort;
    sync.group = *IpAddress::parse(defaults::kLvsSyncDaemonGroup);
    const auto& args = s.args;
    std::size_t i = 1;
    if (i < args.size() && args[i].text != "inst" && args[i].text != "id" &&
        args[i].text != "maxlen" && args[i].text != "port" && args[i].text != "ttl" &&
        args[i].text != "group") {
        sync.vrrp_instance = args[i++].text;
    }
    for (; i < args.size(); ++i) {
        const auto& option = args[i].text;
        if (i + 1 >= args.size()) {
            values.error(args[i].where, quote(option) + " needs a value");
            return;
        }
        const auto& value = args[++i];
        std::optional<int> number;
        if (option == "inst") {
            sync.vrrp_instance = value.text;
        } else if (option == "id") {
            if (!(sync.sync_id = values.small_integer(value, "sync id", 0, 255))) return;
        } else if (option == "maxlen") {
            if (!(sync.max_length = values.small_integer(value, "maxlen", 1, 65507))) return;
        } else if (option == "port") {
            if (!(number = values.small_integer(value, "port", 1, 65535))) return;
            sync.port = *number;
        } else if (option == "ttl") {
            if (!(sync.ttl = values.small_integer(value, "ttl", 1, 255))) return;
        } else if (option == "group") {
            auto group = values.address(value, "group");
            if (!group) return;
            if (!group->is_multicast()) {
                values.error(value.where, "group " + value.text + " is not a multicast address");
                return;
            }
            sync.group = *group;
        } else {
            values.error(args[i - 1].where, "unknown lvs_sync_daemon option " + quote(option) +
                                                " (expected inst, id, maxlen, port, ttl or group)");
            return;
        }
    }
    d.defs.lvs_sync_daemon = sync;
}

void parse_lvs_timeouts(Values& values, const Statement& s, GlobalDraft& d) {
    const auto& args = s.args;
    if (args.size() % 2 != 0) {
        values.error(args.back().where,
                     "lvs_timeouts takes pairs: tcp SECS, tcpfin SECS, udp SECS");
        return;
    }
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        auto value = values.timer(args[i + 1], args[i].text + " timeout", 1s,
                                  Duration(std::chrono::seconds(86400 * 30)));
        if (!value) continue;
        if (args[i].text == "tcp") {
            d.defs.lvs_timeouts.tcp = value;
        } else if (args[i].text == "tcpfin") {
            d.defs.lvs_timeouts.tcp_fin = value;
        } else if (args[i].text == "udp") {
            d.defs.lvs_timeouts.udp = value;
        } else {
            values.error(args[i].where, "unknown lvs_timeouts protocol " + quote(args[i].text) +
                                            " (expected tcp, tcpfin or udp)");
        }
    }
}

void set_mcast_group(Values& values, const Token& token, AddressFamily family, IpAddress& out) {
    auto group = values.address(token, "multicast group");
    if (!group) return;
    if (group->family != family || !group->is_multicast()) {
        values.error(token.where, token.text + " is not an " +
                                      (family == AddressFamily::inet ? "IPv4" : "IPv6") +
                                      " multicast address");
        return;
    }
    out = *group;
}

const Keyword<GlobalDraft> kGlobalKeywords[] = {
    {"router_id", 1, 1, BlockUse::none,
     [](Values&, const Statement& s, GlobalDraft& d) { d.defs.router_id = s.args[0].text; }},
    {"script_user", 1, 2, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) { d.defs.script_user = v.user(s); }},
    {"enable_script_security", 0, 0, BlockUse::none,
     [](Values&, const Statement&, GlobalDraft& d) { d.defs.enable_script_security = true; }},
    {"vrrp_version", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto n = v.small_integer(s.args[0], "vrrp_version", 2, 3)) d.defs.vrrp_version = *n;
     }},
    {"vrrp_mcast_group4", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         set_mcast_group(v, s.args[0], AddressFamily::inet, d.defs.vrrp_mcast_group4);
     }},
    {"vrrp_mcast_group6", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         set_mcast_group(v, s.args[0], AddressFamily::inet6, d.defs.vrrp_mcast_group6);
     }},
    {"vrrp_garp_master_delay", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 0s, 255s))
             d.defs.vrrp_garp_master_delay = *t;
     }},
    {"vrrp_garp_master_repeat", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto n = v.small_integer(s.args[0], s.keyword.text, 1, 255))
             d.defs.vrrp_garp_master_repeat = *n;
     }},
    {"vrrp_garp_master_refresh", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 0s, 86400s))
             d.defs.vrrp_garp_master_refresh = *t;
     }},
    {"vrrp_garp_master_refresh_repeat", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto n = v.small_integer(s.args[0], s.keyword.text, 1, 255))
             d.defs.vrrp_garp_master_refresh_repeat = *n;
     }},
    {"vrrp_garp_interval", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 0s, 1s)) d.defs.vrrp_garp_interval = *t;
     }},
    {"vrrp_gna_interval", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 0s, 1s)) d.defs.vrrp_gna_interval = *t;
     }},
    {"vrrp_min_garp", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto b = v.boolean(s)) d.min_garp = *b;
     }},
    {"vrrp_strict", 0, 0, BlockUse::none,
     [](Values&, const Statement&, GlobalDraft& d) { d.defs.vrrp_strict = true; }},
    {"vrrp_check_unicast_src", 0, 0, BlockUse::none,
     [](Values&, const Statement&, GlobalDraft& d) { d.defs.vrrp_check_unicast_src = true; }},
    {"vrrp_skip_check_adv_addr", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto b = v.boolean(s)) d.defs.vrrp_skip_check_adv_addr = *b;
     }},
    {"vrrp_startup_delay", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 0s, 3600s)) d.defs.vrrp_startup_delay = *t;
     }},
    {"vrrp_rt_priority", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (auto n = v.small_integer(s.args[0], s.keyword.text, 1, 99))
             d.defs.vrrp_rt_priority = *n;
     }},
    {"vrrp_no_swap", 0, 0, BlockUse::none,
     [](Values&, const Statement&, GlobalDraft& d) { d.defs.vrrp_no_swap = true; }},
    {"vrrp_cpu_affinity", 1, kMany, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         std::vector<int> cpus;
         for (const auto& arg : s.args) {
             // CPU_SETSIZE (glibc): the CPUs sched_setaffinity(2) can name.
             auto n = v.small_integer(arg, s.keyword.text, 0, kMaxCpu);
             if (!n) return;
             cpus.push_back(*n);
         }
         std::sort(cpus.begin(), cpus.end());
         cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
         d.defs.vrrp_cpu_affinity = std::move(cpus);
     }},
    {"lvs_timeouts", 2, 6, BlockUse::none, parse_lvs_timeouts},
    {"lvs_sync_daemon", 1, kMany, BlockUse::none, parse_lvs_sync_daemon},
    {"lvs_flush", 0, 0, BlockUse::none,
     [](Values&, const Statement&, GlobalDraft& d) { d.defs.lvs_flush = true; }},
    {"lvs_flush_on_stop", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         if (!s.args.empty() && s.args[0].text != "VS") {
             v.error(s.args[0].where,
                     "lvs_flush_on_stop takes only 'VS', not " + quote(s.args[0].text));
             return;
         }
         d.defs.lvs_flush_on_stop = true;
     }},
    {"metrics_listen", 2, 2, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         auto daemon = parse_daemon(v, s.args[0]);
         if (!daemon) return;
         auto endpoint = Endpoint::parse(s.args[1].text);
         if (!endpoint) {
             v.error(s.args[1].where,
                     "metrics_listen needs ADDRESS:PORT (IPv6 as [ADDRESS]:PORT), not " +
                         quote(s.args[1].text));
             return;
         }
         d.defs.metrics_listen[*daemon] = *endpoint;
     }},
    {"control_socket", 2, 2, BlockUse::none,
     [](Values& v, const Statement& s, GlobalDraft& d) {
         auto daemon = parse_daemon(v, s.args[0]);
         if (!daemon) return;
         if (s.args[1].text.empty() || s.args[1].text.front() != '/') {
             v.error(s.args[1].where,
                     "control_socket needs an absolute path, not " + quote(s.args[1].text));
             return;
         }
         d.defs.control_socket[*daemon] = s.args[1].text;
     }},
};

// ---------------------------------------------------------- vrrp_script

const Keyword<ScriptDraft> kScriptKeywords[] = {
    {"script", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, ScriptDraft& d) {
         d.script.script = s.args[0].text;
         if (d.script.script.empty()) v.error(s.args[0].where, "script must not be empty");
     }},
    {"interval", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, ScriptDraft& d) {
         if (auto t = v.timer(s.args[0], "interval", 1ms, 86400s)) d.script.interval = *t;
     }},
    {"timeout", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, ScriptDraft& d) {
         d.timeout = v.timer(s.args[0], "timeout", 1ms, 86400s);
     }},
    {"weight", 1, 2, BlockUse::none,
     [](Values& v, const Statement& s, ScriptDraft& d) {
         if (auto n = v.small_integer(s.args[0], "weight", -defaults::kMaxTrackWeight,
                                      defaults::kMaxTrackWeight)) {
             d.script.weight = *n;
         }
         if (s.args.size() > 1) {
             if (s.args[1].text != "reverse") {
                 v.error(s.args[1].where, "expected 'reverse', not " + quote(s.args[1].text));
             } else {
                 d.script.weight_reverse = true;
             }
         }
     }},
    {"rise", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, ScriptDraft& d) {
         if (auto n = v.small_integer(s.args[0], "rise", 1, 1000000)) d.script.rise = *n;
     }},
    {"fall", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, ScriptDraft& d) {
         if (auto n = v.small_integer(s.args[0], "fall", 1, 1000000)) d.script.fall = *n;
     }},
    {"user", 1, 2, BlockUse::none,
     [](Values& v, const Statement& s, ScriptDraft& d) { d.script.user = v.user(s); }},
    {"init_fail", 0, 0, BlockUse::none,
     [](Values&, const Statement&, ScriptDraft& d) { d.script.init_fail = true; }},
};

// -------------------------------------------------------- vrrp_instance

const Keyword<AuthDraft> kAuthKeywords[] = {
    {"auth_type", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, AuthDraft& d) {
         if (s.args[0].text == "AH") {
             v.error(s.args[0].where,
                     "auth_type AH is a keepalived option ipvsctl does not implement yet");
             return;
         }
         if (s.args[0].text != "PASS") {
             v.error(s.args[0].where, "auth_type must be PASS, not " + quote(s.args[0].text));
             return;
         }
         d.type = s.args[0].text;
     }},
    {"auth_pass", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, AuthDraft& d) {
         auto pass = s.args[0].text;
         if (pass.empty()) {
             v.error(s.args[0].where, "auth_pass must not be empty");
             return;
         }
         if (pass.size() > defaults::kAuthPassLength) {
             v.warning(s.args[0].where,
                       "auth_pass is longer than 8 characters; only the first 8 are used");
             pass.resize(defaults::kAuthPassLength);
         }
         d.pass = pass;
     }},
};

void parse_notify(Values& v, const Statement& s, Notify& notify) {
    const auto& k = s.keyword.text;
    auto command = v.script(s);
    if (k == "notify_master") notify.master = command;
    if (k == "notify_backup") notify.backup = command;
    if (k == "notify_fault") notify.fault = command;
    if (k == "notify_stop") notify.stop = command;
    if (k == "notify") notify.any = command;
}

void parse_unicast_peers(Values& v, const Statement& s, InstanceDraft& d) {
    for_each_line(v, s, [&](const Statement& line) {
        auto address = v.address(line.keyword, "unicast_peer");
        if (!address) return;
        UnicastPeer peer{*address, std::nullopt, std::nullopt};
        for (std::size_t i = 0; i < line.args.size(); ++i) {
            const auto& option = line.args[i].text;
            if ((option != "min_ttl" && option != "max_ttl") || i + 1 >= line.args.size()) {
                v.error(line.args[i].where,
                        "unexpected " + quote(option) + " (expected min_ttl N or max_ttl N)");
                return;
            }
            auto ttl = v.small_integer(line.args[++i], option, 0, 255);
            if (!ttl) return;
            (option == "min_ttl" ? peer.min_ttl : peer.max_ttl) = ttl;
        }
        if (peer.min_ttl && peer.max_ttl && *peer.min_ttl > *peer.max_ttl) {
            v.error(line.keyword.where, "min_ttl " + std::to_string(*peer.min_ttl) +
                                            " is greater than max_ttl " +
                                            std::to_string(*peer.max_ttl));
            return;
        }
        d.instance.unicast_peers.push_back(peer);
    });
}

const Keyword<InstanceDraft> kInstanceKeywords[] = {
    {"state", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         if (s.args[0].text == "MASTER") {
             d.instance.state = VrrpState::master;
         } else if (s.args[0].text == "BACKUP") {
             d.instance.state = VrrpState::backup;
         } else {
             v.error(s.args[0].where,
                     "state must be MASTER or BACKUP, not " + quote(s.args[0].text));
         }
     }},
    {"interface", 1, 1, BlockUse::none,
     [](Values&, const Statement& s, InstanceDraft& d) { d.instance.interface = s.args[0].text; }},
    {"virtual_router_id", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.vrid = v.small_integer(s.args[0], "virtual_router_id", defaults::kMinVrid,
                                  defaults::kMaxVrid);
     }},
    {"priority", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.priority =
             v.small_integer(s.args[0], "priority", defaults::kMinPriority, defaults::kMaxPriority);
     }},
    {"advert_int", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.advert_int = v.timer(s.args[0], "advert_int", 10ms, 255s);
     }},
    {"version", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.version = v.small_integer(s.args[0], "version", 2, 3);
     }},
    {"nopreempt", 0, 0, BlockUse::none,
     [](Values&, const Statement&, InstanceDraft& d) { d.instance.nopreempt = true; }},
    {"preempt", 0, 0, BlockUse::none,
     [](Values&, const Statement&, InstanceDraft& d) { d.instance.nopreempt = false; }},
    {"preempt_delay", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         if (auto t = v.timer(s.args[0], "preempt_delay", 0s, defaults::kMaxPreemptDelay))
             d.instance.preempt_delay = *t;
     }},
    {"accept", 0, 0, BlockUse::none,
     [](Values&, const Statement&, InstanceDraft& d) { d.accept = true; }},
    {"no_accept", 0, 0, BlockUse::none,
     [](Values&, const Statement&, InstanceDraft& d) { d.accept = false; }},
    {"dont_track_primary", 0, 0, BlockUse::none,
     [](Values&, const Statement&, InstanceDraft& d) { d.instance.dont_track_primary = true; }},
    {"authentication", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         AuthDraft auth;
         const BlockInfo info{"authentication", {}, {}};
         dispatch<AuthDraft>(v, s.children, kAuthKeywords, info, auth);
         d.auth = auth;
     }},
    {"unicast_src_ip", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.instance.unicast_src_ip = v.address(s.args[0], "unicast_src_ip");
     }},
    {"unicast_peer", 0, 0, BlockUse::required, parse_unicast_peers},
    {"mcast_src_ip", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.instance.mcast_src_ip = v.address(s.args[0], "mcast_src_ip");
     }},
    {"virtual_ipaddress", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_virtual_addresses(v, s, d.instance.virtual_ipaddresses);
     }},
    {"virtual_ipaddress_excluded", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_virtual_addresses(v, s, d.instance.virtual_ipaddresses_excluded);
     }},
    {"track_interface", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_track_interfaces(v, s, d.instance.track_interfaces);
     }},
    {"track_script", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_track_scripts(v, s, d.instance.track_scripts, d.track_weight_given);
     }},
    {"notify_master", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_notify(v, s, d.instance.notify);
     }},
    {"notify_backup", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_notify(v, s, d.instance.notify);
     }},
    {"notify_fault", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_notify(v, s, d.instance.notify);
     }},
    {"notify_stop", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_notify(v, s, d.instance.notify);
     }},
    {"notify", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         parse_notify(v, s, d.instance.notify);
     }},
    {"garp_master_delay", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.garp_master_delay = v.timer(s.args[0], s.keyword.text, 0s, 255s);
     }},
    {"garp_master_repeat", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.garp_master_repeat = v.small_integer(s.args[0], s.keyword.text, 1, 255);
     }},
    {"garp_master_refresh", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.garp_master_refresh = v.timer(s.args[0], s.keyword.text, 0s, 86400s);
     }},
    {"garp_master_refresh_repeat", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, InstanceDraft& d) {
         d.garp_master_refresh_repeat = v.small_integer(s.args[0], s.keyword.text, 1, 255);
     }},
};

// ------------------------------------------------------ vrrp_sync_group

const Keyword<SyncGroupDraft> kSyncGroupKeywords[] = {
    {"group", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, SyncGroupDraft& d) {
         for_each_line(v, s, [&](const Statement& line) {
             if (!line.args.empty()) {
                 v.error(line.args[0].where, "one vrrp_instance name per line in group");
                 return;
             }
             d.group.members.push_back(line.keyword.text);
             d.member_where.push_back(line.keyword.where);
         });
     }},
    {"track_interface", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, SyncGroupDraft& d) {
         parse_track_interfaces(v, s, d.group.track_interfaces);
     }},
    {"track_script", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, SyncGroupDraft& d) {
         parse_track_scripts(v, s, d.group.track_scripts, d.track_weight_given);
     }},
    {"notify_master", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, SyncGroupDraft& d) { parse_notify(v, s, d.group.notify); }},
    {"notify_backup", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, SyncGroupDraft& d) { parse_notify(v, s, d.group.notify); }},
    {"notify_fault", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, SyncGroupDraft& d) { parse_notify(v, s, d.group.notify); }},
    {"notify_stop", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, SyncGroupDraft& d) { parse_notify(v, s, d.group.notify); }},
    {"notify", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, SyncGroupDraft& d) { parse_notify(v, s, d.group.notify); }},
};

// ------------------------------------------------- virtual_server_group

/// "A", "A-B", "a.b.c.d-e", "x::y-z" or "A/len" as an inclusive range.
std::optional<std::pair<IpAddress, IpAddress>> parse_address_range(Values& v, const Token& token) {
    const auto& text = token.text;
    auto fail = [&]() -> std::optional<std::pair<IpAddress, IpAddress>> {
        v.error(token.where, quote(text) + " is not an address, address range or prefix");
        return std::nullopt;
    };
    if (text.find('/') != std::string::npos) {
        auto prefix = IpPrefix::parse(text);
        if (!prefix) return fail();
        IpAddress first = prefix->address;
        IpAddress last = prefix->address;
        for (int bit = prefix->prefix_length; bit < first.bits(); ++bit) {
            const auto byte = static_cast<std::size_t>(bit / 8);
            const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
            first.bytes[byte] = static_cast<std::uint8_t>(first.bytes[byte] & ~mask);
            last.bytes[byte] = static_cast<std::uint8_t>(last.bytes[byte] | mask);
        }
        return std::pair{first, last};
    }
    const auto dash = text.find('-');
    auto first = IpAddress::parse(text.substr(0, dash));
    if (!first) return fail();
    if (dash == std::string::npos) return std::pair{*first, *first};
    const auto tail = text.substr(dash + 1);
    IpAddress last = *first;
    if (auto full = IpAddress::parse(tail)) {
        if (full->family != first->family) return fail();
        last = *full;
    } else {
        const bool v6 = first->is_v6();
        unsigned value = 0;
        if (tail.empty() || tail.size() > (v6 ? 4U : 3U)) return fail();
        for (char c : tail) {
            int digit = -1;
            if (c >= '0' && c <= '9') digit = c - '0';
            if (v6 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
            if (v6 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
            if (digit < 0) return fail();
            value = value * (v6 ? 16U : 10U) + static_cast<unsigned>(digit);
        }
        if (!v6) {
            if (value > 255) return fail();
            last.bytes[3] = static_cast<std::uint8_t>(value);
        } else {
            last.bytes[14] = static_cast<std::uint8_t>(value >> 8);
            last.bytes[15] = static_cast<std::uint8_t>(value & 0xff);
        }
    }
    if (last < *first) {
        v.error(token.where, "address range " + text + " ends before it starts");
        return std::nullopt;
    }
    return std::pair{*first, last};
}

void parse_vs_group_line(Values& v, const Statement& line, GroupDraft& d) {
    if (line.keyword.text == "fwmark") {
        if (line.args.empty() || line.args.size() > 2) {
            v.error(line.keyword.where, "fwmark needs a mark and optionally inet or inet6");
            return;
        }
        auto mark = v.integer(line.args[0], "fwmark", 1, 0xffffffffLL);
        if (!mark) return;
        VsGroupFwmark entry{line.keyword.where, static_cast<std::uint32_t>(*mark), std::nullopt};
        if (line.args.size() == 2) {
            if (line.args[1].text == "inet") {
                entry.family = AddressFamily::inet;
            } else if (line.args[1].text == "inet6") {
                entry.family = AddressFamily::inet6;
            } else {
                v.error(line.args[1].where,
                        "expected inet or inet6, not " + quote(line.args[1].text));
                return;
            }
        }
        d.group.fwmarks.push_back(entry);
        return;
    }
    auto range = parse_address_range(v, line.keyword);
    if (!range) return;
    VsGroupAddressRange entry{line.keyword.where, range->first, range->second, std::nullopt};
    if (line.args.size() > 1) {
        v.error(line.args[1].where, "a virtual_server_group line is ADDRESS [PORT]");
        return;
    }
    if (!line.args.empty()) {
        entry.port = v.port(line.args[0], "port");
        if (!entry.port) return;
    }
    d.group.ranges.push_back(entry);
}

// ---------------------------------------------------------------- checkers

constexpr std::uint32_t kTcpBit = 1U << 0;
constexpr std::uint32_t kHttpBit = 1U << 1;
constexpr std::uint32_t kSslBit = 1U << 2;
constexpr std::uint32_t kMiscBit = 1U << 3;
constexpr std::uint32_t kConnectingCheckers = kTcpBit | kHttpBit | kSslBit;
constexpr std::uint32_t kHttpCheckers = kHttpBit | kSslBit;

std::string describe_checkers(std::uint32_t mask) {
    std::string text;
    auto add = [&](std::uint32_t bit, std::string_view name) {
        if ((mask & bit) == 0) return;
        if (!text.empty()) text += ", ";
        text += name;
    };
    add(kTcpBit, "TCP_CHECK");
    add(kHttpBit, "HTTP_GET");
    add(kSslBit, "SSL_GET");
    add(kMiscBit, "MISC_CHECK");
    return text;
}

std::optional<std::pair<int, int>> parse_status_range(Values& v, const Token& token) {
    const auto dash = token.text.find('-');
    Token low_token = token;
    low_token.text = token.text.substr(0, dash);
    auto low = v.small_integer(low_token, "status_code", 100, 599);
    if (!low) return std::nullopt;
    if (dash == std::string::npos) return std::pair{*low, *low};
    Token high_token = token;
    high_token.text = token.text.substr(dash + 1);
    auto high = v.small_integer(high_token, "status_code", 100, 599);
    if (!high) return std::nullopt;
    if (*high < *low) {
        v.error(token.where, "status_code range " + token.text + " ends before it starts");
        return std::nullopt;
    }
    return std::pair{*low, *high};
}

const Keyword<UrlDraft> kUrlKeywords[] = {
    {"path", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, UrlDraft& d) {
         if (s.args[0].text.empty() || s.args[0].text.front() != '/') {
             v.error(s.args[0].where, "path must start with '/', not " + quote(s.args[0].text));
             return;
         }
         d.url.path = s.args[0].text;
     }},
    {"digest", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, UrlDraft& d) {
         const auto& text = s.args[0].text;
         const bool hex =
             text.size() == 32 && std::all_of(text.begin(), text.end(), [](char c) {
                 return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
             });
         if (!hex) {
             v.error(s.args[0].where,
                     "digest must be 32 hex digits (an MD5 sum), not " + quote(text));
             return;
         }
         d.url.digest = text;
     }},
    {"status_code", 1, kMany, BlockUse::none,
     [](Values& v, const Statement& s, UrlDraft& d) {
         d.url.status_codes.clear();
         for (const auto& token : s.args) {
             if (auto range = parse_status_range(v, token)) d.url.status_codes.push_back(*range);
         }
     }},
    {"virtualhost", 1, 1, BlockUse::none,
     [](Values&, const Statement& s, UrlDraft& d) { d.url.virtualhost = s.args[0].text; }},
};

void parse_url(Values& v, const Statement& s, CheckerDraft& d) {
    UrlDraft url;
    url.url.where = s.keyword.where;
    const BlockInfo info{"url", kUnimplementedUrl, {}};
    dispatch<UrlDraft>(v, s.children, kUrlKeywords, info, url);
    if (url.url.path.empty()) {
        if (!url.seen.has("path")) v.error(s.keyword.where, "url needs a path");
        return;
    }
    if (url.url.status_codes.empty()) {
        url.url.status_codes.emplace_back(defaults::kStatusCodeMin, defaults::kStatusCodeMax);
    }
    d.http.urls.push_back(url.url);
}

void set_timer(Values& v, const Statement& s, std::optional<Duration>& out, Duration low,
               Duration high) {
    out = v.timer(s.args[0], s.keyword.text, low, high);
}

const Keyword<CheckerDraft> kCheckerKeywords[] = {
    {"connect_ip", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.checker.connect_ip = v.address(s.args[0], "connect_ip");
     },
     kConnectingCheckers},
    {"connect_port", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.checker.connect_port = v.port(s.args[0], "connect_port");
     },
     kConnectingCheckers},
    {"bindto", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.checker.bindto = v.address(s.args[0], "bindto");
     },
     kConnectingCheckers},
    {"bind_port", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.checker.bind_port = v.port(s.args[0], "bind_port");
     },
     kConnectingCheckers},
    {"bind_if", 1, 1, BlockUse::none,
     [](Values&, const Statement& s, CheckerDraft& d) { d.checker.bind_if = s.args[0].text; },
     kConnectingCheckers},
    {"fwmark", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         if (auto mark = v.integer(s.args[0], "fwmark", 1, 0xffffffffLL))
             d.checker.fwmark = static_cast<std::uint32_t>(*mark);
     },
     kConnectingCheckers},
    {"connect_timeout", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         set_timer(v, s, d.settings.connect_timeout, 1ms, 3600s);
     }},
    {"retry", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.settings.retry = v.small_integer(s.args[0], s.keyword.text, 0, 1000000);
     }},
    {"nb_get_retry", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.settings.retry = v.small_integer(s.args[0], s.keyword.text, 0, 1000000);
     }},
    {"delay_before_retry", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         set_timer(v, s, d.settings.delay_before_retry, 0s, 86400s);
     }},
    {"warmup", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         set_timer(v, s, d.settings.warmup, 0s, 86400s);
     }},
    {"delay_loop", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         set_timer(v, s, d.settings.delay_loop, 1ms, 86400s);
     }},
    {"alpha", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) { d.settings.alpha = v.boolean(s); }},
    {"rise", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.settings.rise = v.small_integer(s.args[0], "rise", 1, 1000000);
     }},
    {"log_all_failures", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         if (auto b = v.boolean(s)) d.checker.log_all_failures = *b;
     }},
    {"http_protocol", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         const auto& p = s.args[0].text;
         if (p != "1.0" && p != "1.0C" && p != "1.1") {
             v.error(s.args[0].where, "http_protocol must be 1.0, 1.0C or 1.1, not " + quote(p));
             return;
         }
         d.http.http_protocol = p;
     },
     kHttpCheckers},
    {"url", 0, 0, BlockUse::required, parse_url, kHttpCheckers},
    {"virtualhost", 1, 1, BlockUse::none,
     [](Values&, const Statement& s, CheckerDraft& d) { d.http.virtualhost = s.args[0].text; },
     kHttpCheckers},
    {"fast_recovery", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         if (auto b = v.boolean(s)) d.http.fast_recovery = *b;
     },
     kHttpCheckers},
    {"reuse_connection", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         if (auto b = v.boolean(s)) d.http.reuse_connection = *b;
     },
     kHttpBit},
    {"enable_sni", 0, 0, BlockUse::none,
     [](Values&, const Statement&, CheckerDraft& d) { d.http.enable_sni = true; }, kSslBit},
    {"sni_name", 1, 1, BlockUse::none,
     [](Values&, const Statement& s, CheckerDraft& d) {
         d.http.sni_name = s.args[0].text;
         d.http.enable_sni = true;
     },
     kSslBit},
    {"tls_compliant", 0, 0, BlockUse::none,
     [](Values&, const Statement&, CheckerDraft& d) { d.http.tls_compliant = true; }, kSslBit},
    {"misc_path", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         d.misc.path = s.args[0].text;
         if (d.misc.path.empty()) v.error(s.args[0].where, "misc_path must not be empty");
     },
     kMiscBit},
    {"misc_timeout", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) {
         set_timer(v, s, d.misc_timeout, 1ms, 86400s);
     },
     kMiscBit},
    {"misc_dynamic", 0, 0, BlockUse::none,
     [](Values&, const Statement&, CheckerDraft& d) { d.misc.dynamic = true; }, kMiscBit},
    {"user", 1, 2, BlockUse::none,
     [](Values& v, const Statement& s, CheckerDraft& d) { d.misc.user = v.user(s); }, kMiscBit},
};

// ------------------------------------------------------- dynamic_weight

constexpr std::uint32_t kResponseTimeBit = 1U << 0;
constexpr std::uint32_t kAgentBit = 1U << 1;

std::string describe_weight_sources(std::uint32_t mask) {
    return mask == kAgentBit ? "dynamic_weight agent" : "dynamic_weight response_time";
}

const Keyword<DynamicWeightDraft> kDynamicWeightKeywords[] = {
    {"target_response_time", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, DynamicWeightDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 1ms, 60s))
             d.weight.target_response_time = *t;
     },
     kResponseTimeBit},
    {"port", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, DynamicWeightDraft& d) {
         d.weight.agent_port = v.port(s.args[0], "port");
     },
     kAgentBit},
    {"interval", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, DynamicWeightDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 100ms, 3600s)) d.weight.interval = *t;
     },
     kAgentBit},
    {"timeout", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, DynamicWeightDraft& d) {
         if (auto t = v.timer(s.args[0], s.keyword.text, 1ms, 3600s)) d.weight.timeout = *t;
     },
     kAgentBit},
    {"min_weight", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, DynamicWeightDraft& d) {
         if (auto n = v.small_integer(s.args[0], s.keyword.text, 0, defaults::kMaxWeight))
             d.weight.min_weight = *n;
     }},
    {"max_weight", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, DynamicWeightDraft& d) {
         d.max_weight = v.small_integer(s.args[0], s.keyword.text, 0, defaults::kMaxWeight);
     }},
};

// ---------------------------------------------------------- real_server

void parse_checker(Values& v, const Statement& s, RealServerDraft& d) {
    CheckerDraft checker;
    checker.checker.where = s.keyword.where;
    std::uint32_t bit = kTcpBit;
    const auto& type = s.keyword.text;
    if (type == "TCP_CHECK") {
        checker.checker.type = CheckerType::tcp_check;
    } else if (type == "HTTP_GET") {
        checker.checker.type = CheckerType::http_get;
        bit = kHttpBit;
    } else if (type == "SSL_GET") {
        checker.checker.type = CheckerType::ssl_get;
        checker.http.tls = true;
        bit = kSslBit;
    } else {
        checker.checker.type = CheckerType::misc_check;
        bit = kMiscBit;
    }
    const BlockInfo info{type, kUnimplementedChecker, {}, bit, describe_checkers};
    dispatch<CheckerDraft>(v, s.children, kCheckerKeywords, info, checker);
    d.checkers.push_back(std::move(checker));
}

void parse_dynamic_weight(Values& v, const Statement& s, RealServerDraft& d) {
    DynamicWeightDraft weight;
    weight.where = s.keyword.where;
    std::uint32_t bit = kResponseTimeBit;
    if (s.args[0].text == "response_time") {
        weight.weight.source = DynamicWeightSource::response_time;
    } else if (s.args[0].text == "agent") {
        weight.weight.source = DynamicWeightSource::agent;
        bit = kAgentBit;
    } else {
        v.error(s.args[0].where, "dynamic_weight source must be response_time or agent, not " +
                                     quote(s.args[0].text));
        return;
    }
    weight.weight.target_response_time = defaults::kTargetResponseTime;
    weight.weight.interval = defaults::kAgentInterval;
    weight.weight.timeout = defaults::kAgentTimeout;
    weight.weight.min_weight = defaults::kMinDynamicWeight;
    const std::string context = "dynamic_weight " + s.args[0].text;
    const BlockInfo info{context, {}, {}, bit, describe_weight_sources};
    dispatch<DynamicWeightDraft>(v, s.children, kDynamicWeightKeywords, info, weight);
    d.dynamic_weight = weight;
}

template <typename Draft>
void parse_settings_keyword(Values& v, const Statement& s, CheckSettings& settings) {
    const auto& k = s.keyword.text;
    if (k == "connect_timeout") {
        settings.connect_timeout = v.timer(s.args[0], k, 1ms, 3600s);
    } else if (k == "retry" || k == "nb_get_retry") {
        settings.retry = v.small_integer(s.args[0], k, 0, 1000000);
    } else if (k == "delay_before_retry") {
        settings.delay_before_retry = v.timer(s.args[0], k, 0s, 86400s);
    } else if (k == "warmup") {
        settings.warmup = v.timer(s.args[0], k, 0s, 86400s);
    } else if (k == "delay_loop") {
        settings.delay_loop = v.timer(s.args[0], k, 1ms, 86400s);
    } else if (k == "rise") {
        settings.rise = v.small_integer(s.args[0], k, 1, 1000000);
    } else if (k == "virtualhost") {
        settings.virtualhost = s.args[0].text;
    }
}

const Keyword<RealServerDraft> kRealServerKeywords[] = {
    {"weight", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         if (auto n = v.small_integer(s.args[0], "weight", 0, defaults::kMaxWeight))
             d.server.weight = *n;
     }},
    {"lvs_method", 1, kMany, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) { d.forwarding = v.forwarding(s); }},
    {"lb_kind", 1, kMany, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) { d.forwarding = v.forwarding(s); }},
    {"notify_up", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) { d.server.notify_up = v.script(s); }},
    {"notify_down", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) { d.server.notify_down = v.script(s); }},
    {"uthreshold", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         if (auto n = v.small_integer(s.args[0], "uthreshold", 0, defaults::kMaxThreshold))
             d.server.uthreshold = *n;
     }},
    {"lthreshold", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         if (auto n = v.small_integer(s.args[0], "lthreshold", 0, defaults::kMaxThreshold))
             d.server.lthreshold = *n;
     }},
    {"inhibit_on_failure", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         d.inhibit_on_failure = v.boolean(s);
     }},
    {"alpha", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) { d.settings.alpha = v.boolean(s); }},
    {"virtualhost", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         parse_settings_keyword<RealServerDraft>(v, s, d.settings);
     }},
    {"connect_timeout", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         parse_settings_keyword<RealServerDraft>(v, s, d.settings);
     }},
    {"retry", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         parse_settings_keyword<RealServerDraft>(v, s, d.settings);
     }},
    {"delay_before_retry", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         parse_settings_keyword<RealServerDraft>(v, s, d.settings);
     }},
    {"warmup", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         parse_settings_keyword<RealServerDraft>(v, s, d.settings);
     }},
    {"delay_loop", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         parse_settings_keyword<RealServerDraft>(v, s, d.settings);
     }},
    {"rise", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, RealServerDraft& d) {
         parse_settings_keyword<RealServerDraft>(v, s, d.settings);
     }},
    {"backup", 0, 0, BlockUse::none,
     [](Values&, const Statement&, RealServerDraft& d) { d.server.backup = true; }},
    {"down", 0, 0, BlockUse::none,
     [](Values&, const Statement&, RealServerDraft& d) { d.server.down = true; }},
    {"dynamic_weight", 1, 1, BlockUse::required, parse_dynamic_weight},
    {"TCP_CHECK", 0, 0, BlockUse::required, parse_checker},
    {"HTTP_GET", 0, 0, BlockUse::required, parse_checker},
    {"SSL_GET", 0, 0, BlockUse::required, parse_checker},
    {"MISC_CHECK", 0, 0, BlockUse::required, parse_checker},
};

// ------------------------------------------------------- virtual_server

std::optional<SorryServer> parse_sorry_server(Values& v, const Statement& s) {
    auto address = v.address(s.args[0], "sorry_server");
    if (!address) return std::nullopt;
    SorryServer sorry{*address, std::nullopt, false, {}};
    if (s.args.size() > 1) {
        sorry.port = v.port(s.args[1], "sorry_server port");
        if (!sorry.port) return std::nullopt;
    }
    return sorry;
}

void parse_real_server(Values& v, const Statement& s, VirtualServerDraft& d) {
    RealServerDraft server;
    server.server.where = s.keyword.where;
    auto address = v.address(s.args[0], "real_server");
    if (!address) return;
    server.server.address = *address;
    if (s.args.size() > 1) {
        server.server.port = v.port(s.args[1], "real_server port");
        if (!server.server.port) return;
    }
    server.server.weight = defaults::kWeight;
    const BlockInfo info{"real_server", kUnimplementedRealServer, kIgnoredRealServer};
    dispatch<RealServerDraft>(v, s.children, kRealServerKeywords, info, server);
    d.real_servers.push_back(std::move(server));
}

void set_scheduler(Values& v, const Statement& s, VirtualServerDraft& d) {
    const auto& name = s.args[0].text;
    if (std::find(defaults::kSchedulers.begin(), defaults::kSchedulers.end(), name) ==
        defaults::kSchedulers.end()) {
        std::string known;
        for (const auto& scheduler : defaults::kSchedulers) {
            known += (known.empty() ? "" : " ") + std::string(scheduler);
        }
        v.error(s.args[0].where, "unknown scheduler " + quote(name) + "; the kernel has " + known);
        return;
    }
    d.server.scheduler = name;
}

void add_scheduler_flag(Values&, const Statement& s, VirtualServerDraft& d) {
    auto& flags = d.server.scheduler_flags;
    if (std::find(flags.begin(), flags.end(), s.keyword.text) == flags.end()) {
        flags.push_back(s.keyword.text);
    }
}

void parse_vs_setting(Values& v, const Statement& s, VirtualServerDraft& d) {
    parse_settings_keyword<VirtualServerDraft>(v, s, d.settings);
}

const Keyword<VirtualServerDraft> kVirtualServerKeywords[] = {
    {"lb_algo", 1, 1, BlockUse::none, set_scheduler},
    {"lvs_sched", 1, 1, BlockUse::none, set_scheduler},
    {"flag-1", 0, 0, BlockUse::none, add_scheduler_flag},
    {"flag-2", 0, 0, BlockUse::none, add_scheduler_flag},
    {"flag-3", 0, 0, BlockUse::none, add_scheduler_flag},
    {"sh-port", 0, 0, BlockUse::none, add_scheduler_flag},
    {"sh-fallback", 0, 0, BlockUse::none, add_scheduler_flag},
    {"mh-port", 0, 0, BlockUse::none, add_scheduler_flag},
    {"mh-fallback", 0, 0, BlockUse::none, add_scheduler_flag},
    {"ops", 0, 0, BlockUse::none,
     [](Values&, const Statement&, VirtualServerDraft& d) {
         d.server.one_packet_scheduling = true;
     }},
    {"lb_kind", 1, kMany, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         if (auto f = v.forwarding(s)) d.server.forwarding = *f;
     }},
    {"lvs_method", 1, kMany, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         if (auto f = v.forwarding(s)) d.server.forwarding = *f;
     }},
    {"persistence_timeout", 0, 1, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         if (s.args.empty()) {
             d.server.persistence_timeout = defaults::kPersistenceTimeout;
             return;
         }
         auto t = v.timer(s.args[0], "persistence_timeout", 0s,
                          Duration(std::chrono::seconds(0x7fffffff / 1000)));
         if (!t) return;
         if (*t == 0s) {
             d.server.persistence_timeout
                 .reset();  // keepalived configs write 0 for "not persistent"
         } else {
             d.server.persistence_timeout = std::chrono::duration_cast<std::chrono::seconds>(*t);
         }
     }},
    {"persistence_granularity", 1, 1, BlockUse::none,
     [](Values&, const Statement& s, VirtualServerDraft& d) { d.granularity = s.args[0]; }},
    {"protocol", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         const auto& p = s.args[0].text;
         if (p == "TCP") {
             d.server.protocol = Protocol::tcp;
         } else if (p == "UDP") {
             d.server.protocol = Protocol::udp;
         } else if (p == "SCTP") {
             d.server.protocol = Protocol::sctp;
         } else {
             v.error(s.args[0].where, "protocol must be TCP, UDP or SCTP, not " + quote(p));
         }
     }},
    {"ha_suspend", 0, 0, BlockUse::none,
     [](Values&, const Statement&, VirtualServerDraft& d) { d.server.ha_suspend = true; }},
    {"virtualhost", 1, 1, BlockUse::none, parse_vs_setting},
    {"alpha", 0, 0, BlockUse::none,
     [](Values&, const Statement&, VirtualServerDraft& d) { d.settings.alpha = true; }},
    {"omega", 0, 0, BlockUse::none,
     [](Values&, const Statement&, VirtualServerDraft& d) { d.server.omega = true; }},
    {"quorum", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         if (auto n = v.small_integer(s.args[0], "quorum", 1, 0x7fffffff)) d.server.quorum = *n;
     }},
    {"hysteresis", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         if (auto n = v.small_integer(s.args[0], "hysteresis", 0, 0x7fffffff))
             d.server.hysteresis = *n;
     }},
    {"quorum_up", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         d.server.quorum_up = v.script(s);
     }},
    {"quorum_down", 1, 3, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         d.server.quorum_down = v.script(s);
     }},
    {"ip_family", 1, 1, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         if (s.args[0].text == "inet") {
             d.ip_family = AddressFamily::inet;
         } else if (s.args[0].text == "inet6") {
             d.ip_family = AddressFamily::inet6;
         } else {
             v.error(s.args[0].where,
                     "ip_family must be inet or inet6, not " + quote(s.args[0].text));
         }
     }},
    {"sorry_server", 1, 2, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         d.sorry_server = parse_sorry_server(v, s);
     }},
    {"sorry_server_inhibit", 0, 0, BlockUse::none,
     [](Values&, const Statement&, VirtualServerDraft& d) { d.sorry_inhibit = true; }},
    {"sorry_server_lvs_method", 1, kMany, BlockUse::none,
     [](Values& v, const Statement& s, VirtualServerDraft& d) {
         d.sorry_forwarding = v.forwarding(s);
     }},
    {"connect_timeout", 1, 1, BlockUse::none, parse_vs_setting},
    {"retry", 1, 1, BlockUse::none, parse_vs_setting},
    {"delay_before_retry", 1, 1, BlockUse::none, parse_vs_setting},
    {"warmup", 1, 1, BlockUse::none, parse_vs_setting},
    {"delay_loop", 1, 1, BlockUse::none, parse_vs_setting},
    {"rise", 1, 1, BlockUse::none, parse_vs_setting},
    {"inhibit_on_failure", 0, 0, BlockUse::none,
     [](Values&, const Statement&, VirtualServerDraft& d) { d.server.inhibit_on_failure = true; }},
    {"real_server", 1, 2, BlockUse::required, parse_real_server},
};

// ------------------------------------------------------------ top level

const Keyword<TopDraft> kTopKeywords[] = {
    {"global_defs", 0, 0, BlockUse::required,
     [](Values& v, const Statement& s, TopDraft& d) {
         // A second global_defs block adds to the first, as in keepalived.
         if (d.global.defs.where.line == 0) d.global.defs.where = s.keyword.where;
         const BlockInfo info{"global_defs", kUnimplementedGlobal, kIgnoredGlobal};
         dispatch<GlobalDraft>(v, s.children, kGlobalKeywords, info, d.global);
     }},
    {"vrrp_script", 1, 1, BlockUse::required,
     [](Values& v, const Statement& s, TopDraft& d) {
         ScriptDraft script;
         script.script.where = s.keyword.where;
         script.script.name = s.args[0].text;
         script.script.interval = defaults::kScriptInterval;
         script.script.weight = defaults::kScriptWeight;
         script.script.rise = defaults::kScriptRise;
         script.script.fall = defaults::kScriptFall;
         const BlockInfo info{"vrrp_script", kUnimplementedScript, {}};
         dispatch<ScriptDraft>(v, s.children, kScriptKeywords, info, script);
         d.scripts.push_back(std::move(script));
     }},
    {"vrrp_instance", 1, 1, BlockUse::required,
     [](Values& v, const Statement& s, TopDraft& d) {
         InstanceDraft instance;
         instance.instance.where = s.keyword.where;
         instance.instance.name = s.args[0].text;
         const BlockInfo info{"vrrp_instance", kUnimplementedInstance, kIgnoredInstance};
         dispatch<InstanceDraft>(v, s.children, kInstanceKeywords, info, instance);
         d.instances.push_back(std::move(instance));
     }},
    {"vrrp_sync_group", 1, 1, BlockUse::required,
     [](Values& v, const Statement& s, TopDraft& d) {
         SyncGroupDraft group;
         group.group.where = s.keyword.where;
         group.group.name = s.args[0].text;
         const BlockInfo info{"vrrp_sync_group", kUnimplementedSyncGroup, kIgnoredSyncGroup};
         dispatch<SyncGroupDraft>(v, s.children, kSyncGroupKeywords, info, group);
         d.sync_groups.push_back(std::move(group));
     }},
    {"virtual_server_group", 1, 1, BlockUse::required,
     [](Values& v, const Statement& s, TopDraft& d) {
         GroupDraft group;
         group.group.where = s.keyword.where;
         group.group.name = s.args[0].text;
         for_each_line(v, s, [&](const Statement& line) { parse_vs_group_line(v, line, group); });
         d.vs_groups.push_back(std::move(group));
     }},
    {"virtual_server", 1, 2, BlockUse::required,
     [](Values& v, const Statement& s, TopDraft& d) {
         VirtualServerDraft server;
         server.block = s.keyword.block;
         server.server.where = s.keyword.where;
         const auto& args = s.args;
         if (args[0].text == "fwmark") {
             if (args.size() != 2) {
                 v.error(s.keyword.where, "virtual_server fwmark needs a mark");
                 return;
             }
             auto mark = v.integer(args[1], "fwmark", 1, 0xffffffffLL);
             if (!mark) return;
             server.server.target = VsFwmark{static_cast<std::uint32_t>(*mark)};
         } else if (args[0].text == "group") {
             if (args.size() != 2) {
                 v.error(s.keyword.where, "virtual_server group needs a virtual_server_group name");
                 return;
             }
             server.server.target = VsGroup{args[1].text};
         } else {
             auto address = v.address(args[0], "virtual_server");
             if (!address) return;
             VsAddress target{*address, std::nullopt};
             if (args.size() > 1) {
                 target.port = v.port(args[1], "virtual_server port");
                 if (!target.port) return;
             }
             server.server.target = target;
             server.server.family = address->family;
         }
         server.server.scheduler = std::string(defaults::kScheduler);
         server.server.protocol = defaults::kProtocol;
         server.server.forwarding.method = defaults::kForwarding;
         server.server.quorum = defaults::kQuorum;
         server.server.hysteresis = defaults::kHysteresis;
         const BlockInfo info{"virtual_server", kUnimplementedVirtualServer, kIgnoredVirtualServer};
         // At most one real server per statement: no regrowth of large drafts.
         server.real_servers.reserve(s.children.size());
         dispatch<VirtualServerDraft>(v, s.children, kVirtualServerKeywords, info, server);
         d.virtual_servers.push_back(std::move(server));
     }},
};

// ------------------------------------------------------------- finalise

class Finisher {
  public:
    Finisher(Values& values, TopDraft& top, const Diagnostics& diagnostics,
             std::vector<std::uint32_t>* block_of_server)
        : v_(values), top_(top), diagnostics_(diagnostics), block_of_server_(block_of_server) {}

    Config run() {
        Config config;
        config.global_defs = global();
        for (auto& script : top_.scripts) config.vrrp_scripts.push_back(finish(script));
        scripts_ = &config.vrrp_scripts;
        for (auto& instance : top_.instances) {
            config.vrrp_instances.push_back(finish(instance, config.global_defs));
        }
        for (auto& group : top_.sync_groups) config.vrrp_sync_groups.push_back(finish(group));
        for (auto& group : top_.vs_groups) config.virtual_server_groups.push_back(finish(group));
        groups_ = &config.virtual_server_groups;
        config.virtual_servers.reserve(top_.virtual_servers.size());
        for (auto& server : top_.virtual_servers) {
            if (server.reused) {
                config.virtual_servers.push_back(std::move(server.server));
            } else {
                const std::size_t reported = diagnostics_.all().size();
                config.virtual_servers.push_back(finish(server));
                server.clean = server.clean && diagnostics_.all().size() == reported &&
                               reported < 4 * Diagnostics::kMaxErrors;
            }
            if (block_of_server_ != nullptr)
                block_of_server_->push_back(server.reused || server.clean ? server.block : 0);
            // Drafts are several times the size of what they become: hand
            // the memory back for the next virtual server to reuse.
            server = VirtualServerDraft{};
        }
        return config;
    }

  private:
    GlobalDefs global() {
        auto& draft = top_.global;
        auto defs = draft.defs;
        const auto& seen = draft.seen;
        if (!seen.has("vrrp_mcast_group4"))
            defs.vrrp_mcast_group4 = *IpAddress::parse(defaults::kVrrpMcastGroup4);
        if (!seen.has("vrrp_mcast_group6"))
            defs.vrrp_mcast_group6 = *IpAddress::parse(defaults::kVrrpMcastGroup6);
        if (!seen.has("vrrp_version")) defs.vrrp_version = defaults::kVrrpVersion;
        if (!seen.has("vrrp_garp_master_delay")) {
            defs.vrrp_garp_master_delay = draft.min_garp ? 0s : defaults::kGarpMasterDelay;
        }
        if (!seen.has("vrrp_garp_master_repeat")) {
            defs.vrrp_garp_master_repeat = draft.min_garp ? 1 : defaults::kGarpMasterRepeat;
        }
        if (!seen.has("vrrp_garp_master_refresh"))
            defs.vrrp_garp_master_refresh = defaults::kGarpMasterRefresh;
        if (!seen.has("vrrp_garp_master_refresh_repeat")) {
            defs.vrrp_garp_master_refresh_repeat = defaults::kGarpMasterRefreshRepeat;
        }
        if (!seen.has("vrrp_garp_interval")) defs.vrrp_garp_interval = defaults::kGarpInterval;
        if (!seen.has("vrrp_gna_interval")) defs.vrrp_gna_interval = defaults::kGnaInterval;
        defs.control_socket.try_emplace(Daemon::vrrpd, defaults::kVrrpdControlSocket);
        defs.control_socket.try_emplace(Daemon::healthcheckd, defaults::kHealthcheckdControlSocket);
        if (defs.control_socket[Daemon::vrrpd] == defs.control_socket[Daemon::healthcheckd]) {
            v_.error(seen.where("control_socket", defs.where),
                     "vrrpd and healthcheckd cannot share the control socket " +
                         defs.control_socket[Daemon::vrrpd]);
        }
        const auto vrrpd = defs.metrics_listen.find(Daemon::vrrpd);
        const auto healthcheckd = defs.metrics_listen.find(Daemon::healthcheckd);
        if (vrrpd != defs.metrics_listen.end() && healthcheckd != defs.metrics_listen.end() &&
            vrrpd->second == healthcheckd->second) {
            v_.error(seen.where("metrics_listen", defs.where),
                     "vrrpd and healthcheckd cannot both listen on " + vrrpd->second.to_string());
        }
        return defs;
    }

    VrrpScript finish(ScriptDraft& draft) {
        auto script = draft.script;
        if (script.script.empty() && !draft.seen.has("script")) {
            v_.error(script.where, "vrrp_script " + script.name + " has no script");
        }
        script.timeout = draft.timeout.value_or(script.interval);
        return script;
    }

    [[nodiscard]] const VrrpScript* script(std::string_view name) const {
        for (const auto& s : *scripts_) {
            if (s.name == name) return &s;
        }
        return nullptr;
    }

    void resolve_track_scripts(std::vector<TrackedScript>& tracked, const std::vector<bool>& given,
                               std::string_view owner) {
        for (std::size_t i = 0; i < tracked.size(); ++i) {
            const auto* found = script(tracked[i].name);
            if (found == nullptr) {
                v_.error(tracked[i].where, "track_script " + quote(tracked[i].name) + " of " +
                                               std::string(owner) + " names no vrrp_script");
                continue;
            }
            if (!given[i]) {
                tracked[i].weight = found->weight;
                tracked[i].reverse = tracked[i].reverse || found->weight_reverse;
            }
        }
    }

    void check_family(const IpAddress& address, AddressFamily family, std::string_view what,
                      const SourceLocation& where, std::string_view instance) {
        if (address.family == family) return;
        v_.error(where, std::string(what) + " " + address.to_string() + " is " +
                            (address.is_v6() ? "IPv6" : "IPv4") + " but vrrp_instance " +
                            std::string(instance) + " is " +
                            (family == AddressFamily::inet6 ? "IPv6" : "IPv4"));
    }

    VrrpInstance finish(InstanceDraft& draft, const GlobalDefs& defs) {
        auto instance = draft.instance;
        const auto& seen = draft.seen;
        const auto& name = instance.name;
        const auto where = [&](std::string_view keyword) {
            return seen.where(keyword, instance.where);
        };

        if (!draft.vrid) {
            if (!seen.has("virtual_router_id")) {
                v_.error(instance.where, "vrrp_instance " + name + " has no virtual_router_id");
            }
        } else {
            instance.virtual_router_id = *draft.vrid;
        }
        if (!instance.interface && instance.unicast_peers.empty()) {
            v_.error(instance.where, "vrrp_instance " + name + " has no interface");
        }

        // The address family comes from the first virtual address, as in keepalived.
        if (!instance.virtual_ipaddresses.empty()) {
            instance.family = instance.virtual_ipaddresses.front().prefix.address.family;
        } else if (instance.unicast_src_ip) {
            instance.family = instance.unicast_src_ip->family;
        } else if (!instance.unicast_peers.empty()) {
            instance.family = instance.unicast_peers.front().address.family;
        } else if (instance.mcast_src_ip) {
            instance.family = instance.mcast_src_ip->family;
        }
        if (instance.virtual_ipaddresses.empty()) {
            v_.warning(instance.where, "vrrp_instance " + name + " has no virtual_ipaddress");
        }
        std::vector<const VirtualAddress*> all;
        for (const auto& vip : instance.virtual_ipaddresses) {
            if (vip.prefix.address.family != instance.family) {
                v_.error(vip.where,
                         "virtual_ipaddress " + vip.prefix.address.to_string() +
                             " is not the same address family as the first one, " +
                             instance.virtual_ipaddresses.front().prefix.address.to_string() +
                             "; put it in virtual_ipaddress_excluded");
            }
            all.push_back(&vip);
        }
        for (const auto& vip : instance.virtual_ipaddresses_excluded) all.push_back(&vip);
        for (std::size_t i = 0; i < all.size(); ++i) {
            for (std::size_t j = 0; j < i; ++j) {
                if (all[i]->prefix.address == all[j]->prefix.address) {
                    v_.error(all[i]->where, "virtual address " +
                                                all[i]->prefix.address.to_string() +
                                                " is listed twice in vrrp_instance " + name +
                                                " (first at " + all[j]->where.to_string() + ")");
                    break;
                }
            }
        }
        if (instance.unicast_src_ip) {
            check_family(*instance.unicast_src_ip, instance.family, "unicast_src_ip",
                         where("unicast_src_ip"), name);
        }
        for (const auto& peer : instance.unicast_peers) {
            check_family(peer.address, instance.family, "unicast_peer", where("unicast_peer"),
                         name);
        }
        if (instance.mcast_src_ip) {
            check_family(*instance.mcast_src_ip, instance.family, "mcast_src_ip",
                         where("mcast_src_ip"), name);
        }

        // Version: explicit, else global; IPv6 always runs VRRPv3.
        const bool v6 = instance.family == AddressFamily::inet6;
        if (draft.version) {
            instance.version = *draft.version;
            if (v6 && instance.version == 2) {
                v_.error(where("version"),
                         "VRRP version 2 cannot carry IPv6 addresses; use version 3");
            }
        } else {
            instance.version = v6 ? defaults::kVrrpVersionIpv6 : defs.vrrp_version;
        }

        const auto advert = draft.advert_int.value_or(Duration(defaults::kAdvertInt));
        const auto advert_where = where("advert_int");
        const auto advert_text = seconds_text(advert);
        if (instance.version == 2) {
            if (advert.count() % 1000000 != 0 || advert < Duration(defaults::kMinAdvertIntV2) ||
                advert > Duration(defaults::kMaxAdvertIntV2)) {
                v_.error(advert_where, "advert_int " + advert_text +
                                           " is not valid for VRRP version 2, which needs whole "
                                           "seconds 1-255");
            }
        } else if (advert.count() % 10000 != 0 || advert < Duration(defaults::kMinAdvertIntV3) ||
                   advert > Duration(defaults::kMaxAdvertIntV3)) {
            v_.error(advert_where, "advert_int " + advert_text +
                                       " is not valid for VRRP version 3, which needs "
                                       "centiseconds 0.01-40.95");
        }
        instance.advert_int = std::chrono::duration_cast<Centiseconds>(advert);

        instance.priority = draft.priority.value_or(defaults::kPriority);
        if (instance.priority == defaults::kAddressOwnerPriority) {
            if (instance.state != VrrpState::master) {
                v_.error(
                    where("priority"),
                    "priority 255 is reserved for the address owner, which must have state MASTER");
            }
            if (instance.nopreempt) {
                v_.error(where("nopreempt"),
                         "the address owner (priority 255) always preempts; remove nopreempt");
            }
            for (const auto& tracked : instance.track_interfaces) {
                if (tracked.weight != 0) {
                    v_.error(where("track_interface"),
                             "the address owner (priority 255) cannot change priority: "
                             "track_interface " +
                                 tracked.name + " must have weight 0");
                }
            }
        }
        if (instance.nopreempt && instance.state == VrrpState::master) {
            v_.warning(where("nopreempt"), "nopreempt only works when the initial state is BACKUP");
        }

        instance.accept = draft.accept.value_or(
            !defs.vrrp_strict || instance.priority == defaults::kAddressOwnerPriority);
        if (draft.auth) {
            if (!draft.auth->pass) {
                if (!draft.auth->seen.has("auth_pass")) {
                    v_.error(where("authentication"), "authentication needs auth_pass");
                }
            } else if (instance.version == 3) {
                v_.error(where("authentication"),
                         "VRRP version 3 has no authentication (RFC 5798)");
            } else {
                instance.auth_pass = draft.auth->pass;
            }
        }

        instance.garp_master_delay = draft.garp_master_delay.value_or(defs.vrrp_garp_master_delay);
        instance.garp_master_repeat =
            draft.garp_master_repeat.value_or(defs.vrrp_garp_master_repeat);
        instance.garp_master_refresh =
            draft.garp_master_refresh.value_or(defs.vrrp_garp_master_refresh);
        instance.garp_master_refresh_repeat =
            draft.garp_master_refresh_repeat.value_or(defs.vrrp_garp_master_refresh_repeat);

        resolve_track_scripts(instance.track_scripts, draft.track_weight_given,
                              "vrrp_instance " + name);
        if (instance.priority == defaults::kAddressOwnerPriority) {
            for (const auto& tracked : instance.track_scripts) {
                if (tracked.weight != 0) {
                    v_.error(tracked.where,
                             "the address owner (priority 255) cannot change priority: "
                             "track_script " +
                                 tracked.name + " must have weight 0");
                }
            }
        }
        return instance;
    }

    VrrpSyncGroup finish(SyncGroupDraft& draft) {
        auto group = draft.group;
        if (group.members.empty()) {
            v_.error(group.where,
                     "vrrp_sync_group " + group.name + " has no group { } of vrrp_instances");
        }
        for (std::size_t i = 0; i < group.members.size(); ++i) {
            bool found = false;
            for (const auto& instance : top_.instances)
                found = found || instance.instance.name == group.members[i];
            if (!found) {
                v_.error(draft.member_where[i], "vrrp_sync_group " + group.name + " names " +
                                                    quote(group.members[i]) +
                                                    ", which is no vrrp_instance");
            }
        }
        resolve_track_scripts(group.track_scripts, draft.track_weight_given,
                              "vrrp_sync_group " + group.name);
        return group;
    }

    VirtualServerGroup finish(GroupDraft& draft) {
        auto group = draft.group;
        if (group.ranges.empty() && group.fwmarks.empty()) {
            v_.error(group.where, "virtual_server_group " + group.name + " is empty");
        }
        for (const auto& range : group.ranges) {
            if (range.first.family != group.ranges.front().first.family) {
                v_.error(range.where,
                         "virtual_server_group " + group.name + " mixes IPv4 and IPv6 addresses");
                break;
            }
        }
        return group;
    }

    [[nodiscard]] const VirtualServerGroup* vs_group(std::string_view name) const {
        for (const auto& g : *groups_) {
            if (g.name == name) return &g;
        }
        return nullptr;
    }

    Checker finish(CheckerDraft& draft, const RealServerDraft& rs, const VirtualServerDraft& vs,
                   const RealServer& server) {
        auto checker = draft.checker;
        const auto& c = draft.settings;
        const auto& r = rs.settings;
        const auto& s = vs.settings;
        const bool http =
            checker.type == CheckerType::http_get || checker.type == CheckerType::ssl_get;
        const bool misc = checker.type == CheckerType::misc_check;
        checker.connect_timeout = first_of(c.connect_timeout, r.connect_timeout, s.connect_timeout)
                                      .value_or(defaults::kConnectTimeout);
        checker.retry = first_of(c.retry, r.retry, s.retry)
                            .value_or(misc ? defaults::kMiscRetry : defaults::kRetry);
        checker.delay_before_retry =
            first_of(c.delay_before_retry, r.delay_before_retry, s.delay_before_retry)
                .value_or(http ? defaults::kHttpDelayBeforeRetry : defaults::kDelayBeforeRetry);
        checker.delay_loop =
            first_of(c.delay_loop, r.delay_loop, s.delay_loop).value_or(defaults::kDelayLoop);
        checker.warmup = first_of(c.warmup, r.warmup, s.warmup).value_or(checker.delay_loop);
        checker.alpha = first_of(c.alpha, r.alpha, s.alpha).value_or(false);
        checker.rise = first_of(c.rise, r.rise, s.rise).value_or(defaults::kRise);
        const auto type_name = std::string(to_string(checker.type));
        if (http) {
            auto details = draft.http;
            details.virtualhost = first_of(details.virtualhost, r.virtualhost, s.virtualhost);
            if (details.urls.empty()) {
                v_.error(checker.where, type_name + " needs at least one url { path ... }");
            }
            // A kept connection needs HTTP/1.1 keep-alive: 1.0 or "Connection: close" ends it.
            if (details.reuse_connection && draft.seen.has("http_protocol") &&
                details.http_protocol != "1.1") {
                v_.error(checker.where, "reuse_connection needs http_protocol 1.1, not " +
                                            quote(details.http_protocol));
            }
            checker.details = details;
        } else if (misc) {
            auto details = draft.misc;
            if (details.path.empty() && !draft.seen.has("misc_path")) {
                v_.error(checker.where, "MISC_CHECK needs misc_path");
            }
            details.timeout = draft.misc_timeout.value_or(checker.delay_loop);
            checker.details = details;
        } else {
            checker.details = TcpCheck{};
        }
        if (!misc && !checker.connect_port && !server.port) {
            v_.error(checker.where, type_name +
                                        " needs a port to connect to: set connect_port or "
                                        "give the real_server a port");
        }
        return checker;
    }

    RealServer finish(RealServerDraft& draft, const VirtualServerDraft& vs,
                      const VirtualServer& server) {
        auto real = draft.server;
        const auto& seen = draft.seen;
        const auto where = [&](std::string_view keyword) {
            return seen.where(keyword, real.where);
        };
        real.forwarding = draft.forwarding.value_or(server.forwarding);
        real.inhibit_on_failure = draft.inhibit_on_failure.value_or(server.inhibit_on_failure);
        if (!real.port) {
            if (const auto* address = std::get_if<VsAddress>(&server.target))
                real.port = address->port;
        }
        if (real.address.family != server.family &&
            real.forwarding.method != ForwardingMethod::tun) {
            v_.error(real.where, "real_server " + real.address.to_string() + " is " +
                                     (real.address.is_v6() ? "IPv6" : "IPv4") +
                                     " but virtual_server " + server.key() + " is " +
                                     (server.family == AddressFamily::inet6 ? "IPv6" : "IPv4") +
                                     "; only TUN forwarding may mix families");
        }
        if (real.forwarding.fnat_source &&
            real.forwarding.fnat_source->family != real.address.family) {
            v_.error(real.where,
                     "real_server " + real.address.to_string() + " cannot get FNAT source " +
                         real.forwarding.fnat_source->to_string() + " of another family");
        }
        if (real.lthreshold != 0 && real.uthreshold != 0 && real.lthreshold >= real.uthreshold) {
            v_.error(where("lthreshold"), "lthreshold " + std::to_string(real.lthreshold) +
                                              " must be lower than uthreshold " +
                                              std::to_string(real.uthreshold));
        }
        if (draft.dynamic_weight) {
            auto& dynamic = *draft.dynamic_weight;
            real.dynamic_weight = dynamic.weight;
            auto& weight = *real.dynamic_weight;
            weight.max_weight = dynamic.max_weight.value_or(real.weight);
            if (weight.source == DynamicWeightSource::agent && !weight.agent_port) {
                if (!dynamic.seen.has("port"))
                    v_.error(dynamic.where, "dynamic_weight agent needs a port");
            }
            if (weight.min_weight > weight.max_weight) {
                v_.error(dynamic.seen.where("min_weight", dynamic.where),
                         "min_weight " + std::to_string(weight.min_weight) +
                             " is above max_weight " + std::to_string(weight.max_weight));
            }
            if (weight.source == DynamicWeightSource::agent && weight.timeout > weight.interval) {
                v_.error(dynamic.seen.where("timeout", dynamic.where),
                         "dynamic_weight timeout must not exceed its interval");
            }
        }
        for (auto& checker : draft.checkers)
            real.checkers.push_back(finish(checker, draft, vs, real));
        return real;
    }

    VirtualServer finish(VirtualServerDraft& draft) {
        auto server = draft.server;
        const auto& seen = draft.seen;
        const auto where = [&](std::string_view keyword) {
            return seen.where(keyword, server.where);
        };

        // Family: from the address, the group, ip_family, or the real servers.
        if (const auto* group_ref = std::get_if<VsGroup>(&server.target)) {
            const auto* group = vs_group(group_ref->name);
            if (group == nullptr) {
                v_.error(server.where, "virtual_server group " + quote(group_ref->name) +
                                           " names no virtual_server_group");
            } else if (!group->ranges.empty()) {
                server.family = group->ranges.front().first.family;
            } else if (!group->fwmarks.empty() && group->fwmarks.front().family) {
                server.family = *group->fwmarks.front().family;
            } else if (draft.ip_family) {
                server.family = *draft.ip_family;
            } else if (!draft.real_servers.empty()) {
                server.family = draft.real_servers.front().server.address.family;
            }
        } else if (std::holds_alternative<VsFwmark>(server.target)) {
            if (draft.ip_family) {
                server.family = *draft.ip_family;
            } else if (!draft.real_servers.empty()) {
                server.family = draft.real_servers.front().server.address.family;
            }
        } else if (draft.ip_family && *draft.ip_family != server.family) {
            v_.error(where("ip_family"), "ip_family " + std::string(to_string(*draft.ip_family)) +
                                             " contradicts the virtual_server address");
        }

        const auto key = server.key();
        if (const auto* address = std::get_if<VsAddress>(&server.target);
            address != nullptr && !address->port && !server.persistence_timeout) {
            v_.error(server.where,
                     "virtual_server " + key +
                         " has no port; only a persistent service (persistence_timeout) "
                         "may leave it out");
        }
        if (server.one_packet_scheduling && server.protocol != Protocol::udp) {
            v_.error(where("ops"), "ops (one-packet scheduling) needs protocol UDP");
        }
        for (const auto& flag : server.scheduler_flags) {
            if ((flag.rfind("sh-", 0) == 0 && server.scheduler != "sh") ||
                (flag.rfind("mh-", 0) == 0 && server.scheduler != "mh")) {
                v_.error(where(flag), quote(flag) + " needs lb_algo " + flag.substr(0, 2) +
                                          ", not " + server.scheduler);
            }
        }
        if (draft.granularity) {
            const auto& token = *draft.granularity;
            std::optional<int> length;
            if (token.text.find('.') != std::string::npos) {
                auto mask = IpAddress::parse(token.text);
                if (mask && !mask->is_v6()) {
                    int bits = 0;
                    bool contiguous = true;
                    for (int bit = 0; bit < 32; ++bit) {
                        const bool set = (mask->bytes[static_cast<std::size_t>(bit / 8)] &
                                          (0x80 >> (bit % 8))) != 0;
                        if (set && bits != bit) contiguous = false;
                        if (set) ++bits;
                    }
                    if (contiguous && server.family == AddressFamily::inet) length = bits;
                }
                if (!length) {
                    v_.error(token.where,
                             "persistence_granularity " + quote(token.text) +
                                 " is not a contiguous IPv4 netmask for this virtual_server");
                }
            } else {
                const int max = server.family == AddressFamily::inet6 ? 128 : 32;
                length = v_.small_integer(token, "persistence_granularity", 1, max);
            }
            if (length) server.persistence_granularity = length;
            if (!server.persistence_timeout) {
                v_.error(where("persistence_granularity"),
                         "persistence_granularity needs persistence_timeout");
            }
        }
        if (server.hysteresis > server.quorum) {
            v_.error(where("hysteresis"), "hysteresis " + std::to_string(server.hysteresis) +
                                              " must not exceed quorum " +
                                              std::to_string(server.quorum));
        }
        server.delay_loop = draft.settings.delay_loop.value_or(defaults::kDelayLoop);
        server.alpha = draft.settings.alpha.value_or(false);
        server.virtualhost = draft.settings.virtualhost;
        if (draft.sorry_server) {
            auto sorry = *draft.sorry_server;
            sorry.inhibit = draft.sorry_inhibit;
            sorry.forwarding = draft.sorry_forwarding.value_or(server.forwarding);
            if (sorry.address.family != server.family &&
                sorry.forwarding.method != ForwardingMethod::tun) {
                v_.error(where("sorry_server"),
                         "sorry_server " + sorry.address.to_string() +
                             " is not the same address family as virtual_server " + key);
            }
            server.sorry_server = sorry;
        } else if (draft.sorry_inhibit || draft.sorry_forwarding) {
            v_.error(
                where(draft.sorry_inhibit ? "sorry_server_inhibit" : "sorry_server_lvs_method"),
                "there is no sorry_server to apply this to");
        }
        // By key, not by comparing with every earlier server: a virtual
        // server may have thousands.
        std::map<std::string, std::size_t> index_of;
        server.real_servers.reserve(draft.real_servers.size());
        for (auto& real : draft.real_servers) {
            auto finished = finish(real, draft, server);
            const auto [other, first] =
                index_of.try_emplace(finished.key(), server.real_servers.size());
            if (!first)
                v_.error(finished.where,
                         "real_server " + other->first + " is already in virtual_server " + key +
                             " (at " + server.real_servers[other->second].where.to_string() + ")");
            server.real_servers.push_back(std::move(finished));
        }
        return server;
    }

    Values& v_;
    TopDraft& top_;
    const Diagnostics& diagnostics_;
    std::vector<std::uint32_t>* block_of_server_;
    const std::vector<VrrpScript>* scripts_ = nullptr;
    const std::vector<VirtualServerGroup>* groups_ = nullptr;
};

template <typename Draft>
void add_names(std::vector<std::pair<std::string_view, std::string_view>>& out,
               std::string_view context, std::span<const Keyword<Draft>> table) {
    for (const auto& keyword : table) out.emplace_back(context, keyword.name);
}

}  // namespace

void shift_lines(VirtualServer& server, int delta) {
    if (delta == 0) return;
    server.where.line += delta;
    for (auto& real : server.real_servers) {
        real.where.line += delta;
        for (auto& checker : real.checkers) {
            checker.where.line += delta;
            if (auto* http = std::get_if<HttpCheck>(&checker.details))
                for (auto& url : http->urls) url.where.line += delta;
        }
    }
}

Config build_config(std::vector<Statement> statements, Diagnostics& diagnostics,
                    BlockReuse* reuse) {
    Values values(diagnostics);
    TopDraft top;
    const BlockInfo info{"the top level", kUnimplementedTop, {}};
    if (reuse == nullptr) {
        dispatch<TopDraft>(values, statements, kTopKeywords, info, top);
    } else {
        for (const auto& statement : statements) {
            const std::uint32_t block = statement.keyword.block;
            if (block != 0 && reuse->blocks[block - 1].previous != nullptr) {
                // The previous load's result, moved to where the block is now.
                const auto& now = reuse->blocks[block - 1];
                const auto& before = now.previous->second;
                VirtualServerDraft draft;
                draft.block = block;
                draft.reused = true;
                if (reuse->lean) {
                    // The caller keeps its own state of it: no real servers.
                    draft.server = before.server->without_real_servers();
                    shift_lines(draft.server, now.first_line - before.first_line);
                    top.seen.at["virtual_server"] = statement.keyword.where;
                    top.virtual_servers.push_back(std::move(draft));
                    continue;
                }
                draft.server = *before.server;  // without its checkers: from the pool
                for (const auto& ref : before.checkers) {
                    auto& checker =
                        draft.server.real_servers[ref.real_server].checkers.emplace_back(
                            (*reuse->pool)[ref.pool]);
                    // Pool entries of equal settings may come from blocks of
                    // other files (locations compare equal): the block's file.
                    checker.where.file = before.file;
                    checker.where.line = before.first_line + ref.line;
                    if (auto* http = std::get_if<HttpCheck>(&checker.details)) {
                        for (auto& url : http->urls) {
                            url.where.file = before.file;
                            url.where.line += checker.where.line;
                        }
                    }
                }
                shift_lines(draft.server, now.first_line - before.first_line);
                top.seen.at["virtual_server"] = statement.keyword.where;
                top.virtual_servers.push_back(std::move(draft));
                continue;
            }
            const std::size_t reported = diagnostics.all().size();
            dispatch<TopDraft>(values, std::span(&statement, 1), kTopKeywords, info, top);
            if (block != 0 && !top.virtual_servers.empty() &&
                top.virtual_servers.back().block == block) {
                // Warnings past the cap are dropped: then nothing is known.
                top.virtual_servers.back().clean =
                    diagnostics.all().size() == reported && reported < 4 * Diagnostics::kMaxErrors;
            }
        }
        reuse->block_of_server.clear();
        reuse->block_of_server.reserve(top.virtual_servers.size());
    }
    // The drafts hold copies of what they need: free the statements first.
    std::vector<Statement>().swap(statements);
    auto config =
        Finisher(values, top, diagnostics, reuse ? &reuse->block_of_server : nullptr).run();
    validate_config(config, diagnostics);
    return config;
}

std::vector<std::pair<std::string_view, std::string_view>> implemented_keywords() {
    static const auto all = [] {
        std::vector<std::pair<std::string_view, std::string_view>> out;
        add_names<TopDraft>(out, "the top level", kTopKeywords);
        add_names<GlobalDraft>(out, "global_defs", kGlobalKeywords);
        add_names<ScriptDraft>(out, "vrrp_script", kScriptKeywords);
        add_names<InstanceDraft>(out, "vrrp_instance", kInstanceKeywords);
        add_names<AuthDraft>(out, "authentication", kAuthKeywords);
        add_names<SyncGroupDraft>(out, "vrrp_sync_group", kSyncGroupKeywords);
        add_names<VirtualServerDraft>(out, "virtual_server", kVirtualServerKeywords);
        add_names<RealServerDraft>(out, "real_server", kRealServerKeywords);
        add_names<CheckerDraft>(out, "checker", kCheckerKeywords);
        add_names<UrlDraft>(out, "url", kUrlKeywords);
        add_names<DynamicWeightDraft>(out, "dynamic_weight", kDynamicWeightKeywords);
        return out;
    }();
    return all;
}

std::vector<std::pair<std::string_view, std::string_view>> unimplemented_keywords() {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    auto add = [&](std::string_view context, std::span<const std::string_view> names) {
        for (const auto& name : names) out.emplace_back(context, name);
    };
    add("the top level", kUnimplementedTop);
    add("global_defs", kUnimplementedGlobal);
    add("vrrp_script", kUnimplementedScript);
    add("vrrp_instance", kUnimplementedInstance);
    add("vrrp_sync_group", kUnimplementedSyncGroup);
    add("virtual_server", kUnimplementedVirtualServer);
    add("real_server", kUnimplementedRealServer);
    add("checker", kUnimplementedChecker);
    add("url", kUnimplementedUrl);
    return out;
}

}  // namespace ipvsctl::config
