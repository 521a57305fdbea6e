// SPDX-License-Identifier: GPL-2.0-or-later
#include "nft/ruleset.hpp"

#include <cstdio>

namespace ipvsctl::nft {
namespace {

std::string hex_mark(std::uint32_t mark) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", mark);
    return text;
}

std::string_view ip_keyword(const IpAddress& address) {
    return address.is_v6() ? "ip6" : "ip";
}

std::string match_port(std::uint16_t port) {
    return port == 0 ? std::string() : " th dport " + std::to_string(port);
}

}  // namespace

std::string_view to_string(L4Protocol protocol) {
    switch (protocol) {
        case L4Protocol::udp:
            return "udp";
        case L4Protocol::sctp:
            return "sctp";
        case L4Protocol::tcp:
            break;
    }
    return "tcp";
}

std::vector<std::string> check(const Ruleset& ruleset) {
    std::vector<std::string> problems;
    for (const auto& rule : ruleset.marks) {
        const std::string what = "mark rule " + rule.first.to_string() + "-" +
                                 rule.last.to_string() + " " +
                                 std::string(to_string(rule.protocol));
        if (rule.first.family != rule.last.family)
            problems.push_back(what + ": range mixes IPv4 and IPv6");
        else if (rule.last < rule.first)
            problems.push_back(what + ": range ends before it starts");
        if (rule.mark == 0) problems.push_back(what + ": mark 0 is no mark");
    }
    for (const auto& rule : ruleset.snats) {
        const std::string what = "snat rule to " + rule.real_server.to_string();
        if (const auto* address = std::get_if<ServiceAddress>(&rule.service);
            address && address->vip.family != rule.real_server.family)
            problems.push_back(what + ": VIP " + address->vip.to_string() +
                               " is of another family (IPVS NAT keeps the family)");
        if (const auto* mark = std::get_if<ServiceMark>(&rule.service); mark && mark->mark == 0)
            problems.push_back(what + ": mark 0 is no mark");
        if (rule.source && rule.source->family != rule.real_server.family)
            problems.push_back(what + ": source " + rule.source->to_string() +
                               " is of another family");
    }
    return problems;
}

std::string to_nft_text(const Ruleset& ruleset, std::string_view table) {
    std::string text = "table inet " + std::string(table) + " {\n";
    if (!ruleset.drops.empty()) {
        text += "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n";
        for (const auto& rule : ruleset.drops) {
            if (rule.address.is_v6()) {
                for (const char* type : {"nd-neighbor-solicit", "nd-neighbor-advert"}) {
                    text += "\t\tip6 daddr " + rule.address.to_string() + " icmpv6 type " + type +
                            " accept\n";
                }
            }
            text += "\t\t" + std::string(ip_keyword(rule.address)) + " daddr " +
                    rule.address.to_string() + " counter drop\n";
        }
        text += "\t}\n";
    }
    if (ruleset.marks.empty() && ruleset.snats.empty() && !ruleset.drops.empty()) {
        return text + "}\n";
    }
    text +=
        "\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n";
    for (const auto& rule : ruleset.marks) {
        const auto ip = ip_keyword(rule.first);
        std::string daddr = rule.first.to_string();
        if (rule.last != rule.first) daddr += "-" + rule.last.to_string();
        text += "\t\t" + std::string(ip) + " daddr " + daddr + " meta l4proto " +
                std::string(to_string(rule.protocol)) + match_port(rule.port) +
                " counter meta mark set " + hex_mark(rule.mark) + "\n";
    }
    text += "\t}\n";
    text +=
        "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
    for (const auto& rule : ruleset.snats) {
        const auto ip = ip_keyword(rule.real_server);
        std::string line = "\t\tct direction original";
        if (const auto* address = std::get_if<ServiceAddress>(&rule.service)) {
            line += " ct original " + std::string(ip) + " daddr " + address->vip.to_string();
            line += " meta l4proto " + std::string(to_string(rule.protocol));
            if (address->port != 0)
                line += " ct original proto-dst " + std::to_string(address->port);
        } else {
            line += " meta mark " + hex_mark(std::get<ServiceMark>(rule.service).mark);
            line += " meta l4proto " + std::string(to_string(rule.protocol));
        }
        line += " " + std::string(ip) + " daddr " + rule.real_server.to_string();
        line += match_port(rule.real_port) + " counter";
        line += rule.source ? " snat " + std::string(ip) + " to " + rule.source->to_string()
                            : std::string(" masquerade");
        text += line + "\n";
    }
    text += "\t}\n}\n";
    return text;
}

}  // namespace ipvsctl::nft
