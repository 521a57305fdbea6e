// SPDX-License-Identifier: GPL-2.0-or-later
// Test doubles shared by the instance and sync-group tests: a recording log,
// fake address control and a fake LAN that carries adverts between instances.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vrrpd/fake_clock.hpp"
#include "vrrpd/instance.hpp"

namespace ipvsctl::vrrp::testing {

struct RecordingLog : Logger {
    std::vector<std::string> lines;
    void log(int priority, const std::string& line) override {
        lines.push_back("<" + std::to_string(priority) + ">" + line);
    }
    [[nodiscard]] bool has(const std::string& text) const {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const auto& l) { return l.find(text) != std::string::npos; });
    }
};

struct FakeAddresses : AddressControl {
    std::map<std::string, int> present;  // address text -> count
    int announced = 0;
    Status add(const std::string&, const VirtualAddress& a) override {
        ++present[a.address.to_string()];
        return std::nullopt;
    }
    Status remove(const std::string&, const VirtualAddress& a) override {
        present.erase(a.address.to_string());
        return std::nullopt;
    }
    Status announce(const std::string&, const VirtualAddress&, int count) override {
        announced += count;
        return std::nullopt;
    }
    [[nodiscard]] bool has(const char* a) const { return present.count(a) > 0; }
};

/// A LAN: whatever one router sends reaches every other router "at once"
/// (a zero-delay fake timer, so nothing runs re-entrantly).
class Lan {
  public:
    explicit Lan(FakeClock& clock) : clock_(clock) {}

    struct Port : Transport {
        Lan* lan = nullptr;
        Address source;
        bool cut = false;  ///< a dead router: sends nothing
        std::vector<std::vector<std::uint8_t>> sent;
        Status send(const Address& dst, std::span<const std::uint8_t> m) override {
            sent.emplace_back(m.begin(), m.end());
            if (!cut) lan->carry(this, dst, std::vector<std::uint8_t>(m.begin(), m.end()));
            return std::nullopt;
        }
    };

    Port& port(const Address& source) {
        ports_.push_back(std::make_unique<Port>());
        ports_.back()->lan = this;
        ports_.back()->source = source;
        return *ports_.back();
    }
    void attach(Port& port, Instance& instance) { receivers_.emplace_back(&port, &instance); }

  private:
    void carry(Port* from, const Address& dst, std::vector<std::uint8_t> bytes) {
        auto t = clock_.make_timer();
        t->arm(clock_.now(), [this, from, dst, bytes] {
            for (auto& [port, inst] : receivers_) {
                if (port == from || port->cut) continue;
                inst->receive(bytes, IpContext{from->source.family, from->source, dst, 255});
            }
        });
        in_flight_.push_back(std::move(t));
    }

    FakeClock& clock_;
    std::vector<std::unique_ptr<Port>> ports_;
    std::vector<std::pair<Port*, Instance*>> receivers_;
    std::vector<std::unique_ptr<Timer>> in_flight_;
};

}  // namespace ipvsctl::vrrp::testing
