// SPDX-License-Identifier: LGPL-2.1-or-later
#include <cstring>

#include "ipvsctl/result.hpp"

namespace ipvsctl {

std::string Error::message() const {
    std::string text = operation;
    if (!object.empty()) text += (text.empty() ? "" : " ") + object;
    if (!text.empty()) text += ": ";
    if (!detail.empty())
        text += detail;
    else if (errnum != 0)
        text += std::strerror(errnum);
    else
        text += "failed";
    if (request_index) text += " (request " + std::to_string(*request_index + 1) + " of the batch)";
    return text;
}

namespace {
bool starts_with(const std::string& text, std::string_view prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

/// What an errno means for an IPVS request, per the kernel's ip_vs_ctl.c.
std::string ipvs_meaning(int errnum, const std::string& operation) {
    const bool on_service = operation.find("service") != std::string::npos;
    const bool on_dest = operation.find("destination") != std::string::npos;
    const bool on_daemon = operation.find("daemon") != std::string::npos;
    switch (errnum) {
        case EPERM:
            return "permission denied (CAP_NET_ADMIN is needed)";
        case ESRCH:
            if (on_daemon) return "no such sync daemon is running";
            return "service does not exist";
        case EEXIST:
            if (on_dest) return "destination already exists";
            if (on_daemon) return "sync daemon already running";
            if (on_service) return "service already exists";
            break;
        case ENOENT:
            if (on_dest) return "destination does not exist";
            if (starts_with(operation, "add service") || starts_with(operation, "edit service"))
                return "scheduler or persistence engine not found";
            break;
        case EBUSY:
            if (on_daemon) return "sync daemon is busy or already running";
            break;
        case ERANGE:
            if (on_dest) return "lower threshold is above the upper threshold";
            break;
        case ENOMEM:
            return "kernel memory allocation failed";
        case EAFNOSUPPORT:
            return "address family not supported";
        case EINVAL:
            return "invalid argument";
        default:
            break;
    }
    return std::strerror(errnum);
}
}  // namespace

Error make_error(int errnum, std::string operation, std::string object, std::string detail) {
    Error error;
    error.errnum = errnum;
    if (detail.empty() && errnum != 0) detail = ipvs_meaning(errnum, operation);
    error.operation = std::move(operation);
    error.object = std::move(object);
    error.detail = std::move(detail);
    return error;
}

}  // namespace ipvsctl
