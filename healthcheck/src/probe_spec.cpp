// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/probe_spec.hpp"

#include <sstream>

#include "healthcheck/reconcile.hpp"

namespace ipvsctl::healthcheck {
namespace {

Duration or_default(Duration value, Duration fallback) {
    return value.count() > 0 ? value : fallback;
}

void describe(std::ostream& out, const config::HttpCheck& http) {
    out << (http.tls ? " tls" : " plain") << " proto=" << http.http_protocol
        << " vhost=" << http.virtualhost.value_or("") << " sni=" << http.enable_sni << ':'
        << http.sni_name.value_or("");
    for (const auto& url : http.urls) {
        out << " url{" << url.path.size() << ':' << url.path
            << " digest=" << url.digest.value_or("") << " vhost=" << url.virtualhost.value_or("")
            << " status=";
        for (const auto& [low, high] : url.status_codes) out << low << '-' << high << ',';
        out << '}';
    }
}

}  // namespace

std::shared_ptr<const CheckDetails> DetailsCache::intern(const std::string& key,
                                                         CheckDetails details) {
    const auto found = known_.find(key);
    if (found != known_.end() && *found->second == details) return found->second;
    auto made = std::make_shared<const CheckDetails>(std::move(details));
    if (found == known_.end()) known_.emplace(key, made);
    return made;
}

ProbeSpec probe_spec(const config::VirtualServer& vs, const config::RealServer& rs,
                     const config::Checker& checker, DetailsCache* cache) {
    ProbeSpec spec;
    spec.type = checker.type;
    spec.address = checker.connect_ip.value_or(rs.address);
    spec.port = checker.connect_port.value_or(rs.port.value_or(virtual_port(vs)));
    spec.bindto = checker.bindto;
    spec.bind_port = checker.bind_port;
    spec.connect_timeout = or_default(checker.connect_timeout, kDefaultConnectTimeout);
    spec.delay_loop = or_default(checker.delay_loop, or_default(vs.delay_loop, kDefaultDelayLoop));
    spec.delay_before_retry = or_default(checker.delay_before_retry, kDefaultDelayBeforeRetry);
    spec.warmup = checker.warmup;  // not part of the identity: it only delays the first probe
    CheckDetails details = checker.details;
    if (auto* http = std::get_if<config::HttpCheck>(&details)) {
        if (!http->virtualhost && vs.virtualhost) http->virtualhost = vs.virtualhost;
    }

    std::ostringstream what;  // the details' part of the identity
    what << config::to_string(spec.type);
    if (const auto* http = std::get_if<config::HttpCheck>(&details)) describe(what, *http);
    if (const auto* misc = std::get_if<config::MiscCheck>(&details)) {
        what << " misc{" << misc->path.size() << ':' << misc->path << " t=" << misc->timeout.count()
             << " dyn=" << misc->dynamic << " user=" << (misc->user ? misc->user->command : "")
             << '}';
    }
    const std::string details_text = what.str();

    std::ostringstream out;
    out << config::to_string(spec.type) << ' '
        << config::address_port_string(spec.address, spec.port);
    if (spec.bindto) out << " bind=" << spec.bindto->to_string();
    if (spec.bind_port) out << " bport=" << *spec.bind_port;
    out << " ct=" << spec.connect_timeout.count() << " dl=" << spec.delay_loop.count()
        << " dbr=" << spec.delay_before_retry.count();
    out << std::string_view(details_text).substr(config::to_string(spec.type).size());
    spec.identity = out.str();
    spec.details = cache != nullptr ? cache->intern(details_text, std::move(details))
                                    : std::make_shared<const CheckDetails>(std::move(details));
    return spec;
}

}  // namespace ipvsctl::healthcheck
