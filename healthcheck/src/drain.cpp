// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/drain.hpp"

#include <charconv>

namespace ipvsctl::healthcheck {
namespace {

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
    Number value{};
    if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

/// "ADDR:PORT" or "[ADDR6]:PORT"; an IPv6 address needs its brackets.
std::optional<ServerEndpoint> parse_endpoint(std::string_view text) {
    std::string_view address_text, port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        address_text = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
        const auto address = Address::parse(address_text);
        if (!address || !address->is_v6()) return std::nullopt;
        const auto port = parse_number<std::uint16_t>(port_text);
        if (!port) return std::nullopt;
        return ServerEndpoint{*address, *port};
    }
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    address_text = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    const auto address = Address::parse(address_text);
    if (!address || address->is_v6()) return std::nullopt;
    const auto port = parse_number<std::uint16_t>(port_text);
    if (!port) return std::nullopt;
    return ServerEndpoint{*address, *port};
}

}  // namespace

std::string_view to_string(DrainPhase phase) {
    switch (phase) {
        case DrainPhase::draining:
            return "draining";
        case DrainPhase::drained:
            return "drained";
        case DrainPhase::none:
            break;
    }
    return "none";
}

std::optional<ServiceKey> parse_service_spec(std::string_view text, std::string& error) {
    const auto bad = [&](std::string why) -> std::optional<ServiceKey> {
        error = "bad service '" + std::string(text) + "': " + why;
        return std::nullopt;
    };
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return bad("expected tcp:ADDR:PORT, udp:ADDR:PORT, sctp:ADDR:PORT or fwmark:N");
    const std::string_view kind = text.substr(0, colon);
    const std::string_view rest = text.substr(colon + 1);
    if (kind == "fwmark") {
        const auto mark = parse_number<std::uint32_t>(rest);
        if (!mark || *mark == 0) return bad("fwmark must be a number from 1 to 4294967295");
        return ServiceKey::mark(*mark, Family::Unspec);
    }
    const auto endpoint = parse_endpoint(rest);
    if (!endpoint)
        return bad("expected ADDR:PORT or [ADDR]:PORT after '" + std::string(kind) + ":'");
    if (kind == "tcp") return ServiceKey::tcp(endpoint->address, endpoint->port);
    if (kind == "udp") return ServiceKey::udp(endpoint->address, endpoint->port);
    if (kind == "sctp") return ServiceKey::sctp(endpoint->address, endpoint->port);
    return bad("unknown protocol '" + std::string(kind) + "' (tcp, udp, sctp or fwmark)");
}

std::optional<ServerEndpoint> parse_server_spec(std::string_view text, std::string& error) {
    auto endpoint = parse_endpoint(text);
    if (!endpoint)
        error = "bad server '" + std::string(text) + "': expected ADDR:PORT or [ADDR]:PORT";
    return endpoint;
}

bool service_matches(const ServiceKey& wanted, const ServiceKey& candidate) {
    if (wanted.is_fwmark() || candidate.is_fwmark())
        return wanted.fwmark == candidate.fwmark &&
               (wanted.family == Family::Unspec || wanted.family == candidate.family);
    return wanted == candidate;
}

bool drain_complete(std::uint64_t active_connections, TimePoint now,
                    std::optional<TimePoint> deadline) {
    return active_connections == 0 || (deadline && now >= *deadline);
}

}  // namespace ipvsctl::healthcheck
