// SPDX-License-Identifier: GPL-2.0-or-later
// TCP_CHECK: healthy when a TCP connection is established.
#include "healthcheck/session.hpp"
#include "socket_util.hpp"

namespace ipvsctl::healthcheck {
namespace {

class TcpCheck final : public ProbeSession {
  public:
    TcpCheck(boost::asio::io_context& io, const ProbeSpec& spec)
        : ProbeSession(io, spec), socket_(io) {}

  protected:
    void start_probe() override {
        const std::uint64_t probe = generation();
        socket_ = boost::asio::ip::tcp::socket(io());
        if (const auto ec = detail::open_socket(socket_, spec())) {
            // Report from the loop, never from inside run().
            boost::asio::post(io(), [self = shared_from_this(), this, probe, ec] {
                probe_finished(probe, {false, detail::classify(ec), ec.message(), {}, {}, {}});
            });
            return;
        }
        socket_.async_connect(
            detail::target_endpoint(spec()),
            [self = shared_from_this(), this, probe](const boost::system::error_code& ec) {
                if (probe != generation()) return;  // aborted
                if (ec) {
                    boost::system::error_code ignored;
                    socket_.close(ignored);
                    probe_finished(probe, {false, detail::classify(ec), ec.message(), {}, {}, {}});
                } else {
                    // Up once connected (TCP_CHECK); the connection is then aborted.
                    detail::close_with_reset(socket_);
                    probe_finished(probe, {true, FailureReason::none, "connected", {}, {}, {}});
                }
            });
    }

    void abort_probe() override {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

  private:
    boost::asio::ip::tcp::socket socket_;
};

}  // namespace

std::shared_ptr<ProbeSession> make_tcp_session(boost::asio::io_context& io, const ProbeSpec& spec) {
    return std::make_shared<TcpCheck>(io, spec);
}

}  // namespace ipvsctl::healthcheck
