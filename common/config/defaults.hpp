// SPDX-License-Identifier: GPL-2.0-or-later
// Defaults of the configuration language, named. Where keepalived.conf(5)
// documents a default, the value here is keepalived's.
#pragma once

#include <array>
#include <chrono>
#include <string_view>

#include "config/model.hpp"

namespace ipvsctl::config::defaults {

using namespace std::chrono_literals;

// Files and sockets.
inline constexpr std::string_view kConfigFile = "/etc/ipvsctl/ipvsctl.conf";
inline constexpr std::string_view kVrrpdControlSocket = "/run/ipvsctl/vrrpd.sock";
inline constexpr std::string_view kHealthcheckdControlSocket = "/run/ipvsctl/healthcheckd.sock";

// global_defs
inline constexpr int kVrrpVersion = 2;
inline constexpr std::string_view kVrrpMcastGroup4 = "224.0.0.18";
inline constexpr std::string_view kVrrpMcastGroup6 = "ff02::12";
inline constexpr Duration kGarpMasterDelay = 5s;
inline constexpr int kGarpMasterRepeat = 5;
inline constexpr Duration kGarpMasterRefresh = 0s;  ///< 0: no refresh
inline constexpr int kGarpMasterRefreshRepeat = 1;
inline constexpr Duration kGarpInterval = 0s;
inline constexpr Duration kGnaInterval = 0s;
inline constexpr int kLvsSyncDaemonPort = 8848;
inline constexpr std::string_view kLvsSyncDaemonGroup = "224.0.0.81";

// vrrp_script
inline constexpr Duration kScriptInterval = 1s;
inline constexpr int kScriptWeight = 0;
inline constexpr int kScriptRise = 1;
inline constexpr int kScriptFall = 1;

// vrrp_instance
inline constexpr VrrpState kState = VrrpState::backup;
inline constexpr int kPriority = 100;
inline constexpr Centiseconds kAdvertInt{100};
inline constexpr Duration kPreemptDelay = 0s;
inline constexpr int kVrrpVersionIpv6 = 3;

// Limits of vrrp_instance values.
inline constexpr int kMinVrid = 1;
inline constexpr int kMaxVrid = 255;
inline constexpr int kMinPriority = 1;
inline constexpr int kMaxPriority = 255;
inline constexpr int kAddressOwnerPriority = 255;
/// VRRPv2 (RFC 3768 5.3.7): whole seconds in an 8-bit field.
inline constexpr Centiseconds kMinAdvertIntV2{100};
inline constexpr Centiseconds kMaxAdvertIntV2{25500};
/// VRRPv3 (RFC 5798 5.2.7): centiseconds in a 12-bit field.
inline constexpr Centiseconds kMinAdvertIntV3{1};
inline constexpr Centiseconds kMaxAdvertIntV3{4095};
inline constexpr Duration kMaxPreemptDelay = 1000s;
inline constexpr int kMaxTrackWeight = 253;
inline constexpr std::size_t kAuthPassLength = 8;

// virtual_server
inline constexpr Duration kDelayLoop = 60s;
inline constexpr std::string_view kScheduler = "wlc";  ///< as ipvsadm
inline constexpr Protocol kProtocol = Protocol::tcp;
inline constexpr ForwardingMethod kForwarding = ForwardingMethod::nat;
inline constexpr Duration kPersistenceTimeout = 360s;  ///< when given without a value
inline constexpr int kQuorum = 1;
inline constexpr int kHysteresis = 0;
/// The kernel's IPVS schedulers.
inline constexpr std::array<std::string_view, 14> kSchedulers = {
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"};

// real_server
inline constexpr int kWeight = 1;
inline constexpr int kMaxWeight = 65535;
inline constexpr int kMaxThreshold = 65535;

// checkers
inline constexpr Duration kConnectTimeout = 5s;
inline constexpr int kRetry = 1;
inline constexpr int kMiscRetry = 0;
inline constexpr Duration kHttpDelayBeforeRetry = 3s;
inline constexpr Duration kDelayBeforeRetry = 1s;
inline constexpr int kRise = 1;
inline constexpr std::string_view kHttpProtocol = "1.0";
inline constexpr int kStatusCodeMin = 200;
inline constexpr int kStatusCodeMax = 299;

// dynamic_weight (extension)
inline constexpr Duration kTargetResponseTime = 100ms;
inline constexpr Duration kAgentInterval = 5s;
inline constexpr Duration kAgentTimeout = 2s;
inline constexpr int kMinDynamicWeight = 1;

}  // namespace ipvsctl::config::defaults
