// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/builder_support.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "config/builder.hpp"

namespace ipvsctl::config::detail {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string quote(std::string_view text) {
    return "'" + std::string(text) + "'";
}

}  // namespace

std::string seconds_text(Duration duration) {
    const auto micros = duration.count();
    std::string text = std::to_string(micros / 1000000);
    auto fraction = micros % 1000000;
    if (fraction != 0) {
        char digits[8];
        std::snprintf(digits, sizeof digits, "%06lld", static_cast<long long>(fraction));
        std::string tail(digits);
        while (!tail.empty() && tail.back() == '0') tail.pop_back();
        text += "." + tail;
    }
    return text;
}

std::optional<long long> Values::integer(const Token& token, std::string_view what, long long low,
                                         long long high) {
    long long value = 0;
    const auto& text = token.text;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
        error(token.where, std::string(what) + " must be a whole number, not " + quote(text));
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || value < low || value > high) {
        error(token.where, std::string(what) + " " + text + " is out of range " +
                               std::to_string(low) + "-" + std::to_string(high));
        return std::nullopt;
    }
    return value;
}

std::optional<Duration> Values::timer(const Token& token, std::string_view what, Duration low,
                                      Duration high) {
    const auto& text = token.text;
    long long whole = 0;
    long long micros = 0;
    std::size_t i = 0;
    bool digits = false;
    bool valid = !text.empty();
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        digits = true;
        if (whole > 1000000000LL) valid = false;
        whole = whole * 10 + (text[i] - '0');
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        long long scale = 100000;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            digits = true;
            micros += (text[i] - '0') * scale;
            scale /= 10;
        }
    }
    if (!valid || !digits || i != text.size()) {
        error(token.where, std::string(what) + " must be a number of seconds, not " + quote(text));
        return std::nullopt;
    }
    const Duration value{whole * 1000000 + micros};
    if (value < low || value > high) {
        error(token.where, std::string(what) + " " + text + " is out of range " +
                               seconds_text(low) + "-" + seconds_text(high) + " seconds");
        return std::nullopt;
    }
    return value;
}

std::optional<bool> Values::boolean(const Statement& statement, std::size_t index) {
    if (statement.args.size() <= index) return true;
    const auto& token = statement.args[index];
    static constexpr std::string_view kTrue[] = {"on", "true", "yes"};
    static constexpr std::string_view kFalse[] = {"off", "false", "no"};
    if (std::find(std::begin(kTrue), std::end(kTrue), token.text) != std::end(kTrue)) return true;
    if (std::find(std::begin(kFalse), std::end(kFalse), token.text) != std::end(kFalse)) {
        return false;
    }
    error(token.where,
          statement.keyword.text + " expects on|off|true|false|yes|no, not " + quote(token.text));
    return std::nullopt;
}

std::optional<IpAddress> Values::address(const Token& token, std::string_view what) {
    auto parsed = IpAddress::parse(token.text);
    if (!parsed) {
        error(token.where, std::string(what) + " " + quote(token.text) + " is not an IP address");
    }
    return parsed;
}

std::optional<std::uint16_t> Values::port(const Token& token, std::string_view what) {
    auto value = integer(token, what, 1, 65535);
    if (!value) return std::nullopt;
    return static_cast<std::uint16_t>(*value);
}

ScriptCommand Values::script(const Statement& statement) {
    ScriptCommand command;
    command.command = statement.args.at(0).text;
    if (command.command.empty()) {
        error(statement.args[0].where, statement.keyword.text + " needs a command, not ''");
    }
    if (statement.args.size() > 1) command.user = statement.args[1].text;
    if (statement.args.size() > 2) {
        auto group = statement.args[2].text;
        if (!group.empty() && group.front() == ':') group.erase(0, 1);
        command.group = group;
    }
    return command;
}

ScriptCommand Values::user(const Statement& statement) {
    ScriptCommand user;
    user.command = statement.args.at(0).text;
    if (statement.args.size() > 1) {
        auto group = statement.args[1].text;
        if (!group.empty() && group.front() == ':') group.erase(0, 1);
        user.group = group;
    }
    return user;
}

std::optional<Forwarding> Values::forwarding(const Statement& statement) {
    const auto& args = statement.args;
    Forwarding forwarding;
    const auto& method = args.at(0).text;
    if (method == "NAT") {
        forwarding.method = ForwardingMethod::nat;
    } else if (method == "DR") {
        forwarding.method = ForwardingMethod::dr;
    } else if (method == "TUN") {
        forwarding.method = ForwardingMethod::tun;
    } else if (method == "FNAT") {
        forwarding.method = ForwardingMethod::fnat;
    } else {
        error(args[0].where,
              statement.keyword.text + " must be NAT, DR, TUN or FNAT, not " + quote(method));
        return std::nullopt;
    }
    bool ok = true;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const auto& word = args[i].text;
        if (forwarding.method == ForwardingMethod::fnat) {
            if (word != "source" || i + 1 >= args.size()) {
                error(args[i].where, "FNAT option " + quote(word) + " is not 'source ADDRESS'");
                return std::nullopt;
            }
            forwarding.fnat_source = address(args[++i], "FNAT source");
            if (!forwarding.fnat_source) return std::nullopt;
            continue;
        }
        if (forwarding.method != ForwardingMethod::tun) {
            error(args[i].where,
                  "tunnel option " + quote(word) + " needs " + statement.keyword.text + " TUN");
            return std::nullopt;
        }
        if (word == "type" && i + 1 < args.size()) {
            const auto& type = args[++i].text;
            if (type == "ipip") {
                forwarding.tunnel_type = TunnelType::ipip;
            } else if (type == "gue") {
                forwarding.tunnel_type = TunnelType::gue;
                if (i + 2 < args.size() && args[i + 1].text == "port") {
                    forwarding.tunnel_port = port(args[i + 2], "GUE tunnel port");
                    ok = ok && forwarding.tunnel_port.has_value();
                    i += 2;
                } else {
                    error(args[i].where, "tunnel type gue needs 'port N'");
                    ok = false;
                }
            } else if (type == "gre") {
                forwarding.tunnel_type = TunnelType::gre;
            } else {
                error(args[i].where, "tunnel type must be ipip, gue or gre, not " + quote(type));
                ok = false;
            }
        } else if (word == "nocsum" || word == "csum" || word == "remcsum") {
            forwarding.tunnel_checksum = word == "nocsum" ? TunnelChecksum::nocsum
                                         : word == "csum" ? TunnelChecksum::csum
                                                          : TunnelChecksum::remcsum;
            if (forwarding.tunnel_type == TunnelType::ipip) {
                error(args[i].where,
                      "tunnel checksum option " + quote(word) + " needs tunnel type gue or gre");
                ok = false;
            } else if (word == "remcsum" && forwarding.tunnel_type != TunnelType::gue) {
                error(args[i].where, "remcsum needs tunnel type gue");
                ok = false;
            }
        } else {
            error(args[i].where, "unknown tunnel option " + quote(word) +
                                     " (expected type ipip|gue port N|gre, nocsum, csum, remcsum)");
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return forwarding;
}

void report_unknown(Values& values, const Statement& statement, const BlockInfo& info,
                    std::span<const std::string_view> known) {
    const auto& keyword = statement.keyword.text;
    const auto& where = statement.keyword.where;
    for (const auto& ignored : info.ignored) {
        if (ignored.keyword == keyword) {
            values.warning(where, quote(keyword) + " is ignored: " + std::string(ignored.reason));
            return;
        }
    }
    if (std::find(info.unimplemented.begin(), info.unimplemented.end(), keyword) !=
        info.unimplemented.end()) {
        values.error(where, quote(keyword) + " in " + std::string(info.context) +
                                " is a keepalived keyword that ipvsctl does not implement yet");
        return;
    }
    std::vector<std::string_view> homes;
    for (const auto& [context, name] : implemented_keywords()) {
        if (name == keyword && context != info.context &&
            std::find(homes.begin(), homes.end(), context) == homes.end()) {
            homes.push_back(context);
        }
    }
    if (!homes.empty()) {
        std::string list;
        for (const auto& home : homes) list += (list.empty() ? "" : " or ") + std::string(home);
        values.error(where, quote(keyword) + " is not valid in " + std::string(info.context) +
                                "; it belongs in " + list);
        return;
    }
    std::string message = "unknown keyword " + quote(keyword) + " in " + std::string(info.context);
    std::string_view best;
    std::size_t best_distance = 3;
    for (const auto& candidate : known) {
        const auto distance = edit_distance(keyword, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    if (!best.empty()) message += "; did you mean " + quote(best) + "?";
    values.error(where, message);
}

bool check_shape(Values& values, const Statement& statement, std::size_t min_args,
                 std::size_t max_args, BlockUse block) {
    const auto& keyword = statement.keyword.text;
    const auto count = statement.args.size();
    if (count < min_args) {
        const auto& where = statement.keyword.where;
        values.error(where, min_args == 1 ? quote(keyword) + " needs a value"
                                          : quote(keyword) + " needs at least " +
                                                std::to_string(min_args) + " arguments");
        return false;
    }
    if (max_args != kMany && count > max_args) {
        const auto& where = statement.args[max_args].where;
        values.error(where, max_args == 0
                                ? quote(keyword) + " takes no arguments"
                                : quote(keyword) + " takes at most " + std::to_string(max_args) +
                                      (max_args == 1 ? " argument" : " arguments"));
        return false;
    }
    if (block == BlockUse::required && !statement.has_block) {
        values.error(statement.keyword.where, quote(keyword) + " needs a block { ... }");
        return false;
    }
    if (block == BlockUse::none && statement.has_block) {
        values.error(statement.block_where, quote(keyword) + " does not take a block");
        return false;
    }
    return true;
}

}  // namespace ipvsctl::config::detail
