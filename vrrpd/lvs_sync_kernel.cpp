// SPDX-License-Identifier: GPL-2.0-or-later
#include "lvs_sync_kernel.hpp"

#include <ipvsctl/client.hpp>

namespace ipvsctl::vrrp {
namespace {

ipvsctl::SyncState kernel_state(SyncRole role) {
    return role == SyncRole::master ? ipvsctl::SyncState::Master : ipvsctl::SyncState::Backup;
}

Error from(const ipvsctl::Error& e) {
    return Error{e.errnum, e.message()};
}

}  // namespace

Status KernelSyncDaemonControl::start(SyncRole role, const LvsSyncSettings& s) {
    auto client = ipvsctl::Client::open();
    if (!client) return from(client.error());
    ipvsctl::SyncDaemon d;
    d.state = kernel_state(role);
    d.interface = s.interface;
    d.sync_id = s.sync_id;
    d.max_len = s.max_length;
    d.port = s.port;
    d.ttl = s.ttl;
    if (s.group) {
        ipvsctl::Address a;
        a.family = s.group->family == Family::inet ? ipvsctl::Family::Inet : ipvsctl::Family::Inet6;
        a.bytes = s.group->bytes;
        d.group = a;
    }
    if (auto r = client->start_daemon(d); !r) return from(r.error());
    return std::nullopt;
}

Status KernelSyncDaemonControl::stop(SyncRole role) {
    auto client = ipvsctl::Client::open();
    if (!client) return from(client.error());
    if (auto r = client->stop_daemon(kernel_state(role)); !r) return from(r.error());
    return std::nullopt;
}

}  // namespace ipvsctl::vrrp
