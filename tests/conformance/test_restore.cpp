// SPDX-License-Identifier: GPL-2.0-or-later
// -R: parse everything, check everything, then (in the guest) apply.
#include <catch2/catch.hpp>

#include "ipvsctl/plan.hpp"
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

// ---- The fast path against parse_compat.

namespace {

/// Holds parse_restore_line_fast to the general parser on one line: when it
/// accepts, parse_compat must make the same single operation of the line.
/// Returns whether the fast path accepted.
bool fast_agrees(const std::string& line) {
    Operation fast;
    CompatCommand command = CompatCommand::None;
    const bool accepted = parse_restore_line_fast(line, fast, command);
    const auto general = parse_restore(line, numeric_names(), RestoreParser::General);
    const auto mixed = parse_restore(line, numeric_names(), RestoreParser::Fast);
    INFO("line: " << line);
    if (accepted) {
        REQUIRE(std::holds_alternative<RestoreSteps>(general));
        const auto& steps = std::get<RestoreSteps>(general);
        REQUIRE(steps.size() == 1);
        CHECK(identical(fast, steps.operations[0]));
        CHECK(command == steps.origins[0].command);
    }
    // Whole-text parses agree either way (same steps or the same message).
    REQUIRE(general.index() == mixed.index());
    if (const auto* problem = std::get_if<RestoreProblem>(&general)) {
        CHECK(problem->status == std::get<RestoreProblem>(mixed).status);
        CHECK(problem->message == std::get<RestoreProblem>(mixed).message);
    } else {
        const auto& a = std::get<RestoreSteps>(general);
        const auto& b = std::get<RestoreSteps>(mixed);
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            CHECK(identical(a.operations[i], b.operations[i]));
            CHECK(a.origins[i].line == b.origins[i].line);
            CHECK(a.origins[i].command == b.origins[i].command);
        }
    }
    return accepted;
}

/// A small deterministic generator (the test must be reproducible).
struct Lcg {
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    std::size_t below(std::size_t n) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>((state >> 33) % n);
    }
};

std::vector<std::string> words_of(const std::string& line) {
    return split_restore_line(line);
}

std::string joined(const std::vector<std::string>& words, const std::string& blank = " ") {
    std::string line;
    for (const auto& w : words) line += (line.empty() ? "" : blank) + w;
    return line;
}

}  // namespace

TEST_CASE("the fast path takes what -S prints", "[restore]") {
    // Every one of these must be taken by the fast path (so that the bench's
    // lines and -S output do not fall back) and agree with parse_compat.
    const std::vector<std::string> printed = {
        "-A -t 10.0.0.1:80 -s wrr",
        "-a -t 10.0.0.1:80 -r 10.1.0.1 -m -w 1",
        "-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1",
        "-A -u 192.168.1.254:53 -s rr -p 300",
        "-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0",
        "-A -t [2001:db8::1]:443 -s sh -p 60 -M 64 -b sh-fallback,sh-port",
        "-A --sctp-service 10.0.0.9:3868 -s mh -b mh-port",
        "-A -u 10.0.0.1:53 -s rr -o",
        "-A -t 10.0.0.1:5060 -s rr -p 360 --pe sip",
        "-A -f 7 -s wlc",
        "-A -f 4294967295 -6 -s wlc -p 360 -M 96",
        "-a -f 7 -r 10.1.0.2:0 -g -w 0",
        "-a -f 7 -6 -r [2001:db8::10]:80 -i -w 3 --tun-type ipip",
        "-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 5 --tun-type gue --tun-port 6080 --tun-csum",
        "-a -t 10.0.0.1:80 -r 10.1.0.4:80 -i -w 5 --tun-type gre --tun-nocsum",
        "-a -t 10.0.0.1:80 -r 10.1.0.5:80 -g -w 2147483647 -x 100 -y 10",
        "-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m -w 1",
        "-a -t [2001:db8::1]:443 -r 10.1.0.6:443 -i -w 1",
        "-E -t 10.0.0.1:80 -s rr",
        "-e -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 9",
        "  -A\t-t   10.0.0.1:80 -s rr \r",
    };
    for (const auto& line : printed) {
        INFO(line);
        CHECK(fast_agrees(line));
    }
}

TEST_CASE("the fast path agrees with parse_compat on a broad set of lines", "[restore]") {
    const std::vector<std::string> commands = {"-A", "-E", "-a", "-e", "-D", "-d", "-At"};
    const std::vector<std::string> services = {"-t 10.0.0.1:80",
                                               "-u 192.168.1.254:53",
                                               "--sctp-service 1.2.3.4:0",
                                               "-t [2001:db8::1]:443",
                                               "-u [::]:0",
                                               "-f 1",
                                               "-f 4294967295",
                                               "-f 4294967296",
                                               "-f 0",
                                               "-f 7 -6",
                                               "-f -1",
                                               "-f 007",
                                               "-t 10.0.0.1",
                                               "-t 010.0.0.1:80",
                                               "-t 10.0.0.1:65535",
                                               "-t 10.0.0.1:65536",
                                               "-t 10.1:80",
                                               "-t localhost:80",
                                               "-t 10.0.0.1:http",
                                               "-t [10.0.0.1]:80",
                                               "-t [::1]",
                                               "-t ::1",
                                               "-t 256.0.0.1:80",
                                               "-t 10.0.0.1:080",
                                               "-t 1.2.3.4:",
                                               "-t 0.0.0.0:0",
                                               "-t 255.255.255.255:1",
                                               "-t 1.2.3.4.5:80",
                                               "-t 1.2.3:80",
                                               "--tcp-service 10.0.0.1:80",
                                               "-t10.0.0.1:80",
                                               "-u [2001:db8::1]:53",
                                               "-t [2001:db8::1%eth0]:80",
                                               "-t 1.2.3.4:+80",
                                               "-t 1.2.3.4:80:90",
                                               "-6 -f 7",
                                               "-t 12",
                                               "-t [::ffff:1.2.3.4]:80"};
    const std::vector<std::string> service_options = {
        "",
        "-s rr",
        "-s wrr",
        "-s sh -b sh-fallback,sh-port",
        "-s mh -b mh-port",
        "-s mh -b mh-fallback,,",
        "-b flag-1,flag-2,flag-3",
        "-b sh-port",
        "-b ,",
        "-b nonsense",
        "-s sh -b sh-port,flag-3",
        "-p",
        "-p 300",
        "-p 0",
        "-p 1",
        "-p 2678400",
        "-p 2678401",
        "-p -s rr",
        "-p x",
        "-M 255.255.255.0",
        "-M 64",
        "-M 0",
        "-M 128",
        "-M 129",
        "-M 0xffffff00",
        "-M 255.255.0",
        "-p 60 -M 255.255.0.0",
        "--pe sip",
        "--pe averyveryverylongpename",
        "-o",
        "-o -o",
        "-s rr -s wlc",
        "-s averyveryverylongschedulername",
        "-s rr -p 60 -M 255.255.0.0 --pe sip -o -b flag-1",
        "-x 3",
        "-s",
        "-s -p",
        "--scheduler rr",
        "-6",
        "-s rr --json",
        "-s rr --netns foo",
        "-s rr extra",
        "-s rr -- -p",
        "-srr",
    };
    const std::vector<std::string> dest_options = {
        "-r 10.1.0.1",
        "-r 10.1.0.1:8080",
        "-r 10.1.0.1:0",
        "-r [2001:db8::2]:80",
        "-r [2001:db8::2]",
        "-r 10.1.0.1 -m",
        "-r 10.1.0.1 -i",
        "-r 10.1.0.1:99 -g",
        "-r 10.1.0.1:99 -i",
        "-r 10.1.0.1 -m -w 0",
        "-r 10.1.0.1 -m -w 2147483647",
        "-r 10.1.0.1 -m -w 2147483648",
        "-r 10.1.0.1 -m -w -1",
        "-r 10.1.0.1 -m -w +1",
        "-r 10.1.0.1 -m -w 1 -x 10 -y 5",
        "-r 10.1.0.1 -x 2147483648",
        "-r 10.1.0.1 -y 00012",
        "-r 10.1.0.1 -i --tun-type gue --tun-port 6080 --tun-csum",
        "-r 10.1.0.1 -i --tun-type gue --tun-port 6080",
        "-r 10.1.0.1 -i --tun-type gue --tun-port 6080 --tun-remcsum",
        "-r 10.1.0.1 -i --tun-type gue --tun-port 0",
        "-r 10.1.0.1 -i --tun-type gue --tun-port 65536",
        "-r 10.1.0.1 -i --tun-type gue",
        "-r 10.1.0.1 -i --tun-type gue --tun-port 5 --tun-csum --tun-remcsum",
        "-r 10.1.0.1 -i --tun-type gre --tun-nocsum",
        "-r 10.1.0.1 -i --tun-type gre --tun-remcsum",
        "-r 10.1.0.1 -i --tun-type gre --tun-port 1",
        "-r 10.1.0.1 -i --tun-type ipip",
        "-r 10.1.0.1 -i --tun-type ipip --tun-csum",
        "-r 10.1.0.1 -i --tun-type vxlan",
        "-r 10.1.0.1 -m --tun-type gre",
        "-r 10.1.0.1 -i --tun-csum",
        "-r 10.1.0.1 -g -m",
        "-r 10.1.0.1 -w 1 -w 2",
        "-r 10.1.0.1 -r 10.1.0.2",
        "-m -w 3",
        "-r",
        "-r -m",
        "-r 10.1.0.1 -w",
        "-r 10.1.0.1 -s rr",
        "-r localhost",
        "-r 10.1.0.1:http",
        "-r [10.1.0.1]:80",
        "-r 12",
        "--real-server 10.1.0.1",
        "-r10.1.0.1",
        "-r 10.1.0.1 -mw3",
        "-r 10.1.0.1 -m --weight 3",
    };
    std::vector<std::string> lines;
    for (const auto& command : commands)
        for (const auto& service : services) {
            const bool server = command == "-a" || command == "-e" || command == "-d";
            for (const auto& option : server ? dest_options : service_options)
                lines.push_back(command + " " + service + (option.empty() ? "" : " " + option));
        }
    // Options before the service, shuffled words, words dropped, repeated or
    // quoted, other blanks, and stray words from a pool.
    const std::vector<std::string> pool = {"-t",
                                           "-u",
                                           "-f",
                                           "-6",
                                           "-s",
                                           "-p",
                                           "-M",
                                           "-b",
                                           "-o",
                                           "-r",
                                           "-m",
                                           "-i",
                                           "-g",
                                           "-w",
                                           "-x",
                                           "-y",
                                           "--pe",
                                           "--tun-type",
                                           "--tun-port",
                                           "--tun-csum",
                                           "1",
                                           "0",
                                           "80",
                                           "rr",
                                           "10.0.0.1:80",
                                           "[::1]:80",
                                           "gue",
                                           "#",
                                           "''",
                                           "\"-A\"",
                                           "--",
                                           "-",
                                           "-A",
                                           "-a",
                                           "--netns",
                                           "x",
                                           "255.255.255.0",
                                           "4294967295",
                                           "65535"};
    Lcg random;
    const std::size_t base = lines.size();
    for (std::size_t n = 0; n < 20000; ++n) {
        auto words = words_of(lines[random.below(base)]);
        if (words.empty()) continue;
        const std::size_t edits = 1 + random.below(3);
        for (std::size_t e = 0; e < edits; ++e) {
            const std::size_t at = random.below(words.size());
            switch (random.below(6)) {
                case 0:
                    if (words.size() > 1) words.erase(words.begin() + static_cast<long>(at));
                    break;
                case 1:
                    std::swap(words[at], words[random.below(words.size())]);
                    break;
                case 2:
                    words.insert(words.begin() + static_cast<long>(at), words[at]);
                    break;
                case 3:
                    words.insert(words.begin() + static_cast<long>(at),
                                 pool[random.below(pool.size())]);
                    break;
                case 4:
                    words[at] = "'" + words[at] + "'";
                    break;
                default:
                    words.push_back(pool[random.below(pool.size())]);
                    break;
            }
        }
        lines.push_back(joined(words, random.below(4) == 0 ? " \t " : " "));
    }
    std::size_t accepted = 0;
    for (const auto& line : lines)
        if (fast_agrees(line)) ++accepted;
    // Not vacuous: a good share of the lines went through the fast path.
    CHECK(accepted > 900);
    CHECK(accepted < lines.size());

    // A whole text: the same steps, or the same first bad line, either way.
    std::string good;
    std::size_t good_lines = 0;
    for (const auto& line : lines)
        if (std::holds_alternative<RestoreSteps>(
                parse_restore(line, numeric_names(), RestoreParser::General))) {
            good += line + "\n";
            ++good_lines;
        }
    REQUIRE(good_lines > 1000);
    const auto general = parse_restore(good, numeric_names(), RestoreParser::General);
    const auto fast = parse_restore(good, numeric_names(), RestoreParser::Fast);
    REQUIRE(std::holds_alternative<RestoreSteps>(general));
    REQUIRE(std::holds_alternative<RestoreSteps>(fast));
    const auto& a = std::get<RestoreSteps>(general);
    const auto& b = std::get<RestoreSteps>(fast);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(identical(a.operations[i], b.operations[i]));
        CHECK(a.origins[i].line == b.origins[i].line);
        CHECK(a.origins[i].command == b.origins[i].command);
    }
    const std::string bad = good + "-a -t 10.0.0.1:80 -r 10.1.0.1 -w 2147483648\n" + good;
    const auto general_bad = parse_restore(bad, numeric_names(), RestoreParser::General);
    const auto fast_bad = parse_restore(bad, numeric_names(), RestoreParser::Fast);
    REQUIRE(std::holds_alternative<RestoreProblem>(fast_bad));
    CHECK(std::get<RestoreProblem>(fast_bad).message ==
          "line " + std::to_string(good_lines + 1) + ": illegal weight specified");
    CHECK(std::get<RestoreProblem>(fast_bad).message ==
          std::get<RestoreProblem>(general_bad).message);
}

TEST_CASE("validate_restore agrees with TableModel on random sequences", "[restore]") {
    const std::vector<std::string> services = {"-t 10.0.0.1:80", "-u 10.0.0.1:80",
                                               "-t [2001:db8::1]:80", "-f 7", "-f 7 -6"};
    const std::vector<std::string> servers = {"-r 10.1.0.1:80", "-r 10.1.0.2:80", "-r 10.1.0.1:81",
                                              "-r [2001:db8::2]:80 -i"};
    Lcg random;
    std::size_t refused = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        // A current table from the same universe.
        Table current;
        std::string start;
        for (const auto& service : services)
            if (random.below(3) == 0) {
                start += "-A " + service + "\n";
                for (const auto& server : servers)
                    if (random.below(2) == 0) start += "-a " + service + " " + server + "\n";
            }
        if (auto parsed = parse_restore(start, numeric_names());
            auto* steps = std::get_if<RestoreSteps>(&parsed)) {
            TableModel model;
            for (const auto& op : steps->operations)
                if (model.apply(op).ok()) {
                }
            current = model.table();
        }
        std::string text;
        const std::size_t lines = 1 + random.below(30);
        for (std::size_t l = 0; l < lines; ++l) {
            const auto& service = services[random.below(services.size())];
            const auto& server = servers[random.below(servers.size())];
            switch (random.below(9)) {
                case 0:
                    text += "-A " + service + "\n";
                    break;
                case 1:
                    text += "-E " + service + " -s rr\n";
                    break;
                case 2:
                    text += "-D " + service + "\n";
                    break;
                case 3:
                case 4:
                    text += "-a " + service + " " + server + "\n";
                    break;
                case 5:
                    text += "-e " + service + " " + server + " -w 3\n";
                    break;
                case 6:
                    text += "-d " + service + " " + server + "\n";
                    break;
                case 7:
                    text += random.below(2) ? "-Z " + service + "\n" : "-Z\n";
                    break;
                default:
                    text += random.below(4) ? "--set 1 2 3\n" : "-C\n";
                    break;
            }
        }
        auto parsed = parse_restore(text, numeric_names());
        const auto* steps = std::get_if<RestoreSteps>(&parsed);
        if (steps == nullptr) continue;  // e.g. a mixed-family real server without -i
        const auto fast = validate_restore(*steps, current);
        const auto model = validate_restore_with_model(*steps, current);
        INFO(start << "--\n" << text);
        REQUIRE(fast.has_value() == model.has_value());
        if (fast) {
            ++refused;
            CHECK(fast->status == model->status);
            CHECK(fast->message == model->message);
        }
    }
    CHECK(refused > 500);
}
