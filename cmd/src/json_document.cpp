// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_document.hpp"

#include <arpa/inet.h>

#include <climits>
#include <set>

namespace ipvsctl::cli {

using nlohmann::json;

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

json stats_to_json(const Stats& s) {
    return json{{"conns", s.conns},
                {"in_packets", s.in_packets},
                {"out_packets", s.out_packets},
                {"in_bytes", s.in_bytes},
                {"out_bytes", s.out_bytes}};
}

json rates_to_json(const Stats& s) {
    return json{{"cps", s.cps},
                {"in_pps", s.in_pps},
                {"out_pps", s.out_pps},
                {"in_bps", s.in_bps},
                {"out_bps", s.out_bps}};
}

std::vector<std::string> scheduler_flag_list(const Service& service) {
    using namespace service_flags;
    std::vector<std::string> names;
    const bool sh = service.scheduler == "sh", mh = service.scheduler == "mh";
    if (service.flags & sched1) names.push_back(sh ? "sh-fallback" : mh ? "mh-fallback" : "flag-1");
    if (service.flags & sched2) names.push_back(sh ? "sh-port" : mh ? "mh-port" : "flag-2");
    if (service.flags & sched3) names.push_back("flag-3");
    return names;
}

std::string forward_name(ForwardMethod method) {
    switch (method) {
        case ForwardMethod::Masquerade:
            return "masq";
        case ForwardMethod::Local:
            return "local";
        case ForwardMethod::Tunnel:
            return "tunnel";
        case ForwardMethod::Route:
            return "route";
    }
    return "route";
}

std::string checksum_name(std::uint16_t flags) {
    if (flags == tunnel_flags::csum) return "csum";
    if (flags == tunnel_flags::remcsum) return "remcsum";
    return "nocsum";
}

/// Reading with a path for every message.
class Reader {
  public:
    explicit Reader(std::string where) : where_(std::move(where)) {}
    [[nodiscard]] JsonProblem problem(const std::string& key, std::string what) const {
        return JsonProblem{where_ + (key.empty() ? "" : "." + key), std::move(what)};
    }
    [[nodiscard]] const std::string& where() const { return where_; }

  private:
    std::string where_;
};

struct Bad {
    JsonProblem problem;
};

// One lookup per field (not contains() then at()), keys not copied into
// std::string: a 10,000-service document has ~500,000 fields.
std::uint64_t read_unsigned(const json& object, const Reader& at, const char* key,
                            std::uint64_t max, std::uint64_t fallback) {
    const auto found = object.find(key);
    if (found == object.end()) return fallback;
    const json& value = *found;
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<long long>() >= 0))
        throw Bad{at.problem(key, "must be a non-negative integer")};
    const auto number = value.get<std::uint64_t>();
    if (number > max) throw Bad{at.problem(key, "must be at most " + std::to_string(max))};
    return number;
}

std::string read_string(const json& object, const Reader& at, const char* key,
                        const std::string& fallback) {
    const auto found = object.find(key);
    if (found == object.end()) return fallback;
    if (!found->is_string()) throw Bad{at.problem(key, "must be a string")};
    return found->get<std::string>();
}

Address read_address(const json& object, const Reader& at, const char* key) {
    const std::string text = read_string(object, at, key, "");
    if (text.empty()) throw Bad{at.problem(key, "is required")};
    auto address = Address::parse(text);
    if (!address) throw Bad{at.problem(key, "'" + text + "' is not an IPv4 or IPv6 address")};
    return *address;
}

Destination read_destination(const json& object, const Reader& at) {
    if (!object.is_object()) throw Bad{at.problem("", "must be an object")};
    Destination d;
    d.address = read_address(object, at, "address");
    d.port = static_cast<std::uint16_t>(read_unsigned(object, at, "port", 65535, 0));
    const std::string forward = read_string(object, at, "forward", "route");
    if (forward == "masq")
        d.method = ForwardMethod::Masquerade;
    else if (forward == "route")
        d.method = ForwardMethod::Route;
    else if (forward == "tunnel")
        d.method = ForwardMethod::Tunnel;
    else if (forward == "local")
        d.method = ForwardMethod::Local;
    else
        throw Bad{at.problem("forward", "'" + forward + "' is not masq, route, tunnel or local")};
    d.weight = static_cast<std::int32_t>(read_unsigned(object, at, "weight", INT_MAX, 1));
    d.upper_threshold =
        static_cast<std::uint32_t>(read_unsigned(object, at, "upper_threshold", INT_MAX, 0));
    d.lower_threshold =
        static_cast<std::uint32_t>(read_unsigned(object, at, "lower_threshold", INT_MAX, 0));
    if (object.contains("tunnel")) {
        const json& tunnel = object.at("tunnel");
        const Reader tat(at.where() + ".tunnel");
        if (!tunnel.is_object()) throw Bad{tat.problem("", "must be an object")};
        const std::string type = read_string(tunnel, tat, "type", "ipip");
        if (type == "ipip")
            d.tunnel_type = TunnelType::IPIP;
        else if (type == "gue")
            d.tunnel_type = TunnelType::GUE;
        else if (type == "gre")
            d.tunnel_type = TunnelType::GRE;
        else
            throw Bad{tat.problem("type", "'" + type + "' is not ipip, gue or gre")};
        d.tunnel_port = static_cast<std::uint16_t>(read_unsigned(tunnel, tat, "port", 65535, 0));
        const std::string checksum = read_string(tunnel, tat, "checksum", "nocsum");
        if (checksum == "nocsum")
            d.tunnel_flags = tunnel_flags::nocsum;
        else if (checksum == "csum")
            d.tunnel_flags = tunnel_flags::csum;
        else if (checksum == "remcsum")
            d.tunnel_flags = tunnel_flags::remcsum;
        else
            throw Bad{tat.problem("checksum", "'" + checksum + "' is not nocsum, csum or remcsum")};
        if (d.tunnel_type == TunnelType::GUE && d.tunnel_port == 0)
            throw Bad{tat.problem("port", "is required for a gue tunnel")};
    }
    return d;
}

ServiceEntry read_service(const json& object, const Reader& at) {
    if (!object.is_object()) throw Bad{at.problem("", "must be an object")};
    ServiceEntry entry;
    Service& s = entry.service;
    if (object.contains("fwmark")) {
        const auto mark = read_unsigned(object, at, "fwmark", UINT_MAX, 0);
        if (mark == 0) throw Bad{at.problem("fwmark", "must be greater than zero")};
        const std::string family = read_string(object, at, "family", "inet");
        if (family != "inet" && family != "inet6")
            throw Bad{at.problem("family", "'" + family + "' is not inet or inet6")};
        s.key = ServiceKey::mark(static_cast<std::uint32_t>(mark),
                                 family == "inet6" ? Family::Inet6 : Family::Inet);
    } else {
        const std::string protocol = read_string(object, at, "protocol", "");
        const auto parsed = parse_protocol(protocol);
        if (!parsed)
            throw Bad{at.problem("protocol", protocol.empty()
                                                 ? "is required (or fwmark)"
                                                 : "'" + protocol + "' is not tcp, udp or sctp")};
        const Address address = read_address(object, at, "address");
        const auto port = static_cast<std::uint16_t>(read_unsigned(object, at, "port", 65535, 0));
        s.key = *parsed == Protocol::TCP   ? ServiceKey::tcp(address, port)
                : *parsed == Protocol::UDP ? ServiceKey::udp(address, port)
                                           : ServiceKey::sctp(address, port);
    }
    s.scheduler = read_string(object, at, "scheduler", "wlc");
    s.netmask = Service::default_netmask(s.key.family);
    if (object.contains("persistence")) {
        const json& p = object.at("persistence");
        const Reader pat(at.where() + ".persistence");
        if (!p.is_object()) throw Bad{pat.problem("", "must be an object")};
        s.flags |= service_flags::persistent;
        s.timeout = static_cast<std::uint32_t>(read_unsigned(p, pat, "timeout", 86400 * 31, 360));
        if (s.timeout == 0) throw Bad{pat.problem("timeout", "must be at least 1")};
        if (p.contains("netmask")) {
            if (s.key.family == Family::Inet6) {
                s.netmask = static_cast<std::uint32_t>(read_unsigned(p, pat, "netmask", 128, 128));
            } else {
                const std::string mask = read_string(p, pat, "netmask", "");
                const auto parsed = Address::parse(mask);
                if (!parsed || parsed->is_v6())
                    throw Bad{pat.problem("netmask", "'" + mask + "' is not an IPv4 netmask")};
                std::uint32_t network = 0;
                std::memcpy(&network, parsed->bytes.data(), 4);
                s.netmask = ntohl(network);
            }
        }
    }
    s.pe_name = read_string(object, at, "pe", "");
    if (object.contains("one_packet")) {
        if (!object.at("one_packet").is_boolean())
            throw Bad{at.problem("one_packet", "must be true or false")};
        if (object.at("one_packet").get<bool>()) s.flags |= service_flags::one_packet;
    }
    if (object.contains("scheduler_flags")) {
        const json& flags = object.at("scheduler_flags");
        if (!flags.is_array()) throw Bad{at.problem("scheduler_flags", "must be an array")};
        for (const auto& flag : flags) {
            const std::string name = flag.is_string() ? flag.get<std::string>() : "";
            if (name == "flag-1" || name == "sh-fallback" || name == "mh-fallback")
                s.flags |= service_flags::sched1;
            else if (name == "flag-2" || name == "sh-port" || name == "mh-port")
                s.flags |= service_flags::sched2;
            else if (name == "flag-3")
                s.flags |= service_flags::sched3;
            else
                throw Bad{at.problem("scheduler_flags", "unknown flag '" + name + "'")};
        }
    }
    if (object.contains("destinations")) {
        const json& dests = object.at("destinations");
        if (!dests.is_array()) throw Bad{at.problem("destinations", "must be an array")};
        for (std::size_t i = 0; i < dests.size(); ++i) {
            Destination d = read_destination(
                dests[i], Reader(at.where() + ".destinations[" + std::to_string(i) + "]"));
            for (const auto& other : entry.destinations)
                if (other.same_endpoint(d))
                    throw Bad{at.problem("destinations[" + std::to_string(i) + "]",
                                         "duplicate destination " + d.endpoint())};
            entry.destinations.push_back(d);
        }
    }
    return entry;
}

}  // namespace

json service_to_json(const ServiceEntry& entry, const JsonOptions& options) {
    const Service& s = entry.service;
    json out = json::object();
    if (s.key.is_fwmark()) {
        out["fwmark"] = s.key.fwmark;
        out["family"] = s.key.family == Family::Inet6 ? "inet6" : "inet";
    } else {
        out["protocol"] = lower(to_string(s.key.protocol));
        out["address"] = s.key.address.to_string();
        out["port"] = s.key.port;
    }
    out["scheduler"] = s.scheduler;
    if (const auto flags = scheduler_flag_list(s); !flags.empty()) out["scheduler_flags"] = flags;
    if (s.persistent()) {
        json p{{"timeout", s.timeout}};
        if (s.key.family == Family::Inet6)
            p["netmask"] = s.netmask;
        else
            p["netmask"] = Address::v4(s.netmask).to_string();
        out["persistence"] = p;
    }
    if (!s.pe_name.empty()) out["pe"] = s.pe_name;
    out["one_packet"] = (s.flags & service_flags::one_packet) != 0;
    if (options.counters) {
        out["stats"] = stats_to_json(s.stats);
        out["rates"] = rates_to_json(s.stats);
    }
    json dests = json::array();
    for (const auto& d : entry.destinations) {
        json j{{"address", d.address.to_string()},     {"port", d.port},
               {"forward", forward_name(d.method)},    {"weight", d.weight},
               {"upper_threshold", d.upper_threshold}, {"lower_threshold", d.lower_threshold}};
        if (d.method == ForwardMethod::Tunnel) {
            json t{{"type", std::string(to_string(d.tunnel_type))},
                   {"checksum", checksum_name(d.tunnel_flags)}};
            if (d.tunnel_type == TunnelType::GUE) t["port"] = d.tunnel_port;
            j["tunnel"] = t;
        }
        if (options.counters) {
            j["active_conns"] = d.active_conns;
            j["inactive_conns"] = d.inactive_conns;
            j["persistent_conns"] = d.persistent_conns;
            j["stats"] = stats_to_json(d.stats);
            j["rates"] = rates_to_json(d.stats);
        }
        dests.push_back(j);
    }
    out["destinations"] = dests;
    return out;
}

json table_to_json(const Table& table, const JsonOptions& options) {
    json services = json::array();
    for (const auto& entry : table.services) services.push_back(service_to_json(entry, options));
    return json{{"services", services}};
}

json timeouts_to_json(const Timeouts& timeouts) {
    return json{{"tcp", timeouts.tcp}, {"tcp_fin", timeouts.tcp_fin}, {"udp", timeouts.udp}};
}

json daemons_to_json(const std::vector<SyncDaemon>& daemons) {
    json out = json::array();
    for (const auto& d : daemons) {
        if (d.state == SyncState::None) continue;
        json j{{"state", std::string(to_string(d.state))},
               {"interface", d.interface},
               {"sync_id", d.sync_id}};
        if (d.max_len) j["max_len"] = d.max_len;
        if (d.group) j["group"] = d.group->to_string();
        if (d.port) j["port"] = d.port;
        if (d.ttl) j["ttl"] = d.ttl;
        out.push_back(j);
    }
    return out;
}

json connections_to_json(const std::vector<Connection>& connections) {
    json out = json::array();
    for (const auto& c : connections) {
        json j{
            {"protocol", lower(c.protocol)},
            {"client", {{"address", c.client.to_string()}, {"port", c.client_port}}},
            {"virtual", {{"address", c.virtual_address.to_string()}, {"port", c.virtual_port}}},
            {"destination", {{"address", c.destination.to_string()}, {"port", c.destination_port}}},
            {"state", c.state},
            {"expires", c.expires}};
        if (!c.pe_name.empty()) j["pe"] = {{"name", c.pe_name}, {"data", c.pe_data}};
        out.push_back(j);
    }
    return out;
}

std::variant<Table, JsonProblem> table_from_json(const json& document) {
    if (!document.is_object()) return JsonProblem{"document", "must be a JSON object"};
    if (!document.contains("services")) return JsonProblem{"document", "has no \"services\""};
    const json& services = document.at("services");
    if (!services.is_array()) return JsonProblem{"services", "must be an array"};
    Table table;
    table.services.reserve(services.size());
    std::set<ServiceKey> seen;  // Table::find is linear: quadratic for big documents
    try {
        for (std::size_t i = 0; i < services.size(); ++i) {
            ServiceEntry entry =
                read_service(services[i], Reader("services[" + std::to_string(i) + "]"));
            if (!seen.insert(entry.service.key).second)
                return JsonProblem{"services[" + std::to_string(i) + "]",
                                   "duplicate service " + entry.service.key.to_string()};
            table.services.push_back(std::move(entry));
        }
    } catch (const Bad& bad) {
        return bad.problem;
    }
    return table;
}

}  // namespace ipvsctl::cli
