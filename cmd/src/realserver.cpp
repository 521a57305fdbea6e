// SPDX-License-Identifier: GPL-2.0-or-later
#include "realserver.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "sys/unique_fd.hpp"

namespace ipvsctl::cli {
namespace {

constexpr const char* kTunnel4 = "tunl0";
constexpr const char* kTunnel6 = "ip6tnl0";

std::string dotted(std::string path) {
    std::replace(path.begin(), path.end(), '/', '.');
    return path;
}

std::string conf(const std::string& device, const std::string& key) {
    return "net/ipv4/conf/" + device + "/" + key;
}

std::string address_with_prefix(const Address& address) {
    return address.to_string() + (address.is_v6() ? "/128" : "/32");
}

std::string address_key(const std::string& link, const std::string& address) {
    return link + " " + address;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

/// Plans `path = value` unless the view already has it.
void want_sysctl(std::vector<Change>& plan, const SystemView& view, const std::string& path,
                 const std::string& value) {
    const auto found = view.sysctls.find(path);
    if (found != view.sysctls.end() && found->second == value) return;
    Change c{ChangeKind::SetSysctl, "", value, path, std::nullopt};
    if (found != view.sysctls.end()) c.previous = found->second;
    plan.push_back(c);
}

/// Plans a tunnel device present and up carrying `addresses`.
void want_tunnel(std::vector<Change>& plan, const SystemView& view, const std::string& link,
                 const std::string& kind, const std::vector<Address>& addresses) {
    const auto found = view.links.find(link);
    if (found == view.links.end()) plan.push_back({ChangeKind::CreateTunnel, link, kind, "", {}});
    if (found == view.links.end() || !found->second)
        plan.push_back({ChangeKind::LinkUp, link, "", "", {}});
    for (const auto& vip : addresses) {
        const std::string text = address_with_prefix(vip);
        if (!view.addresses.contains(address_key(link, text)))
            plan.push_back({ChangeKind::AddAddress, link, text, "", {}});
    }
}

}  // namespace

std::string Change::describe() const {
    switch (kind) {
        case ChangeKind::CreateTunnel:
            return "create " + link + " (" + value + " module)";
        case ChangeKind::LinkUp:
            return "set " + link + " up";
        case ChangeKind::LinkDown:
            return "set " + link + " down";
        case ChangeKind::AddAddress:
            return "add " + value + " to " + link;
        case ChangeKind::RemoveAddress:
            return "remove " + value + " from " + link;
        case ChangeKind::SetSysctl:
            return "set " + dotted(sysctl) + " = " + value + " (was " +
                   previous.value_or("not yet present") + ")";
    }
    return "?";
}

nlohmann::json RealServerState::to_json() const {
    return {{"addresses", addresses},
            {"links_up", links_up},
            {"sysctls", sysctls},
            {"tunnels_created", tunnels_created}};
}

std::variant<RealServerState, std::string> RealServerState::from_json(const nlohmann::json& j) {
    RealServerState state;
    try {
        state.addresses = j.at("addresses").get<std::vector<std::string>>();
        state.links_up = j.at("links_up").get<std::vector<std::string>>();
        state.sysctls = j.at("sysctls").get<std::map<std::string, std::string>>();
        state.tunnels_created = j.value("tunnels_created", std::vector<std::string>{});
    } catch (const nlohmann::json::exception& e) {
        return std::string("not a realserver state: ") + e.what();
    }
    for (const auto& a : state.addresses)
        if (a.find(' ') == std::string::npos) return "not a realserver state: address '" + a + "'";
    for (const auto& [path, value] : state.sysctls)
        if (path.rfind("net/", 0) != 0 || path.find("..") != std::string::npos)
            return "not a realserver state: sysctl '" + path + "'";
    return state;
}

void RealServerState::record(const Change& change) {
    switch (change.kind) {
        case ChangeKind::CreateTunnel:
            if (!contains(tunnels_created, change.link)) tunnels_created.push_back(change.link);
            break;
        case ChangeKind::LinkUp:
            if (!contains(links_up, change.link)) links_up.push_back(change.link);
            break;
        case ChangeKind::AddAddress: {
            const auto key = address_key(change.link, change.value);
            if (!contains(addresses, key)) addresses.push_back(key);
            break;
        }
        case ChangeKind::SetSysctl:
            if (change.previous) sysctls.emplace(change.sysctl, *change.previous);
            break;
        case ChangeKind::LinkDown:
        case ChangeKind::RemoveAddress:
            break;
    }
}

bool RealServerState::empty() const {
    return addresses.empty() && links_up.empty() && sysctls.empty() && tunnels_created.empty();
}

std::vector<std::string> sysctls_for(const RealServerRequest& request) {
    if (request.mode == RealServerMode::DirectRouting)
        return {conf("all", "arp_ignore"), conf("all", "arp_announce"),
                conf(request.interface, "arp_ignore"), conf(request.interface, "arp_announce")};
    return {conf("all", "rp_filter"), conf(kTunnel4, "rp_filter"), conf("all", "arp_ignore"),
            conf("all", "arp_announce")};
}

std::variant<std::vector<Change>, std::string> plan_setup(const RealServerRequest& request,
                                                          const SystemView& view) {
    std::vector<Address> v4;
    std::vector<Address> v6;
    for (const auto& vip : request.vips) (vip.is_v6() ? v6 : v4).push_back(vip);
    std::vector<Change> plan;
    if (request.mode == RealServerMode::DirectRouting) {
        const auto link = view.links.find(request.interface);
        if (link == view.links.end()) return "interface '" + request.interface + "' does not exist";
        if (!link->second) plan.push_back({ChangeKind::LinkUp, request.interface, "", "", {}});
        for (const auto& vip : request.vips) {
            const std::string text = address_with_prefix(vip);
            if (!view.addresses.contains(address_key(request.interface, text)))
                plan.push_back({ChangeKind::AddAddress, request.interface, text, "", {}});
        }
        // Answer ARP only for addresses on the receiving interface, and
        // source ARP from the outgoing interface's own address: the VIP on
        // lo stays invisible to the LAN (the director owns it there).
        if (!v4.empty()) {
            for (const std::string& device : {std::string("all"), request.interface}) {
                want_sysctl(plan, view, conf(device, "arp_ignore"), "1");
                want_sysctl(plan, view, conf(device, "arp_announce"), "2");
            }
        }
        return plan;
    }
    if (!v4.empty()) {
        want_tunnel(plan, view, kTunnel4, "ipip", v4);
        // Decapsulated packets arrive on tunl0 with the client's source;
        // reverse-path filtering would drop them (effective value: max(all, dev)).
        want_sysctl(plan, view, conf("all", "rp_filter"), "0");
        want_sysctl(plan, view, conf(kTunnel4, "rp_filter"), "0");
        // The VIP on tunl0 is a local address too: without these the real
        // server answers ARP for it and sources ARP requests from it, and a
        // router sharing its LAN learns the VIP at the real server's MAC
        // (the "ARP problem" of LVS-TUN as of LVS-DR; the effective value is
        // max(all, dev), so "all" covers every interface).
        want_sysctl(plan, view, conf("all", "arp_ignore"), "1");
        want_sysctl(plan, view, conf("all", "arp_announce"), "2");
    }
    if (!v6.empty()) want_tunnel(plan, view, kTunnel6, "ip6tnl", v6);
    return plan;
}

std::vector<Change> plan_teardown(const RealServerState& state, const SystemView& view) {
    std::vector<Change> plan;
    for (const auto& key : state.addresses) {
        if (!view.addresses.contains(key)) continue;
        const auto space = key.find(' ');
        plan.push_back(
            {ChangeKind::RemoveAddress, key.substr(0, space), key.substr(space + 1), "", {}});
    }
    for (const auto& link : state.links_up) {
        const auto found = view.links.find(link);
        if (found != view.links.end() && found->second)
            plan.push_back({ChangeKind::LinkDown, link, "", "", {}});
    }
    for (const auto& [path, original] : state.sysctls) {
        const auto found = view.sysctls.find(path);
        if (found == view.sysctls.end() || found->second == original) continue;
        plan.push_back({ChangeKind::SetSysctl, "", original, path, found->second});
    }
    return plan;
}

// ---- the executor: rtnetlink through libnl-route, sysctls through /proc/sys

namespace {

struct SockDeleter {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct CacheDeleter {
    void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct LinkDeleter {
    void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
    void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrDeleter {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using Sock = std::unique_ptr<nl_sock, SockDeleter>;
using Cache = std::unique_ptr<nl_cache, CacheDeleter>;
using Link = std::unique_ptr<rtnl_link, LinkDeleter>;

std::optional<std::string> read_sysctl(const std::string& path) {
    std::ifstream in("/proc/sys/" + path);
    std::string value;
    if (!in || !std::getline(in, value)) return std::nullopt;
    return value;
}

std::optional<std::string> write_sysctl(const std::string& path, const std::string& value) {
    const std::string file = "/proc/sys/" + path;
    const sys::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) return "cannot open " + file + ": " + std::strerror(errno);
    const std::string line = value + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return "cannot write " + file + ": " + std::strerror(errno);
    return std::nullopt;
}

class Kernel {
  public:
    std::optional<std::string> connect() {
        sock_.reset(nl_socket_alloc());
        if (!sock_) return "nl_socket_alloc failed";
        if (const int rc = nl_connect(sock_.get(), NETLINK_ROUTE); rc < 0)
            return std::string("rtnetlink: ") + nl_geterror(rc);
        return std::nullopt;
    }

    std::variant<SystemView, std::string> view(const std::vector<std::string>& sysctls) {
        SystemView view;
        nl_cache* raw_links = nullptr;
        if (const int rc = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, &raw_links); rc < 0)
            return std::string("listing links: ") + nl_geterror(rc);
        Cache links(raw_links);
        for (auto* o = nl_cache_get_first(links.get()); o; o = nl_cache_get_next(o)) {
            auto* link = reinterpret_cast<rtnl_link*>(o);
            view.links[rtnl_link_get_name(link)] = (rtnl_link_get_flags(link) & IFF_UP) != 0;
        }
        nl_cache* raw_addresses = nullptr;
        if (const int rc = rtnl_addr_alloc_cache(sock_.get(), &raw_addresses); rc < 0)
            return std::string("listing addresses: ") + nl_geterror(rc);
        Cache addresses(raw_addresses);
        for (auto* o = nl_cache_get_first(addresses.get()); o; o = nl_cache_get_next(o)) {
            auto* addr = reinterpret_cast<rtnl_addr*>(o);
            const nl_addr* local = rtnl_addr_get_local(addr);
            if (!local) continue;
            Address a;
            const int family = nl_addr_get_family(local);
            if (family != AF_INET && family != AF_INET6) continue;
            a.family = family == AF_INET ? Family::Inet : Family::Inet6;
            const auto length = nl_addr_get_len(local);
            if (length != a.size()) continue;
            std::memcpy(a.bytes.data(), nl_addr_get_binary_addr(local), length);
            char name[IFNAMSIZ] = {};
            rtnl_link_i2name(links.get(), rtnl_addr_get_ifindex(addr), name, sizeof name);
            view.addresses.insert(address_key(
                name, a.to_string() + "/" + std::to_string(rtnl_addr_get_prefixlen(addr))));
        }
        for (const auto& path : sysctls)
            if (auto value = read_sysctl(path)) view.sysctls[path] = *value;
        return view;
    }

    /// Carries out `change`; a sysctl's `previous` is read just before.
    std::optional<std::string> apply(Change& change) {
        switch (change.kind) {
            case ChangeKind::CreateTunnel:
                return create_tunnel(change.link, change.value);
            case ChangeKind::LinkUp:
            case ChangeKind::LinkDown:
                return set_link(change.link, change.kind == ChangeKind::LinkUp);
            case ChangeKind::AddAddress:
            case ChangeKind::RemoveAddress:
                return change_address(change);
            case ChangeKind::SetSysctl:
                change.previous = read_sysctl(change.sysctl);
                if (!change.previous) return "cannot read /proc/sys/" + change.sysctl;
                return write_sysctl(change.sysctl, change.value);
        }
        return "unknown change";
    }

  private:
    std::optional<std::string> create_tunnel(const std::string& name, const std::string& kind) {
        // Asking for a link of this kind makes the kernel load its module
        // (alias rtnl-link-KIND), which creates the fallback device `name`
        // in every namespace; the request itself may then fail with EEXIST.
        Link link(rtnl_link_alloc());
        if (!link) return "rtnl_link_alloc failed";
        rtnl_link_set_name(link.get(), name.c_str());
        rtnl_link_set_type(link.get(), kind.c_str());
        const int rc = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link* found = nullptr;
        if (rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &found) == 0) {
            rtnl_link_put(found);
            return std::nullopt;
        }
        return "cannot create " + name + " (is the " + kind +
               " module available?): " + nl_geterror(rc);
    }

    std::optional<std::string> set_link(const std::string& name, bool up) {
        rtnl_link* raw = nullptr;
        if (const int rc = rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &raw); rc < 0)
            return "link " + name + ": " + nl_geterror(rc);
        Link current(raw);
        Link change(rtnl_link_alloc());
        if (up)
            rtnl_link_set_flags(change.get(), IFF_UP);
        else
            rtnl_link_unset_flags(change.get(), IFF_UP);
        if (const int rc = rtnl_link_change(sock_.get(), current.get(), change.get(), 0); rc < 0)
            return "setting " + name + (up ? " up: " : " down: ") + nl_geterror(rc);
        return std::nullopt;
    }

    std::optional<std::string> change_address(const Change& change) {
        const bool add = change.kind == ChangeKind::AddAddress;
        const auto slash = change.value.find('/');
        const auto address = Address::parse(change.value.substr(0, slash));
        if (!address || slash == std::string::npos) return "bad address " + change.value;
        const int prefix = std::stoi(change.value.substr(slash + 1));
        rtnl_link* raw = nullptr;
        if (const int rc = rtnl_link_get_kernel(sock_.get(), 0, change.link.c_str(), &raw); rc < 0)
            return "link " + change.link + ": " + nl_geterror(rc);
        Link link(raw);
        const int family = address->is_v6() ? AF_INET6 : AF_INET;
        std::unique_ptr<nl_addr, NlAddrDeleter> local(
            nl_addr_build(family, address->bytes.data(), address->size()));
        std::unique_ptr<rtnl_addr, AddrDeleter> addr(rtnl_addr_alloc());
        if (!local || !addr) return "libnl allocation failed";
        nl_addr_set_prefixlen(local.get(), prefix);
        rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(link.get()));
        rtnl_addr_set_family(addr.get(), family);
        rtnl_addr_set_local(addr.get(), local.get());
        rtnl_addr_set_prefixlen(addr.get(), prefix);
        // A VIP must be usable at once, not after duplicate address detection.
        if (family == AF_INET6) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
        const int rc = add ? rtnl_addr_add(sock_.get(), addr.get(), NLM_F_EXCL)
                           : rtnl_addr_delete(sock_.get(), addr.get(), 0);
        if (rc < 0)
            return std::string(add ? "adding " : "removing ") + change.value +
                   (add ? " to " : " from ") + change.link + ": " + nl_geterror(rc);
        return std::nullopt;
    }

    Sock sock_;
};

std::optional<std::string> enter_netns(const std::string& netns) {
    if (netns.empty()) return std::nullopt;
    const std::string path = netns[0] == '/' ? netns : "/run/netns/" + netns;
    const sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::setns(fd.get(), CLONE_NEWNET) != 0)
        return "network namespace " + netns + ": " + std::strerror(errno);
    return std::nullopt;
}

/// Reads the state file: nullopt when there is none, text when unreadable.
std::variant<std::optional<RealServerState>, std::string> load_state(const std::string& file) {
    std::ifstream in(file);
    if (!in) {
        if (errno == ENOENT) return std::optional<RealServerState>();
        return "cannot read " + file + ": " + std::strerror(errno);
    }
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return file + ": not JSON";
    auto state = RealServerState::from_json(j);
    if (auto* problem = std::get_if<std::string>(&state)) return file + ": " + *problem;
    return std::optional<RealServerState>(std::get<RealServerState>(state));
}

std::optional<std::string> save_state(const std::string& file, const RealServerState& state) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
    const std::string temporary = file + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << state.to_json().dump(2) << "\n";
        if (!out.flush()) return "cannot write " + temporary;
    }
    if (std::rename(temporary.c_str(), file.c_str()) != 0)
        return "cannot rename " + temporary + " to " + file + ": " + std::strerror(errno);
    return std::nullopt;
}

/// Runs `plan`, recording each done change into `state`; stops at the first
/// refusal and returns it.
std::optional<std::string> execute(Kernel& kernel, std::vector<Change>& plan,
                                   RealServerState* state, std::ostream& out) {
    for (auto& change : plan) {
        if (auto problem = kernel.apply(change)) return problem;
        if (state) state->record(change);
        out << change.describe() << "\n";
    }
    return std::nullopt;
}

}  // namespace

int realserver_setup(const RealServerRequest& request, const RealServerIo& io) {
    if (request.vips.empty()) {
        io.err << "ipvsctl realserver setup: at least one --vip is required\n";
        return 2;
    }
    if (auto problem = enter_netns(io.netns)) {
        io.err << "ipvsctl realserver setup: " << *problem << "\n";
        return 1;
    }
    auto loaded = load_state(io.state_file);
    if (auto* problem = std::get_if<std::string>(&loaded)) {
        io.err << "ipvsctl realserver setup: " << *problem << "\n";
        return 1;
    }
    Kernel kernel;
    if (auto problem = kernel.connect()) {
        io.err << "ipvsctl realserver setup: " << *problem << "\n";
        return 1;
    }
    auto view = kernel.view(sysctls_for(request));
    if (auto* problem = std::get_if<std::string>(&view)) {
        io.err << "ipvsctl realserver setup: " << *problem << "\n";
        return 1;
    }
    auto planned = plan_setup(request, std::get<SystemView>(view));
    if (auto* problem = std::get_if<std::string>(&planned)) {
        io.err << "ipvsctl realserver setup: " << *problem << "\n";
        return 2;
    }
    auto& plan = std::get<std::vector<Change>>(planned);
    if (plan.empty()) {
        io.out << "no changes: already set up\n";
        return 0;
    }
    if (io.dry_run) {
        for (const auto& change : plan) io.out << change.describe() << "\n";
        io.out << "(dry run: nothing changed)\n";
        return 0;
    }
    RealServerState state =
        std::get<std::optional<RealServerState>>(loaded).value_or(RealServerState{});
    const auto refused = execute(kernel, plan, &state, io.out);
    // Whatever was done is recorded, so that teardown can undo it.
    if (state.empty()) {
        // Refused at the first step: nothing to record.
    } else if (auto problem = save_state(io.state_file, state)) {
        io.err << "ipvsctl realserver setup: " << *problem << "\n";
        return 1;
    }
    if (refused) {
        io.err << "ipvsctl realserver setup: " << *refused
               << " (changes made so far are recorded in " << io.state_file << ")\n";
        return 1;
    }
    return 0;
}

int realserver_teardown(const RealServerIo& io) {
    if (auto problem = enter_netns(io.netns)) {
        io.err << "ipvsctl realserver teardown: " << *problem << "\n";
        return 1;
    }
    auto loaded = load_state(io.state_file);
    if (auto* problem = std::get_if<std::string>(&loaded)) {
        io.err << "ipvsctl realserver teardown: " << *problem << "\n";
        return 1;
    }
    const auto& state = std::get<std::optional<RealServerState>>(loaded);
    if (!state) {
        io.out << "no changes: nothing recorded in " << io.state_file << "\n";
        return 0;
    }
    Kernel kernel;
    if (auto problem = kernel.connect()) {
        io.err << "ipvsctl realserver teardown: " << *problem << "\n";
        return 1;
    }
    std::vector<std::string> sysctls;
    for (const auto& [path, original] : state->sysctls) sysctls.push_back(path);
    auto view = kernel.view(sysctls);
    if (auto* problem = std::get_if<std::string>(&view)) {
        io.err << "ipvsctl realserver teardown: " << *problem << "\n";
        return 1;
    }
    auto plan = plan_teardown(*state, std::get<SystemView>(view));
    if (io.dry_run) {
        for (const auto& change : plan) io.out << change.describe() << "\n";
        io.out << (plan.empty() ? "no changes\n" : "(dry run: nothing changed)\n");
        return 0;
    }
    if (plan.empty()) io.out << "no changes: nothing left to undo\n";
    if (auto refused = execute(kernel, plan, nullptr, io.out)) {
        io.err << "ipvsctl realserver teardown: " << *refused << " (state kept in " << io.state_file
               << ")\n";
        return 1;
    }
    for (const auto& link : state->tunnels_created)
        io.out << "left " << link << " in place (a tunnel module's fallback device)\n";
    if (std::remove(io.state_file.c_str()) != 0 && errno != ENOENT) {
        io.err << "ipvsctl realserver teardown: cannot remove " << io.state_file << ": "
               << std::strerror(errno) << "\n";
        return 1;
    }
    return 0;
}

}  // namespace ipvsctl::cli
