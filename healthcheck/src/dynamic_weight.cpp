// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/dynamic_weight.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ipvsctl::healthcheck {
namespace {

int clamp_weight(const config::DynamicWeight& settings, double weight) {
    const int low = std::min(settings.min_weight, settings.max_weight);
    const double rounded = std::round(weight);
    if (rounded >= settings.max_weight) return settings.max_weight;
    if (rounded <= low) return low;
    return static_cast<int>(rounded);
}

}  // namespace

int weight_from_response_time(const config::DynamicWeight& settings, Duration latency) {
    const auto target = settings.target_response_time;
    if (latency <= target || latency.count() <= 0) return settings.max_weight;
    const double share = static_cast<double>(target.count()) / static_cast<double>(latency.count());
    return clamp_weight(settings, settings.max_weight * share);
}

Duration smooth_latency(std::optional<Duration> previous, Duration sample) {
    if (!previous) return sample;
    return Duration{(previous->count() * 3 + sample.count()) / 4};
}

std::optional<AgentReply> parse_agent_reply(std::string_view text) {
    text = text.substr(0, std::min<std::size_t>(text.size(), 512));
    text = text.substr(0, text.find_first_of("\r\n"));
    AgentReply reply;
    bool understood = false;
    std::size_t position = 0;
    while (position < text.size()) {
        const auto start = text.find_first_not_of(" \t,", position);
        if (start == std::string_view::npos) break;
        const auto end = std::min(text.find_first_of(" \t,", start), text.size());
        const std::string_view word = text.substr(start, end - start);
        position = end;
        if (word.size() >= 2 && word.back() == '%') {
            int percent = 0;
            const auto digits = word.substr(0, word.size() - 1);
            const auto [stop, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), percent);
            if (ec == std::errc{} && stop == digits.data() + digits.size() && percent >= 0 &&
                percent <= 1000) {
                reply.percent = percent;
                understood = true;
            }
        } else if (word == "up" || word == "ready") {
            reply.ready = true;
            understood = true;
        } else if (word == "drain" || word == "maint" || word == "down" || word == "fail" ||
                   word == "stopped") {
            reply.stop = true;
            understood = true;
        }
    }
    if (!understood) return std::nullopt;
    return reply;
}

int weight_from_agent(const config::DynamicWeight& settings, const AgentReply& reply) {
    if (reply.stop) return 0;
    const int percent = reply.percent.value_or(100);
    return clamp_weight(settings, settings.max_weight * percent / 100.0);
}

}  // namespace ipvsctl::healthcheck
