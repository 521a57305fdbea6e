// SPDX-License-Identifier: GPL-2.0-or-later
// Reads Debian's ipvsadm output back into comparable records, so that guest
// tests can check what libipvsctl programmed through an independent tool.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "guest_util.hpp"
#include "ipvsctl/types.hpp"

namespace guest {

struct SavedDestination {
    std::string method;  ///< "-g", "-i" or "-m"
    int weight = -1;
    std::string tunnel_type;  ///< "ipip", "gue", "gre" or empty
    int tunnel_port = 0;
    std::string tunnel_checksum;  ///< "--tun-csum", "--tun-remcsum", "--tun-nocsum" or empty
};

struct SavedService {
    std::string scheduler;
    int persistence = -1;  ///< -1 when not persistent
    std::string netmask;
    bool one_packet = false;
    std::string sched_flags;
    std::string pe;
    std::map<std::string, SavedDestination> destinations;  ///< by "addr:port"
};

/// The service as ipvsadm -S names it: "-t 10.0.0.1:80", "-f 7 -6".
inline std::string save_key(const ipvsctl::ServiceKey& key) {
    using ipvsctl::Protocol;
    if (key.is_fwmark())
        return "-f " + std::to_string(key.fwmark) +
               (key.family == ipvsctl::Family::Inet6 ? " -6" : "");
    const std::string flag = key.protocol == Protocol::TCP   ? "-t"
                             : key.protocol == Protocol::UDP ? "-u"
                                                             : "--sctp-service";
    const std::string addr =
        key.address.is_v6() ? "[" + key.address.to_string() + "]" : key.address.to_string();
    return flag + " " + addr + ":" + std::to_string(key.port);
}

/// Parses `ipvsadm -S -n`; throws on any token it does not understand, so
/// that a format change cannot pass unnoticed.
inline std::map<std::string, SavedService> parse_save(const std::string& text) {
    std::map<std::string, SavedService> services;
    for (const auto& line : split_lines(text)) {
        const auto w = split_words(line);
        if (w.empty()) continue;
        std::size_t i = 1;
        std::string key = w.at(i) + " " + w.at(i + 1);
        i += 2;
        if (w.at(1) == "-f" && i < w.size() && w[i] == "-6") {
            key += " -6";
            ++i;
        }
        if (w[0] == "-A") {
            SavedService& s = services[key];
            for (; i < w.size(); ++i) {
                if (w[i] == "-s")
                    s.scheduler = w.at(++i);
                else if (w[i] == "-p")
                    s.persistence = std::stoi(w.at(++i));
                else if (w[i] == "-M")
                    s.netmask = w.at(++i);
                else if (w[i] == "-o")
                    s.one_packet = true;
                else if (w[i] == "-b")
                    s.sched_flags = w.at(++i);
                else if (w[i] == "--pe")
                    s.pe = w.at(++i);
                else
                    throw std::runtime_error("unknown -A token '" + w[i] + "' in: " + line);
            }
        } else if (w[0] == "-a") {
            if (w.at(i) != "-r") throw std::runtime_error("no -r in: " + line);
            SavedDestination& d = services.at(key).destinations[w.at(i + 1)];
            for (i += 2; i < w.size(); ++i) {
                if (w[i] == "-g" || w[i] == "-i" || w[i] == "-m")
                    d.method = w[i];
                else if (w[i] == "-w")
                    d.weight = std::stoi(w.at(++i));
                else if (w[i] == "--tun-type")
                    d.tunnel_type = w.at(++i);
                else if (w[i] == "--tun-port")
                    d.tunnel_port = std::stoi(w.at(++i));
                else if (w[i] == "--tun-csum" || w[i] == "--tun-remcsum" || w[i] == "--tun-nocsum")
                    d.tunnel_checksum = w[i];
                else
                    throw std::runtime_error("unknown -a token '" + w[i] + "' in: " + line);
            }
        } else {
            throw std::runtime_error("unknown save line: " + line);
        }
    }
    return services;
}

/// Rows of `ipvsadm -L -n <modifier>` below a service, by "addr:port".
inline std::map<std::string, std::vector<std::string>> destination_rows(const std::string& text) {
    std::map<std::string, std::vector<std::string>> rows;
    for (const auto& line : split_lines(text)) {
        auto w = split_words(line);
        if (w.size() >= 2 && w[0] == "->" && w[1] != "RemoteAddress:Port") {
            const std::string key = w[1];
            rows[key] = std::vector<std::string>(w.begin() + 2, w.end());
        }
    }
    return rows;
}

/// Service rows of `ipvsadm -L -n --stats --exact`, by "TCP 10.0.0.1:80".
inline std::map<std::string, std::vector<std::string>> service_rows(const std::string& text) {
    std::map<std::string, std::vector<std::string>> rows;
    for (const auto& line : split_lines(text)) {
        auto w = split_words(line);
        if (w.size() >= 2 && (w[0] == "TCP" || w[0] == "UDP" || w[0] == "SCTP" || w[0] == "FWM")) {
            std::size_t next = 2;
            std::string key = w[0] + " " + w[1];
            if (w[0] == "FWM" && w.size() > 2 && w[2] == "IPv6") {
                key += " IPv6";
                next = 3;
            }
            rows[key] = std::vector<std::string>(w.begin() + static_cast<long>(next), w.end());
        }
    }
    return rows;
}

}  // namespace guest
