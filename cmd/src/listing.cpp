// SPDX-License-Identifier: GPL-2.0-or-later
#include "listing.hpp"

#include <arpa/inet.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>

namespace ipvsctl::cli {

namespace {

/// printf into a std::string; every column layout below is ipvsadm's printf
/// format, so keeping printf keeps the layouts visibly identical.
[[gnu::format(printf, 2, 3)]] void append(std::string& out, const char* format, ...) {
    char buffer[1024];
    va_list args;
    va_start(args, format);
    const int length = std::vsnprintf(buffer, sizeof(buffer), format, args);
    va_end(args);
    if (length > 0)
        out.append(buffer, std::min(static_cast<std::size_t>(length), sizeof(buffer) - 1));
}

std::uint32_t word_at(const Address& address, std::size_t index) {
    std::uint32_t network = 0;
    std::memcpy(&network, address.bytes.data() + index * 4, 4);
    return ntohl(network);
}

/// ipvsadm stores differences of unsigned values into an int; the
/// wrap-around decides the order of far-apart addresses, so we keep it.
int wrapped_difference(std::uint32_t a, std::uint32_t b) {
    return static_cast<int>(static_cast<std::uint32_t>(a - b));
}

int compare_addresses(const Address& a, const Address& b) {
    int result = 0;
    if (a.is_v6()) {
        for (std::size_t i = 0; result == 0 && i < 4; ++i)
            result = wrapped_difference(word_at(a, i), word_at(b, i));
    } else {
        result = wrapped_difference(word_at(a, 0), word_at(b, 0));
    }
    return result;
}

int family_number(Family family) {
    return family == Family::Inet6 ? 10 : 2;
}

int compare_services(const ServiceEntry& x, const ServiceEntry& y) {
    const ServiceKey& a = x.service.key;
    const ServiceKey& b = y.service.key;
    int result = wrapped_difference(a.fwmark, b.fwmark);
    if (result != 0) return result;
    result = family_number(a.family) - family_number(b.family);
    if (result != 0) return result;
    // The kernel reports no protocol, address or port for fwmark services.
    const int protocol_a = a.is_fwmark() ? 0 : static_cast<int>(a.protocol);
    const int protocol_b = b.is_fwmark() ? 0 : static_cast<int>(b.protocol);
    result = protocol_a - protocol_b;
    if (result != 0) return result;
    if (a.is_fwmark()) return 0;
    result = compare_addresses(a.address, b.address);
    if (result != 0) return result;
    return static_cast<int>(a.port) - static_cast<int>(b.port);
}

int compare_destinations(const Destination& a, const Destination& b) {
    const int result = compare_addresses(a.address, b.address);
    if (result != 0) return result;
    return static_cast<int>(a.port) - static_cast<int>(b.port);
}

/// glibc's qsort for arrays that fit in memory: a top-down merge sort that
/// takes from the left run while compare() <= 0. With ipvsadm's
/// non-transitive comparisons only this exact algorithm gives its order.
template <typename T, typename Compare>
void merge_sort_like_glibc(std::vector<T>& items, std::size_t first, std::size_t count,
                           Compare compare, std::vector<T>& scratch) {
    if (count <= 1) return;
    const std::size_t left_count = count / 2;
    const std::size_t right_count = count - left_count;
    merge_sort_like_glibc(items, first, left_count, compare, scratch);
    merge_sort_like_glibc(items, first + left_count, right_count, compare, scratch);
    scratch.clear();
    std::size_t left = first, right = first + left_count;
    const std::size_t left_end = first + left_count, right_end = first + count;
    while (left < left_end && right < right_end) {
        if (compare(items[left], items[right]) <= 0)
            scratch.push_back(std::move(items[left++]));
        else
            scratch.push_back(std::move(items[right++]));
    }
    while (left < left_end) scratch.push_back(std::move(items[left++]));
    for (std::size_t i = 0; i < scratch.size(); ++i) items[first + i] = std::move(scratch[i]);
}

template <typename T, typename Compare>
void sort_like_glibc(std::vector<T>& items, Compare compare) {
    std::vector<T> scratch;
    scratch.reserve(items.size());
    merge_sort_like_glibc(items, 0, items.size(), compare, scratch);
}

std::string dotted_quad(std::uint32_t host_order) {
    return Address::v4(host_order).to_string();
}

std::string truncated(std::string text, std::size_t limit) {
    if (text.size() > limit) text.resize(limit);
    return text;
}

std::optional<Protocol> service_protocol(const ServiceKey& key) {
    if (key.is_fwmark()) return std::nullopt;
    return key.protocol;
}

std::string address_port_text(const Address& address, std::uint16_t port,
                              std::optional<Protocol> protocol, bool numeric,
                              const NameLookup& names) {
    const bool brackets = address.is_v6();
    std::string host, port_text;
    if (!numeric) {
        if (auto name = names.address_to_host(address)) host = *name;
        if (protocol)
            if (auto name = names.port_to_service(port, *protocol)) port_text = *name;
    }
    if (host.empty()) host = address.to_string();
    if (port_text.empty()) port_text = std::to_string(port);
    std::string text = (brackets ? "[" : "") + host + (brackets ? "]" : "") + ":" + port_text;
    return truncated(std::move(text), 59);  // ipvsadm formats into 60 bytes
}

void append_large_number(std::string& out, std::uint64_t value, bool exact) {
    const auto v = static_cast<unsigned long long>(value);
    if (exact) {
        const int length = static_cast<int>(std::to_string(v).size());
        append(out, "%*llu", length <= 8 ? 9 : length + 1, v);
    } else if (v < 100000000ULL) {
        append(out, "%9llu", v);
    } else if (v < 1000000000ULL) {
        append(out, "%8lluK", v / 1000);
    } else if (v < 100000000000ULL) {
        append(out, "%8lluM", v / 1000000);
    } else if (v < 100000000000000ULL) {
        append(out, "%8lluG", v / 1000000000ULL);
    } else {
        append(out, "%8lluT", v / 1000000000000ULL);
    }
}

std::string scheduler_flag_names(const Service& service) {
    using namespace service_flags;
    std::string text;
    if (service.scheduler == "sh") {
        if (service.flags & sh_fallback) text += "sh-fallback,";
        if (service.flags & sh_port) text += "sh-port,";
    } else if (service.scheduler == "mh") {
        if (service.flags & mh_fallback) text += "mh-fallback,";
        if (service.flags & mh_port) text += "mh-port,";
    } else {
        if (service.flags & sched1) text += "flag-1,";
        if (service.flags & sched2) text += "flag-2,";
        if (service.flags & sched3) text += "flag-3,";
    }
    if (!text.empty()) text.pop_back();
    return text;
}

bool has_scheduler_flags(const Service& service) {
    using namespace service_flags;
    return (service.flags & (sched1 | sched2 | sched3)) != 0;
}

const char* forward_switch(ForwardMethod method) {
    switch (method) {
        case ForwardMethod::Masquerade:
            return "-m";
        case ForwardMethod::Tunnel:
            return "-i";
        case ForwardMethod::Local:
        case ForwardMethod::Route:
            return "-g";
    }
    return "-g";
}

const char* tunnel_checksum_short(std::uint16_t flags) {
    switch (flags) {
        case tunnel_flags::csum:
            return "+c";
        case tunnel_flags::remcsum:
            return "r+c";
        default:
            return "-c";
    }
}

const char* tunnel_checksum_option(std::uint16_t flags) {
    switch (flags) {
        case tunnel_flags::csum:
            return "--tun-csum";
        case tunnel_flags::remcsum:
            return "--tun-remcsum";
        default:
            return "--tun-nocsum";
    }
}

std::optional<std::string> tunnel_info(const Destination& destination) {
    if (destination.method != ForwardMethod::Tunnel) return std::nullopt;
    std::string info;
    switch (destination.tunnel_type) {
        case TunnelType::IPIP:
            info = "ipip";
            break;
        case TunnelType::GUE:
            info = "gue:" + std::to_string(destination.tunnel_port) + ":" +
                   tunnel_checksum_short(destination.tunnel_flags);
            break;
        case TunnelType::GRE:
            info = std::string("gre:") + tunnel_checksum_short(destination.tunnel_flags);
            break;
    }
    return truncated(std::move(info), 15);
}

void append_title(std::string& out, const ListFormat& format) {
    if (format.stats)
        append(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
               "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
    else if (format.rate)
        append(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
               "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
    else if (format.thresholds)
        append(out, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
               "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
    else if (format.persistent_conn)
        append(out, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
               "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn");
    else if (format.tun_info)
        out +=
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
    else if (!format.rule)
        out +=
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
}

std::string service_name(const ServiceKey& key, const ListFormat& format, const NameLookup& names) {
    const bool v6 = key.family == Family::Inet6;
    if (key.is_fwmark()) {
        // ipvsadm 1.31 prints marks as signed: 4294967295 lists as -1.
        const std::string mark = std::to_string(static_cast<std::int32_t>(key.fwmark));
        if (format.rule) return "-f " + mark + (v6 ? " -6" : "");
        return "FWM  " + mark + (v6 ? " IPv6" : "");
    }
    const std::string address =
        address_port_text(key.address, key.port, key.protocol, format.numeric, names);
    if (format.rule) {
        const char* option = key.protocol == Protocol::TCP   ? "-t"
                             : key.protocol == Protocol::UDP ? "-u"
                                                             : "--sctp-service";
        return std::string(option) + " " + address;
    }
    std::string text;
    append(text, "%-4s %s", std::string(to_string(key.protocol)).c_str(), address.c_str());
    return v6 ? text : truncated(std::move(text), 33);
}

void append_persistence_mask(std::string& out, const Service& service, const char* word) {
    if (service.key.family == Family::Inet6) {
        if (service.netmask != 128) append(out, " %s %u", word, service.netmask);
    } else if (service.netmask != 0xffffffff) {
        append(out, " %s %s", word, dotted_quad(service.netmask).c_str());
    }
}

void append_service_line(std::string& out, const std::string& name, const Service& service,
                         const ListFormat& format) {
    if (format.rule) {
        append(out, "-A %s -s %s", name.c_str(), service.scheduler.c_str());
        if (service.persistent()) {
            append(out, " -p %u", service.timeout);
            append_persistence_mask(out, service, "-M");
        }
        if (!service.pe_name.empty()) append(out, " --pe %s", service.pe_name.c_str());
        if (service.flags & service_flags::one_packet) out += " -o";
        if (has_scheduler_flags(service)) out += " -b " + scheduler_flag_names(service);
    } else if (format.stats || format.rate) {
        append(out, "%-33s", name.c_str());
        const Stats& s = service.stats;
        if (format.stats) {
            for (auto v : {s.conns, s.in_packets, s.out_packets, s.in_bytes, s.out_bytes})
                append_large_number(out, v, format.exact);
        } else {
            for (auto v : {s.cps, s.in_pps, s.out_pps, s.in_bps, s.out_bps})
                append_large_number(out, v, format.exact);
        }
    } else {
        append(out, "%s %s", name.c_str(), service.scheduler.c_str());
        if (has_scheduler_flags(service)) out += " (" + scheduler_flag_names(service) + ")";
        if (service.persistent()) {
            append(out, " persistent %u", service.timeout);
            append_persistence_mask(out, service, "mask");
            if (!service.pe_name.empty()) append(out, " pe %s", service.pe_name.c_str());
        }
        if (service.flags & service_flags::one_packet) out += " ops";
    }
    out += "\n";
}

void append_destination_line(std::string& out, const std::string& service_text,
                             const ServiceKey& key, const Destination& d, const ListFormat& format,
                             const NameLookup& names) {
    std::string name =
        address_port_text(d.address, d.port, service_protocol(key), format.numeric, names);
    if (!format.rule && !d.address.is_v6()) name = truncated(std::move(name), 28);
    const char* n = name.c_str();
    if (format.rule) {
        append(out, "-a %s -r %s %s -w %d", service_text.c_str(), n, forward_switch(d.method),
               d.weight);
        if (d.method == ForwardMethod::Tunnel) {
            switch (d.tunnel_type) {
                case TunnelType::GRE:
                    append(out, " --tun-type gre %s", tunnel_checksum_option(d.tunnel_flags));
                    break;
                case TunnelType::GUE:
                    append(out, " --tun-type gue --tun-port %d %s", d.tunnel_port,
                           tunnel_checksum_option(d.tunnel_flags));
                    break;
                case TunnelType::IPIP:
                    out += " --tun-type ipip";
                    break;
            }
        }
        out += "\n";
    } else if (format.stats) {
        append(out, "  -> %-28s", n);
        const Stats& s = d.stats;
        for (auto v : {s.conns, s.in_packets, s.out_packets, s.in_bytes, s.out_bytes})
            append_large_number(out, v, format.exact);
        out += "\n";
    } else if (format.rate) {
        append(out, "  -> %-28s %8llu %8llu %8llu", n, static_cast<unsigned long long>(d.stats.cps),
               static_cast<unsigned long long>(d.stats.in_pps),
               static_cast<unsigned long long>(d.stats.out_pps));
        append_large_number(out, d.stats.in_bps, format.exact);
        append_large_number(out, d.stats.out_bps, format.exact);
        out += "\n";
    } else if (format.thresholds) {
        append(out, "  -> %-28s %-10u %-10u %-10u %-10u\n", n, d.upper_threshold, d.lower_threshold,
               d.active_conns, d.inactive_conns);
    } else if (format.persistent_conn) {
        append(out, "  -> %-28s %-9u %-11u %-10u %-10u\n", n, static_cast<unsigned>(d.weight),
               d.persistent_conns, d.active_conns, d.inactive_conns);
    } else if (format.tun_info) {
        const auto info = tunnel_info(d);
        append(out, "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n", n,
               std::string(to_string(d.method)).c_str(), info ? info->c_str() : "n/a", d.weight,
               d.active_conns, d.inactive_conns);
    } else {
        append(out, "  -> %-28s %-7s %-6d %-10u %-10u\n", n,
               std::string(to_string(d.method)).c_str(), d.weight, d.active_conns,
               d.inactive_conns);
    }
}

void append_entry(std::string& out, const ServiceEntry& entry, const ListFormat& format,
                  const NameLookup& names) {
    const std::string name = service_name(entry.service.key, format, names);
    append_service_line(out, name, entry.service, format);
    std::vector<Destination> destinations = entry.destinations;
    if (!format.nosort) sort_like_glibc(destinations, compare_destinations);
    for (const auto& d : destinations)
        append_destination_line(out, name, entry.service.key, d, format, names);
}

}  // namespace

std::string address_port_name(const Address& address, std::uint16_t port, Protocol protocol,
                              bool numeric, const NameLookup& names) {
    return address_port_text(address, port, protocol, numeric, names);
}

Table sorted_like_ipvsadm(Table table, const ListFormat& format) {
    if (format.nosort) return table;
    sort_like_glibc(table.services, compare_services);
    for (auto& entry : table.services) sort_like_glibc(entry.destinations, compare_destinations);
    return table;
}

std::string format_table(const Info& info, const Table& table, const ListFormat& format,
                         const NameLookup& names) {
    std::string out;
    if (!format.rule)
        append(out, "IP Virtual Server version %u.%u.%u (size=%u)\n", (info.version >> 16) & 0xff,
               (info.version >> 8) & 0xff, info.version & 0xff, info.conn_table_size);
    append_title(out, format);
    std::vector<ServiceEntry> services = table.services;
    if (!format.nosort) sort_like_glibc(services, compare_services);
    for (const auto& entry : services) append_entry(out, entry, format, names);
    return out;
}

std::string format_one_service(const ServiceEntry& entry, const ListFormat& format,
                               const NameLookup& names) {
    std::string out;
    append_title(out, format);
    append_entry(out, entry, format, names);
    return out;
}

std::string format_timeouts(const Timeouts& timeouts) {
    std::string out;
    append(out, "Timeout (tcp tcpfin udp): %d %d %d\n", static_cast<int>(timeouts.tcp),
           static_cast<int>(timeouts.tcp_fin), static_cast<int>(timeouts.udp));
    return out;
}

std::string format_daemons(const std::vector<SyncDaemon>& daemons) {
    std::string out;
    for (const auto& d : daemons) {
        if (d.state != SyncState::Master && d.state != SyncState::Backup) continue;
        append(out, "%s sync daemon (mcast=%s, syncid=%d",
               d.state == SyncState::Master ? "master" : "backup", d.interface.c_str(),
               static_cast<int>(d.sync_id));
        if (d.max_len != 0) append(out, ", maxlen=%u", d.max_len);
        if (d.group) append(out, ", group=%s", d.group->to_string().c_str());
        if (d.port != 0) append(out, ", port=%u", d.port);
        if (d.ttl != 0) append(out, ", ttl=%u", d.ttl);
        out += ")\n";
    }
    return out;
}

namespace {
Address parse_proc_address(const std::string& token) {
    if (auto parsed = Address::parse(token)) return *parsed;
    return Address::v4(static_cast<std::uint32_t>(std::strtoul(token.c_str(), nullptr, 16)));
}

std::uint16_t parse_hex_port(const std::string& token) {
    return static_cast<std::uint16_t>(std::strtoul(token.c_str(), nullptr, 16));
}
}  // namespace

std::vector<Connection> parse_connections(std::string_view proc_text) {
    std::vector<Connection> connections;
    std::istringstream in{std::string(proc_text)};
    std::string line;
    std::getline(in, line);  // column titles
    while (std::getline(in, line)) {
        std::istringstream words(line);
        Connection c;
        std::string client, client_port, virt, virt_port, dest, dest_port;
        if (!(words >> c.protocol >> client >> client_port >> virt >> virt_port >> dest >>
              dest_port >> c.state >> c.expires))
            continue;
        words >> c.pe_name >> c.pe_data;
        c.client = parse_proc_address(client);
        c.virtual_address = parse_proc_address(virt);
        c.destination = parse_proc_address(dest);
        c.client_port = parse_hex_port(client_port);
        c.virtual_port = parse_hex_port(virt_port);
        c.destination_port = parse_hex_port(dest_port);
        connections.push_back(std::move(c));
    }
    return connections;
}

std::string format_connections(std::string_view proc_text, const ListFormat& format,
                               const NameLookup& names) {
    std::string out = "IPVS connection entries\n";
    if (format.persistent_conn)
        append(out, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source", "virtual",
               "destination", "pe name", "pe_data");
    else
        append(out, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual",
               "destination");
    for (const auto& c : parse_connections(proc_text)) {
        const std::optional<Protocol> protocol = parse_protocol(c.protocol);
        const auto name = [&](const Address& a, std::uint16_t port) {
            return address_port_text(a, port, protocol, format.numeric, names);
        };
        const std::string client = name(c.client, c.client_port);
        const std::string virt = name(c.virtual_address, c.virtual_port);
        const std::string dest = name(c.destination, c.destination_port);
        char expire[16];
        std::snprintf(expire, sizeof(expire), "%02u:%02u", c.expires / 60, c.expires % 60);
        if (format.persistent_conn && !c.pe_data.empty())
            append(out, "%-3s %-6s %-11s %-18s %-18s %-16s %-18s %s\n", c.protocol.c_str(), expire,
                   c.state.c_str(), client.c_str(), virt.c_str(), dest.c_str(), c.pe_name.c_str(),
                   c.pe_data.c_str());
        else
            append(out, "%-3s %-6s %-11s %-18s %-18s %s\n", c.protocol.c_str(), expire,
                   c.state.c_str(), client.c_str(), virt.c_str(), dest.c_str());
    }
    return out;
}

}  // namespace ipvsctl::cli
