// SPDX-License-Identifier: GPL-2.0-or-later
// The typed configuration: what a keepalived.conf-dialect file means once it
// has been parsed, defaulted and validated.
//
// Every value here is effective: defaults are filled in and inherited
// settings (virtual server -> real server -> checker, global_defs -> vrrp
// instance) are resolved, so a daemon never needs to know keepalived's
// defaulting rules. The loader hands a Config out as shared_ptr<const Config>;
// nothing changes it after that.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/address.hpp"
#include "config/diagnostic.hpp"

namespace ipvsctl::config {

/// keepalived <TIMER> values: seconds with microsecond resolution.
using Duration = std::chrono::microseconds;
/// VRRP advertisement intervals travel in centiseconds (RFC 5798 section 5.2.7).
using Centiseconds = std::chrono::duration<std::int64_t, std::centi>;

/// An optional value kept out of line: 8 bytes while absent, a copy of
/// its own when copied. For settings that are rarely set on objects there
/// are tens of thousands of: a real server's two notify scripts as
/// std::optional were 240 of its 424 bytes, copied on every reload.
template <typename T>
class Boxed {
  public:
    Boxed() = default;
    Boxed(std::nullopt_t) {}                                             // NOLINT: as optional
    Boxed(const T& value) : value_(std::make_unique<T>(value)) {}        // NOLINT: as optional
    Boxed(T&& value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT: as optional
    Boxed(const Boxed& other) : value_(other ? std::make_unique<T>(*other) : nullptr) {}
    Boxed(Boxed&&) noexcept = default;
    Boxed& operator=(const Boxed& other) {
        if (this != &other) value_ = other ? std::make_unique<T>(*other) : nullptr;
        return *this;
    }
    Boxed& operator=(Boxed&&) noexcept = default;
    ~Boxed() = default;

    [[nodiscard]] bool has_value() const { return value_ != nullptr; }
    explicit operator bool() const { return has_value(); }
    const T& operator*() const { return *value_; }
    T& operator*() { return *value_; }
    const T* operator->() const { return value_.get(); }
    T* operator->() { return value_.get(); }
    void reset() { value_.reset(); }
    friend bool operator==(const Boxed& a, const Boxed& b) {
        return a.has_value() == b.has_value() && (!a || *a == *b);
    }

  private:
    std::unique_ptr<T> value_;
};

/// A program to run, with the user and group to run it as. `command` is the
/// whole command line as written (keepalived splits it like a shell would).
struct ScriptCommand {
    std::string command;
    std::optional<std::string> user;
    std::optional<std::string> group;
    friend bool operator==(const ScriptCommand&, const ScriptCommand&) = default;
};

/// The daemons that read this file.
enum class Daemon { vrrpd, healthcheckd };

struct LvsSyncDaemon {
    std::string interface;
    std::optional<std::string> vrrp_instance;
    std::optional<int> sync_id;  ///< default: VRID of vrrp_instance, else 0
    std::optional<int> max_length;
    int port = 8848;
    std::optional<int> ttl;
    IpAddress group;  ///< default 224.0.0.81
    friend bool operator==(const LvsSyncDaemon&, const LvsSyncDaemon&) = default;
};

struct LvsTimeouts {
    std::optional<Duration> tcp;
    std::optional<Duration> tcp_fin;
    std::optional<Duration> udp;
    friend bool operator==(const LvsTimeouts&, const LvsTimeouts&) = default;
};

struct GlobalDefs {
    SourceLocation where;
    std::optional<std::string> router_id;
    std::optional<ScriptCommand> script_user;  ///< command is the user name
    bool enable_script_security = false;

    int vrrp_version = 2;
    IpAddress vrrp_mcast_group4;
    IpAddress vrrp_mcast_group6;
    Duration vrrp_garp_master_delay{};
    int vrrp_garp_master_repeat = 0;
    Duration vrrp_garp_master_refresh{};
    int vrrp_garp_master_refresh_repeat = 0;
    Duration vrrp_garp_interval{};
    Duration vrrp_gna_interval{};
    bool vrrp_strict = false;
    bool vrrp_check_unicast_src = false;
    bool vrrp_skip_check_adv_addr = false;
    Duration vrrp_startup_delay{};
    /// vrrp_rt_priority: vrrpd runs under SCHED_FIFO at this priority (1-99).
    std::optional<int> vrrp_rt_priority;
    /// vrrp_no_swap: vrrpd locks its memory (mlockall).
    bool vrrp_no_swap = false;
    /// vrrp_cpu_affinity: the CPUs vrrpd may run on, ascending (empty: any).
    std::vector<int> vrrp_cpu_affinity;

    LvsTimeouts lvs_timeouts;
    std::optional<LvsSyncDaemon> lvs_sync_daemon;
    bool lvs_flush = false;
    bool lvs_flush_on_stop = false;

    /// Extension: opt-in Prometheus endpoint per daemon.
    std::map<Daemon, Endpoint> metrics_listen;
    /// Extension: control socket path per daemon (defaults filled in).
    std::map<Daemon, std::string> control_socket;

    friend bool operator==(const GlobalDefs&, const GlobalDefs&) = default;
};

struct VrrpScript {
    SourceLocation where;
    std::string name;
    std::string script;
    Duration interval{};
    Duration timeout{};  ///< default: interval
    int weight = 0;
    bool weight_reverse = false;
    int rise = 1;
    int fall = 1;
    std::optional<ScriptCommand> user;  ///< command is the user name
    bool init_fail = false;
    friend bool operator==(const VrrpScript&, const VrrpScript&) = default;
};

enum class VrrpState { master, backup };

/// One line of virtual_ipaddress / virtual_ipaddress_excluded.
struct VirtualAddress {
    SourceLocation where;
    IpPrefix prefix;
    std::optional<IpAddress> broadcast;
    std::optional<std::string> device;
    std::optional<std::string> label;
    std::optional<std::string> scope;  ///< site link host nowhere global
    friend bool operator==(const VirtualAddress&, const VirtualAddress&) = default;
};

struct UnicastPeer {
    IpAddress address;
    std::optional<int> min_ttl;
    std::optional<int> max_ttl;
    friend bool operator==(const UnicastPeer&, const UnicastPeer&) = default;
};

struct TrackedInterface {
    std::string name;
    int weight = 0;
    bool reverse = false;
    friend bool operator==(const TrackedInterface&, const TrackedInterface&) = default;
};

struct TrackedScript {
    SourceLocation where;
    std::string name;
    int weight = 0;  ///< default: the vrrp_script's weight
    bool reverse = false;
    friend bool operator==(const TrackedScript&, const TrackedScript&) = default;
};

struct Notify {
    std::optional<ScriptCommand> master;
    std::optional<ScriptCommand> backup;
    std::optional<ScriptCommand> fault;
    std::optional<ScriptCommand> stop;
    std::optional<ScriptCommand> any;  ///< the `notify` keyword
    friend bool operator==(const Notify&, const Notify&) = default;
};

struct VrrpInstance {
    SourceLocation where;
    std::string name;
    VrrpState state = VrrpState::backup;
    std::optional<std::string> interface;
    int virtual_router_id = 0;
    int priority = 0;
    Centiseconds advert_int{};
    int version = 2;
    AddressFamily family = AddressFamily::inet;
    bool nopreempt = false;
    Duration preempt_delay{};
    bool accept = true;
    std::optional<std::string> auth_pass;  ///< authentication { auth_type PASS }
    std::optional<IpAddress> unicast_src_ip;
    std::vector<UnicastPeer> unicast_peers;
    std::optional<IpAddress> mcast_src_ip;
    bool dont_track_primary = false;
    std::vector<VirtualAddress> virtual_ipaddresses;
    std::vector<VirtualAddress> virtual_ipaddresses_excluded;
    std::vector<TrackedInterface> track_interfaces;
    std::vector<TrackedScript> track_scripts;
    Notify notify;
    Duration garp_master_delay{};
    int garp_master_repeat = 0;
    Duration garp_master_refresh{};
    int garp_master_refresh_repeat = 0;
    friend bool operator==(const VrrpInstance&, const VrrpInstance&) = default;
};

struct VrrpSyncGroup {
    SourceLocation where;
    std::string name;
    std::vector<std::string> members;
    std::vector<TrackedInterface> track_interfaces;
    std::vector<TrackedScript> track_scripts;
    Notify notify;
    friend bool operator==(const VrrpSyncGroup&, const VrrpSyncGroup&) = default;
};

enum class Protocol { tcp, udp, sctp };

/// A range of addresses (first == last for a single address) with a port.
struct VsGroupAddressRange {
    SourceLocation where;
    IpAddress first;
    IpAddress last;
    std::optional<std::uint16_t> port;
    friend bool operator==(const VsGroupAddressRange&, const VsGroupAddressRange&) = default;
};

struct VsGroupFwmark {
    SourceLocation where;
    std::uint32_t fwmark = 0;
    std::optional<AddressFamily> family;
    friend bool operator==(const VsGroupFwmark&, const VsGroupFwmark&) = default;
};

struct VirtualServerGroup {
    SourceLocation where;
    std::string name;
    std::vector<VsGroupAddressRange> ranges;
    std::vector<VsGroupFwmark> fwmarks;
    friend bool operator==(const VirtualServerGroup&, const VirtualServerGroup&) = default;
};

/// IPVS forwarding method; FNAT (full NAT) is our extension.
enum class ForwardingMethod { nat, dr, tun, fnat };
enum class TunnelType { ipip, gue, gre };
enum class TunnelChecksum { none, nocsum, csum, remcsum };

struct Forwarding {
    ForwardingMethod method = ForwardingMethod::nat;
    TunnelType tunnel_type = TunnelType::ipip;
    std::optional<std::uint16_t> tunnel_port;  ///< GUE only
    TunnelChecksum tunnel_checksum = TunnelChecksum::none;
    /// FNAT only: source address towards the real server; default: the
    /// address of the interface the packet leaves by (masquerade).
    std::optional<IpAddress> fnat_source;
    friend bool operator==(const Forwarding&, const Forwarding&) = default;
};

/// One url { } of HTTP_GET / SSL_GET.
struct HttpUrl {
    SourceLocation where;
    std::string path;
    std::optional<std::string> digest;
    /// Accepted status codes as inclusive ranges; default 200-299.
    std::vector<std::pair<int, int>> status_codes;
    std::optional<std::string> virtualhost;
    friend bool operator==(const HttpUrl&, const HttpUrl&) = default;
};

struct TcpCheck {
    friend bool operator==(const TcpCheck&, const TcpCheck&) = default;
};

struct HttpCheck {
    bool tls = false;                   ///< SSL_GET
    std::string http_protocol = "1.0";  ///< 1.0, 1.0C or 1.1
    std::vector<HttpUrl> urls;
    std::optional<std::string> virtualhost;
    bool fast_recovery = false;
    bool enable_sni = false;
    std::optional<std::string> sni_name;
    bool tls_compliant = false;
    /// HTTP_GET only, our extension: keep the connection open between
    /// probes (HTTP/1.1 keep-alive) instead of one connection per probe.
    bool reuse_connection = false;
    friend bool operator==(const HttpCheck&, const HttpCheck&) = default;
};

struct MiscCheck {
    std::string path;
    Duration timeout{};  ///< default: delay_loop
    bool dynamic = false;
    std::optional<ScriptCommand> user;  ///< command is the user name
    friend bool operator==(const MiscCheck&, const MiscCheck&) = default;
};

enum class CheckerType { tcp_check, http_get, ssl_get, misc_check };

/// A health checker of a real server, with every timing resolved.
struct Checker {
    SourceLocation where;
    CheckerType type = CheckerType::tcp_check;
    std::optional<IpAddress> connect_ip;        ///< default: the real server's address
    std::optional<std::uint16_t> connect_port;  ///< default: the real server's port
    std::optional<IpAddress> bindto;
    std::optional<std::uint16_t> bind_port;
    std::optional<std::string> bind_if;
    std::optional<std::uint32_t> fwmark;
    Duration connect_timeout{};
    int retry = 0;
    Duration delay_before_retry{};
    Duration warmup{};
    Duration delay_loop{};
    bool alpha = false;
    int rise = 1;  ///< extension
    bool log_all_failures = false;
    std::variant<TcpCheck, HttpCheck, MiscCheck> details;
    friend bool operator==(const Checker&, const Checker&) = default;
};

/// Extension: where a real server's weight comes from at run time.
enum class DynamicWeightSource { response_time, agent };

struct DynamicWeight {
    DynamicWeightSource source = DynamicWeightSource::response_time;
    /// response_time: the response time at which the full weight is given;
    /// slower responses scale the weight down proportionally.
    Duration target_response_time{};
    /// agent: TCP port of the agent on the real server, polled every interval.
    std::optional<std::uint16_t> agent_port;
    Duration interval{};
    Duration timeout{};
    int min_weight = 1;
    int max_weight = 0;  ///< default: the configured weight
    friend bool operator==(const DynamicWeight&, const DynamicWeight&) = default;
};

struct RealServer {
    SourceLocation where;
    IpAddress address;
    std::optional<std::uint16_t> port;
    int weight = 1;
    Forwarding forwarding;
    int uthreshold = 0;  ///< 0: no limit
    int lthreshold = 0;
    bool inhibit_on_failure = false;
    Boxed<ScriptCommand> notify_up;
    Boxed<ScriptCommand> notify_down;
    bool backup = false;  ///< extension: traffic only when every primary is down
    bool down = false;    ///< extension: administratively out of service
    std::optional<DynamicWeight> dynamic_weight;  ///< extension
    std::vector<Checker> checkers;

    /// "ADDR:PORT" / "[ADDR]:PORT" / "ADDR"
    [[nodiscard]] std::string key() const;
    friend bool operator==(const RealServer&, const RealServer&) = default;
};

struct SorryServer {
    IpAddress address;
    std::optional<std::uint16_t> port;
    bool inhibit = false;
    Forwarding forwarding;
    friend bool operator==(const SorryServer&, const SorryServer&) = default;
};

struct VsAddress {
    IpAddress address;
    std::optional<std::uint16_t> port;
    friend bool operator==(const VsAddress&, const VsAddress&) = default;
};
struct VsFwmark {
    std::uint32_t fwmark = 0;
    friend bool operator==(const VsFwmark&, const VsFwmark&) = default;
};
struct VsGroup {
    std::string name;
    friend bool operator==(const VsGroup&, const VsGroup&) = default;
};

struct VirtualServer {
    SourceLocation where;
    std::variant<VsAddress, VsFwmark, VsGroup> target;
    Protocol protocol = Protocol::tcp;
    AddressFamily family = AddressFamily::inet;
    std::string scheduler;
    std::vector<std::string> scheduler_flags;  ///< flag-1 .. sh-port .. mh-fallback
    bool one_packet_scheduling = false;        ///< ops
    Forwarding forwarding;
    std::optional<Duration> persistence_timeout;
    std::optional<int> persistence_granularity;  ///< prefix length
    Duration delay_loop{};
    std::optional<SorryServer> sorry_server;
    bool inhibit_on_failure = false;
    int quorum = 1;
    int hysteresis = 0;
    std::optional<ScriptCommand> quorum_up;
    std::optional<ScriptCommand> quorum_down;
    bool alpha = false;
    bool omega = false;
    bool ha_suspend = false;
    std::optional<std::string> virtualhost;
    std::vector<RealServer> real_servers;

    /// Identity used for duplicates and diffs: "10.0.0.1:80/tcp",
    /// "[2001:db8::1]:443/tcp", "fwmark 7/inet", "group web/tcp".
    [[nodiscard]] std::string key() const;
    /// A copy of everything but the real servers (not copied at all).
    [[nodiscard]] VirtualServer without_real_servers() const;
    friend bool operator==(const VirtualServer&, const VirtualServer&) = default;
};

/// A whole configuration file (with its includes).
struct Config {
    GlobalDefs global_defs;
    std::vector<VrrpScript> vrrp_scripts;
    std::vector<VrrpInstance> vrrp_instances;
    std::vector<VrrpSyncGroup> vrrp_sync_groups;
    std::vector<VirtualServerGroup> virtual_server_groups;
    std::vector<VirtualServer> virtual_servers;

    [[nodiscard]] const VrrpInstance* find_instance(std::string_view name) const;
    [[nodiscard]] const VrrpScript* find_script(std::string_view name) const;
    [[nodiscard]] const VirtualServerGroup* find_vs_group(std::string_view name) const;
    friend bool operator==(const Config&, const Config&) = default;
};

std::string_view to_string(Daemon daemon);
std::string_view to_string(VrrpState state);
std::string_view to_string(Protocol protocol);
std::string_view to_string(ForwardingMethod method);
std::string_view to_string(TunnelType type);
std::string_view to_string(TunnelChecksum checksum);
std::string_view to_string(CheckerType type);
std::string_view to_string(DynamicWeightSource source);

}  // namespace ipvsctl::config
