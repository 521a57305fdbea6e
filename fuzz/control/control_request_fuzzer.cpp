// SPDX-License-Identifier: GPL-2.0-or-later
// The control socket's request decoding (common/control) over arbitrary bytes,
// with a handler that reads fields the way the daemons' handlers do.
#include "control/server.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

nlohmann::json handle(const nlohmann::json& request) {
    const auto command = request.value("command", std::string());
    if (command == "drain")
        return {{"ok", true},
                {"service", request.value("service", std::string())},
                {"timeout", request.value("timeout", 0)}};
    // Echo what came in, so replies carry whatever bytes the request did.
    return {{"ok", false}, {"error", "unknown command '" + command + "'"}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const std::string reply = ipvsctl::control::answer(handle, line);
    // Whatever came in, the reply is one line holding a JSON object with "ok".
    if (reply.find('\n') != std::string::npos) __builtin_trap();
    const auto parsed = nlohmann::json::parse(reply, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("ok") || !parsed["ok"].is_boolean())
        __builtin_trap();
    return 0;
}
