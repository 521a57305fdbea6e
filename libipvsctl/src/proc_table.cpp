// SPDX-License-Identifier: LGPL-2.1-or-later
#include "proc_table.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace ipvsctl::proc {
namespace {

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> result;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ') ++i;
        if (i > start) result.push_back(line.substr(start, i - start));
    }
    return result;
}

/// The next line of `text` from `start` (without its newline); moves
/// `start` past it.
std::string_view next_line(std::string_view text, std::size_t& start) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(start, end - start);
    start = end + 1;
    return line;
}

template <typename T>
bool parse_number(std::string_view text, T& value, int base = 10) {
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
    return ec == std::errc() && ptr == end;
}

/// "0A000001:0050" or "[2001:0db8:...:0001]:0050" (address in network
/// order, as hex words; port in hex).
bool parse_endpoint(std::string_view text, Address& address, std::uint16_t& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || !parse_number(text.substr(colon + 1), port, 16))
        return false;
    const auto host = text.substr(0, colon);
    if (host.size() == 8) {
        std::uint32_t value = 0;
        if (!parse_number(host, value, 16)) return false;
        address = Address::v4(value);
        return true;
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        const auto parsed = Address::parse(host.substr(1, host.size() - 2));
        if (!parsed || !parsed->is_v6()) return false;
        address = *parsed;
        return true;
    }
    return false;
}

bool parse_method(std::string_view name, ForwardMethod& method) {
    if (name == "Masq") method = ForwardMethod::Masquerade;
    else if (name == "Local") method = ForwardMethod::Local;
    else if (name == "Tunnel") method = ForwardMethod::Tunnel;
    else if (name == "Route") method = ForwardMethod::Route;
    else return false;
    return true;
}

bool parse_service(const std::vector<std::string_view>& w, ServiceKey& key) {
    if (w.size() < 3) return false;
    if (w[0] == "FWM") {
        key = ServiceKey::mark(0);
        return parse_number(w[1], key.fwmark, 16) && key.fwmark != 0;
    }
    const auto protocol = parse_protocol(w[0]);
    if (!protocol) return false;
    key.protocol = *protocol;
    key.fwmark = 0;
    if (!parse_endpoint(w[1], key.address, key.port)) return false;
    key.family = key.address.family;
    return true;
}

bool parse_destination(const std::vector<std::string_view>& w, Destination& dest) {
    // "->" ENDPOINT METHOD WEIGHT ACTIVE INACTIVE
    return w.size() == 6 && w[0] == "->" && parse_endpoint(w[1], dest.address, dest.port) &&
           parse_method(w[2], dest.method) && parse_number(w[3], dest.weight) &&
           parse_number(w[4], dest.active_conns) && parse_number(w[5], dest.inactive_conns);
}

}  // namespace

std::vector<ServiceRow> parse_ip_vs(std::string_view text) {
    std::vector<ServiceRow> rows;
    bool current_valid = false;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto w = words(next_line(text, start));
        if (w.empty()) continue;
        if (w[0] == "->") {
            if (w.size() > 1 && w[1] == "RemoteAddress:Port") continue;  // header
            if (!current_valid) continue;
            Destination dest;
            if (!parse_destination(w, dest)) {
                // Unknown shape: this service cannot be trusted from text.
                rows.pop_back();
                current_valid = false;
                continue;
            }
            rows.back().has_tunnel = rows.back().has_tunnel || dest.method == ForwardMethod::Tunnel;
            rows.back().destinations.push_back(dest);
            continue;
        }
        ServiceRow row;
        current_valid = parse_service(w, row.key);
        if (current_valid) rows.push_back(std::move(row));
    }
    return rows;
}

std::optional<ModuleUse> parse_module_use(std::string_view modules_text, std::string_view module) {
    std::size_t start = 0;
    while (start < modules_text.size()) {
        // NAME SIZE REFERENCES USERS STATE ADDRESS [TAINTS]; USERS is "-"
        // or a comma-separated list that ends with a comma.
        const auto w = words(next_line(modules_text, start));
        if (w.empty() || w[0] != module) continue;
        ModuleUse use;
        if (w.size() < 5 || !parse_number(w[2], use.references)) return std::nullopt;
        if (w[3] == "-") return use;
        std::string_view users = w[3];
        while (!users.empty()) {
            const auto comma = users.find(',');
            const auto name = users.substr(0, comma);
            if (name.empty()) return std::nullopt;
            use.users.push_back(name);
            if (comma == std::string_view::npos) break;
            users.remove_prefix(comma + 1);
        }
        return use;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> ipvs_services_from_modules(std::string_view modules_text) {
    const auto ipvs = parse_module_use(modules_text, "ip_vs");
    if (!ipvs) return std::nullopt;
    // The schedulers and the engine of Linux's net/netfilter/ipvs/.
    static constexpr std::string_view schedulers[] = {
        "ip_vs_rr",    "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc",
        "ip_vs_lblcr", "ip_vs_dh",  "ip_vs_sh", "ip_vs_sed", "ip_vs_nq",
        "ip_vs_fo",    "ip_vs_ovf", "ip_vs_mh", "ip_vs_twos"};
    for (const auto user : ipvs->users) {
        if (user == "ip_vs_pe_sip") {
            const auto engine = parse_module_use(modules_text, user);
            if (!engine || engine->references != 0) return std::nullopt;
            continue;
        }
        if (std::find(std::begin(schedulers), std::end(schedulers), user) == std::end(schedulers))
            return std::nullopt;
    }
    const std::uint64_t registered = 2 * std::uint64_t{ipvs->users.size()};
    if (ipvs->references < registered) return std::nullopt;
    return ipvs->references - registered;
}

}  // namespace ipvsctl::proc
