// SPDX-License-Identifier: GPL-2.0-or-later
// -R: parse everything, check everything, then (in the guest) apply.
#include <catch2/catch.hpp>

#include "restore.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

TEST_CASE("restore lines become operations", "[restore]") {
    const std::string text =
        "-A -t 10.0.0.1:80 -s rr\n"
        "\n"
        "# a comment\n"
        "-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 3\n"
        "--set 10 20 30\n"
        "-A -f 7 -6 -s mh -b mh-port\n";
    auto parsed = parse_restore(text, numeric_names());
    REQUIRE(std::holds_alternative<RestoreSteps>(parsed));
    const auto& steps = std::get<RestoreSteps>(parsed);
    REQUIRE(steps.size() == 4);
    CHECK(steps.origins[0].line == 1);
    CHECK(steps.operations[0].kind == OpKind::AddService);
    CHECK(steps.origins[1].line == 4);
    CHECK(steps.operations[1].kind == OpKind::AddDestination);
    CHECK(steps.operations[1].destination.weight == 3);
    CHECK(steps.operations[2].kind == OpKind::SetTimeouts);
    CHECK(steps.operations[3].service.key == ServiceKey::mark(7, Family::Inet6));
    CHECK_FALSE(validate_restore(steps, Table{}).has_value());
}

TEST_CASE("a bad line 5000 is reported before anything is applied", "[restore]") {
    std::string text;
    for (int i = 0; i < 4999; ++i)
        text +=
            "-A -t 10.5." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":80\n";
    auto good = parse_restore(text, numeric_names());
    REQUIRE(std::holds_alternative<RestoreSteps>(good));
    auto parsed = parse_restore(text + "-A -t 10.9.9.9:80 -x 3\n", numeric_names());
    REQUIRE(std::holds_alternative<RestoreProblem>(parsed));
    const auto& problem = std::get<RestoreProblem>(parsed);
    CHECK(problem.status == 2);
    CHECK(problem.message ==
          "line 5000: Illegal 'u-threshold' option with the 'add-service' command");

    auto listing = parse_restore("-L -n\n", numeric_names());
    REQUIRE(std::holds_alternative<RestoreProblem>(listing));
    CHECK(std::get<RestoreProblem>(listing).message.rfind("line 1: ", 0) == 0);
}

TEST_CASE("conflicts with the current table are found in memory", "[restore]") {
    Table current;
    ServiceEntry entry;
    entry.service.key = ServiceKey::tcp(*Address::parse("10.0.0.1"), 80);
    current.services.push_back(entry);

    auto parsed = parse_restore("-A -t 10.0.0.2:80\n-A -t 10.0.0.1:80\n", numeric_names());
    auto problem = validate_restore(std::get<RestoreSteps>(parsed), current);
    REQUIRE(problem.has_value());
    CHECK(problem->status == 255);
    CHECK(problem->message == "line 2: Service already exists");

    parsed = parse_restore("-d -t 10.0.0.1:80 -r 10.1.0.1\n", numeric_names());
    problem = validate_restore(std::get<RestoreSteps>(parsed), current);
    REQUIRE(problem.has_value());
    CHECK(problem->message == "line 1: No such destination");

    parsed = parse_restore("-C\n-A -t 10.0.0.1:80\n", numeric_names());
    CHECK_FALSE(validate_restore(std::get<RestoreSteps>(parsed), current).has_value());
}

TEST_CASE("restore lines split like ipvsadm's", "[restore]") {
    CHECK(split_restore_line("  -A\t-t  10.0.0.1:80 ") ==
          std::vector<std::string>{"-A", "-t", "10.0.0.1:80"});
    CHECK(split_restore_line("-A -t \"10.0.0.1:80\" -s 'rr'") ==
          std::vector<std::string>{"-A", "-t", "10.0.0.1:80", "-s", "rr"});
    // Reusing the words of a longer line.
    std::vector<std::string> words{"-a", "-t", "10.0.0.1:80", "-r", "10.1.0.1", "-w", "3"};
    split_restore_line("'' -A  x", words);
    CHECK(words == std::vector<std::string>{"", "-A", "x"});
    split_restore_line("  ", words);
    CHECK(words.empty());
}
