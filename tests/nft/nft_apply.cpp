// SPDX-License-Identifier: GPL-2.0-or-later
// Test helper: programs a ruleset given on the command line through the
// library (not through nft), in the current network namespace.
//   nft_apply [--text] replace RULE...   nft_apply remove
//   RULE: mark FIRST LAST tcp|udp|sctp PORT MARK
//         snat-vip VIP PORT PROTO REAL_SERVER REAL_PORT SOURCE|-
//         snat-mark MARK PROTO REAL_SERVER REAL_PORT SOURCE|-
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "nft/netlink.hpp"

namespace {

using namespace ipvsctl::nft;

IpAddress address(const std::string& text) {
    auto parsed = IpAddress::parse(text);
    if (!parsed) throw std::invalid_argument("not an address: " + text);
    return *parsed;
}
std::uint32_t number(const std::string& text) {
    return static_cast<std::uint32_t>(std::stoul(text, nullptr, 0));
}
L4Protocol protocol(const std::string& text) {
    if (text == "tcp") return L4Protocol::tcp;
    if (text == "udp") return L4Protocol::udp;
    if (text == "sctp") return L4Protocol::sctp;
    throw std::invalid_argument("not a protocol: " + text);
}

}  // namespace

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    bool text_only = false;
    if (!args.empty() && args[0] == "--text") {
        text_only = true;
        args.erase(args.begin());
    }
    if (args.empty())
        throw std::invalid_argument("usage: nft_apply [--text] replace RULE... | remove");
    if (args[0] == "remove") {
        auto removed = remove_table();
        if (!removed) {
            std::cerr << removed.error().message() << '\n';
            return 1;
        }
        return 0;
    }
    Ruleset ruleset;
    std::size_t i = 1;
    const auto next = [&]() -> const std::string& {
        if (i >= args.size()) throw std::invalid_argument("rule cut short");
        return args[i++];
    };
    while (i < args.size()) {
        const std::string kind = next();
        if (kind == "mark") {
            MarkRule rule;
            rule.first = address(next());
            rule.last = address(next());
            rule.protocol = protocol(next());
            rule.port = static_cast<std::uint16_t>(number(next()));
            rule.mark = number(next());
            ruleset.marks.push_back(rule);
        } else if (kind == "snat-vip" || kind == "snat-mark") {
            SnatRule rule;
            if (kind == "snat-vip") {
                ServiceAddress service;
                service.vip = address(next());
                service.port = static_cast<std::uint16_t>(number(next()));
                rule.service = service;
            } else {
                rule.service = ServiceMark{number(next())};
            }
            rule.protocol = protocol(next());
            rule.real_server = address(next());
            rule.real_port = static_cast<std::uint16_t>(number(next()));
            const std::string source = next();
            if (source != "-") rule.source = address(source);
            ruleset.snats.push_back(rule);
        } else {
            throw std::invalid_argument("unknown rule kind " + kind);
        }
    }
    if (text_only) {
        std::cout << to_nft_text(ruleset);
        return 0;
    }
    auto replaced = replace_table(ruleset);
    if (!replaced) {
        std::cerr << replaced.error().message() << '\n';
        return 1;
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "nft_apply: " << e.what() << '\n';
    return 2;
}
