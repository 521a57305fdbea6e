// SPDX-License-Identifier: GPL-2.0-or-later
// Dynamic weights (the seed notes' "response time" and "processing
// capacity" balancing): the arithmetic, and the agent's reply. Pure.
#pragma once

#include <optional>
#include <string_view>

#include "config/model.hpp"
#include "healthcheck/clock.hpp"

namespace ipvsctl::healthcheck {

/// Full weight (max_weight) while the response time is at most the target,
/// max_weight * target / latency above it, within [min_weight, max_weight].
int weight_from_response_time(const config::DynamicWeight& settings, Duration latency);

/// Smooths response times (exponential moving average, 1/4 per sample) so
/// one slow reply does not swing the weight.
Duration smooth_latency(std::optional<Duration> previous, Duration sample);

/// What an agent said, HAProxy agent-check style: one line of words
/// separated by spaces, tabs or commas, e.g. "75%", "up 50%", "drain".
struct AgentReply {
    std::optional<int> percent;  ///< 0..1000 ("75%" -> 75)
    /// drain, maint, down, fail, stopped: no new connections (weight 0).
    bool stop = false;
    /// up, ready: serving again (100% when no percentage is given).
    bool ready = false;
};

/// Parses the first line of an agent's reply (at most 512 bytes are looked
/// at); nullopt when it holds no word this daemon understands.
std::optional<AgentReply> parse_agent_reply(std::string_view text);

/// The weight an agent reply gives: max_weight * percent / 100 (rounded),
/// within [min_weight, max_weight]; 0 for the stop words.
int weight_from_agent(const config::DynamicWeight& settings, const AgentReply& reply);

}  // namespace ipvsctl::healthcheck
