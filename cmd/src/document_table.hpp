// SPDX-License-Identifier: GPL-2.0-or-later
// A table as a JSON document describes it, for `apply` and `diff`: the
// settings only, every real server in one array, scheduler and persistence
// engine names interned. A Table of 10,000 x 4 holds ~8 MB (counters, a
// vector per service); this holds ~2 MB, and in the emulated guest the first
// touch of each fresh page (the kernel clearing it) was most of the cost of
// reading a document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ipvsctl/plan.hpp"
#include "ipvsctl/types.hpp"

namespace ipvsctl::cli {

class DocumentTable {
  public:
    struct Destination {
        Address address;
        std::uint16_t port = 0;
        ForwardMethod method = ForwardMethod::Route;
        std::int32_t weight = 1;
        std::uint32_t upper_threshold = 0;
        std::uint32_t lower_threshold = 0;
        std::uint16_t tunnel_port = 0;
        std::uint16_t tunnel_flags = 0;
        TunnelType tunnel_type = TunnelType::IPIP;
    };
    struct Service {
        ServiceKey key;
        std::uint32_t flags = 0;
        std::uint32_t timeout = 0;
        std::uint32_t netmask = 0;
        std::uint32_t scheduler = 0;  ///< index into the interned names
        std::uint32_t pe = 0;         ///< index into the interned names
        std::uint32_t first = 0;      ///< its first real server in destinations()
        std::uint32_t count = 0;      ///< how many real servers it has
    };

    /// Room for this many services and real servers (a hint).
    void reserve(std::size_t services, std::size_t destinations);
    /// Appends a service and its real servers (settings only).
    void append(const ipvsctl::Service& service, const std::vector<ipvsctl::Destination>& dests);

    [[nodiscard]] const std::vector<Service>& services() const { return services_; }
    [[nodiscard]] const std::vector<Destination>& destinations() const { return destinations_; }
    [[nodiscard]] std::size_t size() const { return services_.size(); }

    /// The full types, counters zero; `out` is overwritten (its strings'
    /// storage reused).
    void expand(const Service& service, ipvsctl::Service& out) const;
    static void expand(const Destination& destination, ipvsctl::Destination& out);

    [[nodiscard]] Table to_table() const;
    static DocumentTable from_table(const Table& table);

  private:
    std::uint32_t intern(const std::string& name);

    std::vector<Service> services_;
    std::vector<Destination> destinations_;
    std::vector<std::string> names_;
    std::unordered_map<std::string, std::uint32_t> name_index_;
};

/// make_plan(current, desired.to_table(), options), operation for operation,
/// without building the desired Table. The desired services' keys must be
/// unique, and their real servers' endpoints within each service (as
/// read_document_json guarantees).
Plan plan_document(const Table& current, const DocumentTable& desired,
                   const PlanOptions& options = {});

}  // namespace ipvsctl::cli
