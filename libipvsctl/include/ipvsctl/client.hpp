// SPDX-License-Identifier: LGPL-2.1-or-later
// A handle on the kernel's IPVS generic-netlink family.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ipvsctl/operation.hpp"
#include "ipvsctl/result.hpp"
#include "ipvsctl/types.hpp"

namespace ipvsctl {

struct ClientOptions {
    /// Network namespace name (a file under /run/netns) or an absolute path
    /// to a namespace file; empty for the caller's namespace.
    std::string netns;
    /// How long to wait for a kernel reply before giving up.
    std::chrono::milliseconds timeout{10000};
    /// Run "modprobe ip_vs" when the IPVS family is missing, as ipvsadm does.
    bool load_module = true;
    /// Called with every datagram sent (outgoing = true) and received, for
    /// debugging and for capturing golden bytes; empty for none.
    std::function<void(bool outgoing, std::span<const std::uint8_t> bytes)> trace;
};

/// Outcome of a batch: one status per request, in request order.
struct BatchReport {
    /// 0 when the kernel accepted request i, the positive errno when it
    /// refused it, -1 when the request was never sent.
    std::vector<int> status;
    /// The kernel's extended-ack text for refused requests, when it sent one.
    std::vector<std::pair<std::size_t, std::string>> kernel_text;
    /// Requests that were never sent (after a failure with stop_on_error).
    std::size_t not_sent = 0;

    [[nodiscard]] bool ok() const;
    [[nodiscard]] std::optional<std::size_t> first_failure() const;
    [[nodiscard]] std::size_t succeeded() const;
};

struct BatchOptions {
    /// Requests per sendmsg(). The kernel handles them one after another and
    /// acknowledges each; larger batches mean fewer system calls.
    std::size_t requests_per_send = 256;
    /// Send no further chunk once a request has failed.
    bool stop_on_error = true;
};

/// How much of each real server table() reads.
enum class TableDetail {
    /// Everything: one netlink dump per service.
    Full,
    /// Address, port, forwarding method, weight and active/inactive counts
    /// only (thresholds, persistent counts and statistics read as 0), from
    /// one read of /proc/net/ip_vs; services with tunnel real servers are
    /// still read in full. Far fewer system calls for large tables.
    Basic,
    /// Every setting a user can change (what a plan compares: thresholds
    /// and tunnel parameters included) and the connection counts;
    /// statistics read as 0 (a service's may read as the kernel's when the
    /// services come from netlink). IPv4 services without tunnel real
    /// servers are read with one getsockopt(IP_VS_SO_GET_DESTS) each (no
    /// netlink dump and its reply buffers), checked against the real-server
    /// counts of one getsockopt(IP_VS_SO_GET_SERVICES); the others in full.
    /// When the namespace has only IPv4 services and no service uses a
    /// persistence engine, the services and their settings come from that
    /// getsockopt() too, and netlink only confirms that no IPv6 service
    /// exists (a dump read as far as each service's family); otherwise
    /// from the netlink dump. Same services, same order either way.
    Settings,
};

class Client {
  public:
    static Result<Client> open(const ClientOptions& options = {});
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    ~Client();

    Result<Info> info();

    Result<std::vector<Service>> services();
    Result<Service> service(const ServiceKey& key);
    Result<std::vector<Destination>> destinations(const ServiceKey& key);
    /// Every service with its destinations, in the kernel's order.
    Result<Table> table(TableDetail detail = TableDetail::Full);
    /// TableDetail::Settings in two halves, for a caller that overlaps its
    /// own work with the second (the slower one on a large table):
    /// the IPv4 services and their real servers through getsockopt(), with
    /// every setting a plan compares except a persistence engine's name;
    /// nothing when getsockopt() cannot be used or the table changed while
    /// it was read (then table(TableDetail::Settings) reads it otherwise).
    std::optional<Result<Table>> ipv4_settings_table();
    /// Whether the namespace has services that `ipv4_half` (what
    /// ipv4_settings_table() read) does not describe: IPv6 ones, or ones
    /// bound to a persistence engine. Answered from ip_vs's module
    /// references when they count exactly the services of `ipv4_half` on
    /// the whole host, else by one netlink dump of the services; nothing
    /// when the dump fails. Only "false" makes the first half the whole table.
    std::optional<bool> has_services_beyond_ipv4_settings(const Table& ipv4_half);
    /// How the last such answer was reached ("module references" or "dump"),
    /// for timing output and tests.
    const char* last_beyond_ipv4_check() const;

    Result<void> add_service(const Service& service);
    Result<void> edit_service(const Service& service);
    Result<void> delete_service(const ServiceKey& key);
    Result<void> add_destination(const ServiceKey& key, const Destination& destination);
    Result<void> edit_destination(const ServiceKey& key, const Destination& destination);
    Result<void> delete_destination(const ServiceKey& key, const Destination& destination);

    Result<void> zero(const ServiceKey& key);
    Result<void> zero_all();
    Result<void> flush();

    Result<Timeouts> timeouts();
    Result<void> set_timeouts(const Timeouts& timeouts);

    Result<std::vector<SyncDaemon>> daemons();
    Result<void> start_daemon(const SyncDaemon& daemon);
    Result<void> stop_daemon(SyncState state);

    /// Runs one operation; the error names the operation and its object.
    Result<void> execute(const Operation& operation);
    /// Sends many operations with few system calls; every acknowledgement is
    /// matched to its request. The Result fails only when the transport did.
    Result<BatchReport> execute_batch(std::span<const Operation> operations,
                                      const BatchOptions& options = {});

    /// The generic-netlink family id the kernel gave IPVS.
    [[nodiscard]] std::uint16_t family_id() const;

    struct Impl;  ///< private to the library

  private:
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Turns a batch's first failure into an Error naming the request.
Error batch_error(std::span<const Operation> operations, const BatchReport& report);

}  // namespace ipvsctl
