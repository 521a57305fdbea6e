// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "healthcheck/dynamic_weight.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;
using namespace std::chrono_literals;

namespace {
config::DynamicWeight settings(int min_weight, int max_weight) {
    config::DynamicWeight s;
    s.target_response_time = 100ms;
    s.min_weight = min_weight;
    s.max_weight = max_weight;
    return s;
}
}  // namespace

TEST_CASE("weight from response time", "[dynamic_weight]") {
    const auto s = settings(1, 100);
    CHECK(weight_from_response_time(s, 10ms) == 100);
    CHECK(weight_from_response_time(s, 100ms) == 100);
    CHECK(weight_from_response_time(s, 200ms) == 50);
    CHECK(weight_from_response_time(s, 300ms) == 33);
    CHECK(weight_from_response_time(s, 400ms) == 25);
    CHECK(weight_from_response_time(s, 100s) == 1);  // never below min_weight
    CHECK(weight_from_response_time(settings(10, 100), 1s) == 10);
    CHECK(weight_from_response_time(s, 0ms) == 100);
}

TEST_CASE("response times are smoothed", "[dynamic_weight]") {
    CHECK(smooth_latency(std::nullopt, 100ms) == 100ms);
    CHECK(smooth_latency(100ms, 500ms) == 200ms);
    CHECK(smooth_latency(200ms, 200ms) == 200ms);
}

TEST_CASE("agent replies", "[dynamic_weight][agent]") {
    auto r = parse_agent_reply("75%\n");
    REQUIRE(r);
    CHECK(r->percent == 75);
    CHECK_FALSE(r->stop);
    r = parse_agent_reply("up 50%\r\n");
    REQUIRE(r);
    CHECK(r->ready);
    CHECK(r->percent == 50);
    r = parse_agent_reply("drain,0%");
    REQUIRE(r);
    CHECK(r->stop);
    r = parse_agent_reply("  ready\tmaint ");
    REQUIRE(r);
    CHECK(r->stop);
    CHECK(r->ready);
    CHECK(parse_agent_reply("150%")->percent == 150);
    for (const char* bad : {"", "\n", "hello", "75", "%", "-5%", "1001%", "7x%", "\n75%"})
        CHECK_FALSE(parse_agent_reply(bad));
}

TEST_CASE("weight from an agent's percentage", "[dynamic_weight][agent]") {
    const auto s = settings(1, 40);
    CHECK(weight_from_agent(s, AgentReply{75, false, false}) == 30);
    CHECK(weight_from_agent(s, AgentReply{100, false, false}) == 40);
    CHECK(weight_from_agent(s, AgentReply{150, false, false}) == 40);  // at most max_weight
    CHECK(weight_from_agent(s, AgentReply{1, false, false}) == 1);     // at least min_weight
    CHECK(weight_from_agent(s, AgentReply{0, false, false}) == 1);
    CHECK(weight_from_agent(s, AgentReply{std::nullopt, false, true}) == 40);
    CHECK(weight_from_agent(s, AgentReply{75, true, false}) == 0);  // drain
    CHECK(weight_from_agent(settings(0, 40), AgentReply{0, false, false}) == 0);
}
