// SPDX-License-Identifier: GPL-2.0-or-later
// ipvsadm's listings (-L/-l with its modifiers, -S, --timeout, --daemon, -c)
// as pure functions from the library's types to text, byte for byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ipvsctl/types.hpp"
#include "names.hpp"

namespace ipvsctl::cli {

/// The listing modifiers, as ipvsadm's FMT_* flags.
struct ListFormat {
    bool numeric = false;          ///< -n
    bool rule = false;             ///< -S: print commands instead of a table
    bool stats = false;            ///< --stats
    bool rate = false;             ///< --rate
    bool thresholds = false;       ///< --thresholds
    bool persistent_conn = false;  ///< --persistent-conn
    bool nosort = false;           ///< --nosort
    bool exact = false;            ///< --exact / -X
    bool tun_info = false;         ///< --tun-info
};

/// Orders services and their destinations exactly as ipvsadm 1.31 does (its
/// comparison functions, including their 32-bit wrap-around, under glibc's
/// merge sort), unless `format.nosort`.
Table sorted_like_ipvsadm(Table table, const ListFormat& format);

/// `ipvsadm -L` / `-S` of the whole table (the header line only for -L).
std::string format_table(const Info& info, const Table& table, const ListFormat& format,
                         const NameLookup& names);
/// `ipvsadm -L -t|-u|-f SERVICE`: column titles and one service.
std::string format_one_service(const ServiceEntry& entry, const ListFormat& format,
                               const NameLookup& names);
/// `ipvsadm -L --timeout`.
std::string format_timeouts(const Timeouts& timeouts);
/// `ipvsadm -L --daemon`.
std::string format_daemons(const std::vector<SyncDaemon>& daemons);
/// `ipvsadm -L -c` from the text of /proc/net/ip_vs_conn.
std::string format_connections(std::string_view proc_text, const ListFormat& format,
                               const NameLookup& names);

/// "[2001:db8::1]:53", "10.0.0.1:http" as ipvsadm's addrport_to_anyname.
std::string address_port_name(const Address& address, std::uint16_t port, Protocol protocol,
                              bool numeric, const NameLookup& names);

/// One row of /proc/net/ip_vs_conn.
struct Connection {
    std::string protocol;  ///< "TCP", "UDP", "SCTP", ...
    Address client, virtual_address, destination;
    std::uint16_t client_port = 0, virtual_port = 0, destination_port = 0;
    std::string state;
    std::uint32_t expires = 0;  ///< seconds
    std::string pe_name, pe_data;
};
std::vector<Connection> parse_connections(std::string_view proc_text);

}  // namespace ipvsctl::cli
