// SPDX-License-Identifier: GPL-2.0-or-later
#include "status.hpp"

namespace ipvsctl::vrrp {

nlohmann::json status_json(const Instance& instance, TimePoint now) {
    const auto& s = instance.settings();
    const auto& m = instance.machine();
    const auto& c = instance.counters();
    nlohmann::json rejected = nlohmann::json::object();
    for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
        const auto reason = static_cast<RejectReason>(i);
        rejected[std::string(name(reason))] = c.rejected[reason];
    }
    nlohmann::json addresses = nlohmann::json::array();
    for (const auto& vip : s.addresses) {
        addresses.push_back(vip.address.to_string() + "/" + std::to_string(vip.prefix_length) +
                            (vip.device.empty() ? "" : " dev " + vip.device));
    }
    nlohmann::json j{
        {"instance", s.name},
        {"interface", s.interface},
        {"vrid", s.vrid},
        {"family", s.family == Family::inet ? "inet" : "inet6"},
        {"version", s.protocol.version},
        {"state", std::string(to_string(m.state))},
        {"priority", instance.base_priority()},
        {"effective_priority", s.protocol.priority},
        {"source", s.protocol.primary_address.to_string()},
        {"virtual_addresses", addresses},
        {"master_address", m.state == State::master
                               ? nlohmann::json(s.protocol.primary_address.to_string())
                           : m.master_address ? nlohmann::json(m.master_address->to_string())
                                              : nlohmann::json(nullptr)},
        {"advert_interval_cs", s.protocol.advert_interval.count()},
        {"master_adver_interval_cs", m.master_adver_interval.count()},
        {"master_down_interval_cs",
         std::chrono::duration_cast<Centiseconds>(
             master_down_interval(s.protocol.version, s.protocol.priority, m.master_adver_interval))
             .count()},
        {"master_down_interval_us",
         master_down_interval(s.protocol.version, s.protocol.priority, m.master_adver_interval)
             .count()},
        {"counters",
         {{"adverts_received", c.adverts_received},
          {"adverts_sent", c.adverts_sent},
          {"priority_zero_received", c.priority_zero_received},
          {"priority_zero_sent", c.priority_zero_sent},
          {"transitions", c.transitions},
          {"became_master", c.became_master},
          {"send_errors", c.send_errors},
          {"address_errors", c.address_errors},
          {"late_expiries_averted", c.late_expiries_averted},
          {"rejected", rejected},
          {"rejected_total", c.rejected.total()}}},
    };
    if (const auto& t = instance.last_transition()) {
        j["last_transition"] = {
            {"from", std::string(to_string(t->from))},
            {"to", std::string(to_string(t->to))},
            {"why", t->why},
            {"seconds_ago", std::chrono::duration<double>(now - t->at).count()}};
    } else {
        j["last_transition"] = nullptr;
    }
    return j;
}

}  // namespace ipvsctl::vrrp
