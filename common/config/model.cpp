// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/model.hpp"

namespace ipvsctl::config {

std::string_view to_string(Daemon daemon) {
    return daemon == Daemon::vrrpd ? "vrrpd" : "healthcheckd";
}

std::string_view to_string(VrrpState state) {
    return state == VrrpState::master ? "MASTER" : "BACKUP";
}

std::string_view to_string(Protocol protocol) {
    switch (protocol) {
        case Protocol::tcp:
            return "TCP";
        case Protocol::udp:
            return "UDP";
        case Protocol::sctp:
            return "SCTP";
    }
    return "TCP";
}

std::string_view to_string(ForwardingMethod method) {
    switch (method) {
        case ForwardingMethod::nat:
            return "NAT";
        case ForwardingMethod::dr:
            return "DR";
        case ForwardingMethod::tun:
            return "TUN";
        case ForwardingMethod::fnat:
            return "FNAT";
    }
    return "NAT";
}

std::string_view to_string(TunnelType type) {
    switch (type) {
        case TunnelType::ipip:
            return "ipip";
        case TunnelType::gue:
            return "gue";
        case TunnelType::gre:
            return "gre";
    }
    return "ipip";
}

std::string_view to_string(TunnelChecksum checksum) {
    switch (checksum) {
        case TunnelChecksum::none:
            return "none";
        case TunnelChecksum::nocsum:
            return "nocsum";
        case TunnelChecksum::csum:
            return "csum";
        case TunnelChecksum::remcsum:
            return "remcsum";
    }
    return "none";
}

std::string_view to_string(CheckerType type) {
    switch (type) {
        case CheckerType::tcp_check:
            return "TCP_CHECK";
        case CheckerType::http_get:
            return "HTTP_GET";
        case CheckerType::ssl_get:
            return "SSL_GET";
        case CheckerType::misc_check:
            return "MISC_CHECK";
    }
    return "TCP_CHECK";
}

std::string_view to_string(DynamicWeightSource source) {
    return source == DynamicWeightSource::agent ? "agent" : "response_time";
}

namespace {
std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}
}  // namespace

std::string RealServer::key() const {
    return address_port_string(address, port);
}

std::string VirtualServer::key() const {
    const auto protocol_name = lower(to_string(protocol));
    if (const auto* address = std::get_if<VsAddress>(&target)) {
        return address_port_string(address->address, address->port) + "/" + protocol_name;
    }
    if (const auto* mark = std::get_if<VsFwmark>(&target)) {
        return "fwmark " + std::to_string(mark->fwmark) + "/" + std::string(to_string(family));
    }
    return "group " + std::get<VsGroup>(target).name + "/" + protocol_name;
}

VirtualServer VirtualServer::without_real_servers() const {
    VirtualServer copy;
    copy.where = where;
    copy.target = target;
    copy.protocol = protocol;
    copy.family = family;
    copy.scheduler = scheduler;
    copy.scheduler_flags = scheduler_flags;
    copy.one_packet_scheduling = one_packet_scheduling;
    copy.forwarding = forwarding;
    copy.persistence_timeout = persistence_timeout;
    copy.persistence_granularity = persistence_granularity;
    copy.delay_loop = delay_loop;
    copy.sorry_server = sorry_server;
    copy.inhibit_on_failure = inhibit_on_failure;
    copy.quorum = quorum;
    copy.hysteresis = hysteresis;
    copy.quorum_up = quorum_up;
    copy.quorum_down = quorum_down;
    copy.alpha = alpha;
    copy.omega = omega;
    copy.ha_suspend = ha_suspend;
    copy.virtualhost = virtualhost;
    return copy;
}
#if defined(__x86_64__) && defined(__GLIBCXX__) && !defined(_GLIBCXX_DEBUG)
// A member added to VirtualServer changes its size: copy it above too.
static_assert(sizeof(VirtualServer) == 600, "copy the new member in without_real_servers()");
#endif

const VrrpInstance* Config::find_instance(std::string_view name) const {
    for (const auto& instance : vrrp_instances) {
        if (instance.name == name) return &instance;
    }
    return nullptr;
}

const VrrpScript* Config::find_script(std::string_view name) const {
    for (const auto& script : vrrp_scripts) {
        if (script.name == name) return &script;
    }
    return nullptr;
}

const VirtualServerGroup* Config::find_vs_group(std::string_view name) const {
    for (const auto& group : virtual_server_groups) {
        if (group.name == name) return &group;
    }
    return nullptr;
}

}  // namespace ipvsctl::config
