// SPDX-License-Identifier: GPL-2.0-or-later
// What one probe does, resolved from a checker of a real server: the
// endpoint, the timing and the checker's own settings. Two checkers with
// the same identity give the same answer, so they share one probe target
// (a real server in many virtual servers is probed once per interval).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "config/model.hpp"
#include "healthcheck/clock.hpp"

namespace ipvsctl::healthcheck {

/// A checker's own settings.
using CheckDetails = std::variant<config::TcpCheck, config::HttpCheck, config::MiscCheck>;

/// Equal check details of many targets as one shared copy: 10,000 targets
/// with the same HTTP_GET settings held 10,000 copies of them (url vectors
/// included) in their sessions.
class DetailsCache {
  public:
    /// The cached copy of `details` when one equal to it was seen under
    /// `key`, else a new one (cached under `key` when the key is free).
    std::shared_ptr<const CheckDetails> intern(const std::string& key, CheckDetails details);

  private:
    std::map<std::string, std::shared_ptr<const CheckDetails>> known_;
};

struct ProbeSpec {
    config::CheckerType type = config::CheckerType::tcp_check;
    config::IpAddress address;  ///< connect_ip, else the real server's address
    std::uint16_t port = 0;     ///< connect_port, else the real server's (or service's) port
    std::optional<config::IpAddress> bindto;
    std::optional<std::uint16_t> bind_port;
    Duration connect_timeout{};
    Duration delay_loop{};
    Duration delay_before_retry{};
    /// keepalived's warmup: the first probe waits a random time up to this.
    Duration warmup{};
    /// The checker's own settings, shared and read-only; null is TCP_CHECK's
    /// (no settings).
    std::shared_ptr<const CheckDetails> details;
    /// Canonical text of everything above: equal identities share a probe.
    std::string identity;

    void set_details(CheckDetails value) {
        details = std::make_shared<const CheckDetails>(std::move(value));
    }
    template <typename T>
    [[nodiscard]] const T* details_if() const {
        return details ? std::get_if<T>(details.get()) : nullptr;
    }
};

/// `cache`, when given, shares equal details between the specs it makes.
ProbeSpec probe_spec(const config::VirtualServer& vs, const config::RealServer& rs,
                     const config::Checker& checker, DetailsCache* cache = nullptr);

/// Defaults for unset timings (keepalived's): connect_timeout 5 s,
/// delay_loop 60 s, delay_before_retry 1 s.
inline constexpr Duration kDefaultConnectTimeout = std::chrono::seconds(5);
inline constexpr Duration kDefaultDelayLoop = std::chrono::seconds(60);
inline constexpr Duration kDefaultDelayBeforeRetry = std::chrono::seconds(1);

}  // namespace ipvsctl::healthcheck
