// SPDX-License-Identifier: GPL-2.0-or-later
// The weight agent of dynamic_weight agent, as HAProxy's agent-check: the
// real server answers a TCP connection with one line ("75%\n") and closes.
#include <boost/asio/read.hpp>

#include <array>

#include "healthcheck/session.hpp"
#include "socket_util.hpp"

namespace ipvsctl::healthcheck {
namespace {

constexpr std::size_t kMaxReply = 512;

class AgentCheck final : public ProbeSession {
  public:
    AgentCheck(boost::asio::io_context& io, const ProbeSpec& spec)
        : ProbeSession(io, spec), socket_(io) {}

  protected:
    void start_probe() override {
        const std::uint64_t probe = generation();
        socket_ = boost::asio::ip::tcp::socket(io());
        reply_.clear();
        if (const auto ec = detail::open_socket(socket_, spec())) {
            boost::asio::post(io(), [self = shared_from_this(), this, probe, ec] {
                fail(probe, detail::classify(ec), ec.message());
            });
            return;
        }
        socket_.async_connect(
            detail::target_endpoint(spec()),
            [self = shared_from_this(), this, probe](const boost::system::error_code& ec) {
                if (probe != generation()) return;
                if (ec) return fail(probe, detail::classify(ec), ec.message());
                read(probe);
            });
    }

    void abort_probe() override {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

  private:
    void read(std::uint64_t probe) {
        socket_.async_read_some(
            boost::asio::buffer(buffer_), [self = shared_from_this(), this, probe](
                                              const boost::system::error_code& ec, std::size_t n) {
                if (probe != generation()) return;
                reply_.append(buffer_.data(), n);
                const bool line = reply_.find('\n') != std::string::npos;
                if (!ec && !line && reply_.size() < kMaxReply) return read(probe);
                if (ec && ec != boost::asio::error::eof && reply_.empty())
                    return fail(probe, detail::classify(ec), ec.message());
                boost::system::error_code ignored;
                socket_.close(ignored);
                const std::string first_line = reply_.substr(0, reply_.find_first_of("\r\n"));
                ProbeOutcome outcome;
                outcome.agent = parse_agent_reply(reply_);
                outcome.success = outcome.agent.has_value();
                outcome.reason = outcome.success ? FailureReason::none : FailureReason::network;
                outcome.detail = "agent said '" + first_line + "'";
                probe_finished(probe, std::move(outcome));
            });
    }

    void fail(std::uint64_t probe, FailureReason reason, std::string detail) {
        boost::system::error_code ignored;
        socket_.close(ignored);
        ProbeOutcome outcome;
        outcome.reason = reason;
        outcome.detail = std::move(detail);
        probe_finished(probe, std::move(outcome));
    }

    boost::asio::ip::tcp::socket socket_;
    std::array<char, kMaxReply> buffer_{};
    std::string reply_;
};

}  // namespace

std::shared_ptr<ProbeSession> make_agent_session(boost::asio::io_context& io,
                                                 const ProbeSpec& spec) {
    return std::make_shared<AgentCheck>(io, spec);
}

}  // namespace ipvsctl::healthcheck
