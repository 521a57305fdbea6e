// SPDX-License-Identifier: GPL-2.0-or-later
// HTTP_GET and SSL_GET: fetch each url over its own connection (or, with
// reuse_connection, over one kept between probes); healthy when every reply
// has an accepted status and, where configured, the digest.
// HTTP_GET drives its socket by hand; SSL_GET goes through Asio's TLS stream.
#include <openssl/ssl.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>

#include "healthcheck/http_response.hpp"
#include "healthcheck/session.hpp"
#include "socket_util.hpp"

namespace ipvsctl::healthcheck {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// A health-check reply usually fits in one read of this size.
constexpr std::size_t kReadChunk = 4 * 1024;

// A checker without a url fetches "/"; kept in the session's own spec
// rather than in a second copy of the checker.
ProbeSpec with_default_url(ProbeSpec spec) {
    const auto* shared = spec.details_if<config::HttpCheck>();
    if (shared != nullptr && !shared->urls.empty()) return spec;
    config::HttpCheck http = shared != nullptr ? *shared : config::HttpCheck{};
    http.urls.push_back(config::HttpUrl{{}, "/", {}, {}, {}});
    spec.set_details(std::move(http));
    return spec;
}

/// What HTTP_GET and SSL_GET share: the urls fetched in turn, the request,
/// and the verdict on each reply. A checker supplies the transport: fetch()
/// connects and sends request_, appends the reply to received_ and calls
/// on_received(); finish_connection() ends a connection whose reply is
/// judged; close_connection() aborts.
class HttpCheckBase : public ProbeSession {
  public:
    HttpCheckBase(asio::io_context& io, const ProbeSpec& spec)
        : ProbeSession(io, with_default_url(spec)),
          http_(std::get<config::HttpCheck>(*this->spec().details)),
          // Formatted once, not per probe (inet_ntop formats with sprintf).
          address_host_(config::address_port_string(this->spec().address, this->spec().port)) {}

  protected:
    // A whole probe fetches every url; each gets the connect timeout.
    [[nodiscard]] Duration deadline() const override {
        return spec().connect_timeout *
               static_cast<Duration::rep>(std::max<std::size_t>(1, http_.urls.size()));
    }

    void start_probe() override { fetch(generation(), 0); }

    void abort_probe() override {
        close_connection();  // cancels the pending operations before their buffers go
        release_buffers();
    }

    /// Connects for url `url_index` of probe `probe` and sends its request.
    virtual void fetch(std::uint64_t probe, std::size_t url_index) = 0;
    /// Closes the connection (with RST: by then the reply is read, or the
    /// probe has failed, and neither end keeps a TIME_WAIT per probe).
    virtual void close_connection() = 0;
    /// Done with the connection that carried `response`, a good reply.
    virtual void finish_connection(const http::Response& /*response*/) { close_connection(); }

    /// The probe's latency when the transport knows it better than the
    /// session's clock (replies read late, with their arrival time); zero
    /// when it does not.
    [[nodiscard]] virtual Duration reply_latency() const { return {}; }

    /// reuse_connection: one connection kept for the next url and probe.
    [[nodiscard]] bool keep_open() const { return http_.reuse_connection && !http_.tls; }

    /// Starts url `url_index`: remembers it and builds its request.
    void begin_url(std::size_t url_index) {
        url_index_ = url_index;
        received_.clear();
        const auto& url = http_.urls[url_index_];
        request_ = http::build_get_request(url.path, host_for(url),
                                           keep_open() ? "1.1" : http_.http_protocol, keep_open());
    }

    [[nodiscard]] std::string_view host_for(const config::HttpUrl& url) const {
        if (url.virtualhost) return *url.virtualhost;
        if (http_.virtualhost) return *http_.virtualhost;
        return address_host_;
    }

    /// Judges what received_ holds (`at_eof`: the peer closed); true when
    /// the reply is incomplete and more must be read.
    bool on_received(std::uint64_t probe, bool at_eof) {
        const auto parsed = http::parse_response(received_, at_eof);
        switch (parsed.status) {
            case http::ParseStatus::incomplete:
                return true;
            case http::ParseStatus::invalid:
                fail(probe, FailureReason::http_malformed, "reply: " + parsed.error);
                return false;
            case http::ParseStatus::complete:
                judge(probe, parsed.response);
                return false;
        }
        return false;
    }

    void fail(std::uint64_t probe, FailureReason reason, std::string detail) {
        close_connection();
        release_buffers();
        probe_finished(probe, {false, reason, std::move(detail), {}, {}, {}});
    }

    void fail(std::uint64_t probe, const error_code& ec, std::string_view step) {
        fail(probe, detail::classify(ec), std::string(step) + ": " + ec.message());
    }

    const config::HttpCheck& http_;  ///< in spec()
    const std::string address_host_;  ///< the Host header without a virtualhost
    std::size_t url_index_ = 0;
    std::string request_;
    std::string received_;

  private:
    // Between probes a session holds no buffers (10,000 idle targets would
    // otherwise keep them all).
    // (Swap, not `= {}`: moving an empty string in keeps the old allocation.)
    void release_buffers() {
        std::string().swap(received_);
        std::string().swap(request_);
    }

    void judge(std::uint64_t probe, const http::Response& response) {
        const auto& url = http_.urls[url_index_];
        if (!http::status_accepted(response.status, url.status_codes)) {
            return fail(probe, FailureReason::http_status,
                        url.path + ": status " + std::to_string(response.status));
        }
        if (url.digest) {
            const std::string digest = http::body_digest(response.body);
            if (!http::digest_matches(*url.digest, digest))
                return fail(probe, FailureReason::http_digest, url.path + ": digest " + digest);
        }
        finish_connection(response);
        if (url_index_ + 1 < http_.urls.size()) return fetch(probe, url_index_ + 1);
        release_buffers();
        probe_finished(probe, {true,
                               FailureReason::none,
                               "status " + std::to_string(response.status),
                               {},
                               reply_latency(),
                               {}});
    }
};

/// HTTP_GET over a socket driven by hand on the wake-up grid (kWakeGrid,
/// see ProbePoller::watch_on_grid): connect() when the probe starts, the
/// request on the next grid step, the reply read on a later one, when the
/// loop wakes anyway for the checks due then. The socket is in no epoll
/// set, so neither the handshake nor the reply wakes the loop; under
/// emulation that halved the daemon's CPU for HTTP_GET. The latency
/// comes from the kernel's receive time stamps (reply_latency). Only a
/// connect still pending after a step is watched by epoll. A socket
/// without bindto is not closed but disconnected and kept for a later
/// probe (see ProbePoller::retire): then a probe is connect, send, recvmsg
/// and connect(AF_UNSPEC). With reuse_connection a good reply keeps the
/// connection for the next probe: then a probe is a peek that it is
/// still open, send and recvmsg.
class PlainHttpCheck final : public HttpCheckBase, private detail::ProbePoller::Waiter {
  public:
    PlainHttpCheck(asio::io_context& io, const ProbeSpec& spec)
        : HttpCheckBase(io, spec), poller_(detail::ProbePoller::of(io)) {}
    ~PlainHttpCheck() override { close_connection(); }

  private:
    void fetch(std::uint64_t probe, std::size_t url_index) override {
        probe_ = probe;
        begin_url(url_index);
        sent_ = 0;
        if (url_index == 0) exchanges_ns_ = 0;
        if (fd_ >= 0 && kept_open()) {
            reused_ = true;
            connected_ = true;
            on_grid_ = true;
            reply_arrived_ns_ = 0;
            poller_.watch_on_grid(fd_, *this);
            request_sent_ns_ = realtime_ns();
            // What does not fit now is sent on the grid.
            if (const int error = send_rest(); error != 0 && error != EAGAIN) broken(error, "send");
            return;
        }
        close_connection();
        reused_ = false;
        connected_ = false;
        reply_arrived_ns_ = 0;
        fd_ = poolable() ? poller_.take_idle(family()) : -1;
        if (fd_ >= 0) {
            poller_.unregister(fd_);  // only a connect that was slow left it registered
        } else if (const int error = detail::open_probe_socket(spec(), fd_, true); error != 0) {
            return fail_soon(probe, error);
        }
        const int error = detail::connect_to_target(spec(), fd_);
        if (error != 0 && error != EINPROGRESS) return fail_soon(probe, error);
        // The request goes out on the next step of the grid, by when the
        // handshake is usually done; the reply is read on a later one.
        on_grid_ = true;
        poller_.watch_on_grid(fd_, *this);
    }

    /// Reports a failure to start from the loop, never from inside run().
    void fail_soon(std::uint64_t probe, int error) {
        asio::post(io(), [self = shared_from_this(), this, probe, error] {
            if (probe == generation()) fail(probe, system_error(error), "connect");
        });
    }

    void finish_connection(const http::Response& response) override {
        if (reply_arrived_ns_ > request_sent_ns_)
            exchanges_ns_ += reply_arrived_ns_ - request_sent_ns_;
        if (!keep_open() || !http::connection_reusable(response)) return close_connection();
        poller_.unregister(fd_);  // kept open for the next fetch(), out of the epoll set
    }

    /// From each request's send to its reply's arrival (the kernel's
    /// receive time stamp: replies are read on a grid step after), summed
    /// over the urls. The handshake is not in it: it completes between
    /// grid steps.
    [[nodiscard]] Duration reply_latency() const override {
        return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(exchanges_ns_));
    }

    static std::int64_t realtime_ns() {
        timespec now;
        ::clock_gettime(CLOCK_REALTIME, &now);
        return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
    }

    /// Whether the kept connection is still open with nothing unread: the
    /// server may have closed it while it was idle.
    [[nodiscard]] bool kept_open() const {
        char byte;
        return ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
               (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    /// The connection broke. A kept one may have been closed by the server
    /// just as the request went out; before any reply the request is sent
    /// again over a new connection (RFC 9112 section 9.3.1: GET is
    /// idempotent). Otherwise the probe fails.
    void broken(int error, std::string_view step) {
        if (reused_ && received_.empty()) {
            close_connection();
            return fetch(probe_, url_index_);  // connects: fd_ is closed
        }
        fail(probe_, system_error(error), step);
    }

    void close_connection() override {
        if (fd_ < 0) return;
        // Either way a reset (SO_LINGER {on, 0} since open_probe_socket).
        if (poolable())
            poller_.retire(fd_, family());
        else
            poller_.close(fd_);
        fd_ = -1;
    }

    /// A socket bound to nothing in particular can serve any target of its
    /// family after it: it goes back to the poller's idle sockets.
    [[nodiscard]] bool poolable() const { return !spec().bindto && !spec().bind_port; }
    [[nodiscard]] int family() const { return spec().address.is_v6() ? AF_INET6 : AF_INET; }

    /// One step of the grid: sends the request once connected, then reads.
    void on_grid_step() {
        if (sent_ < request_.size()) {
            if (sent_ == 0) request_sent_ns_ = realtime_ns();
            const int error = send_rest();
            // Sent: the reply is read on a later step. A full send buffer:
            // the next step resumes.
            if (error == 0 || (error == EAGAIN && connected_)) return;
            if (error != EAGAIN)
                return connected_ ? broken(error, "send")
                                  : fail(probe_, system_error(error), "connect");
            // Still connecting after a whole step: a slow or silent target.
            // Its connect's completion wakes the loop instead of a send per
            // step until the deadline.
            on_grid_ = false;
            const auto ec = poller_.watch_edges(fd_, EPOLLIN | EPOLLOUT, *this);
            if (ec) fail(probe_, ec, "connect");
            return;
        }
        read_available();
    }

    void on_ready(std::uint32_t events) override {
        const auto self = shared_from_this();  // `done` may drop the last owner
        if (on_grid_) return on_grid_step();
        if (!connected_) {
            if ((events & (EPOLLERR | EPOLLHUP)) != 0)
                return fail(probe_, system_error(detail::socket_error(fd_)), "connect");
            if ((events & EPOLLOUT) == 0) return;
            connected_ = true;
        }
        if (sent_ == 0) request_sent_ns_ = realtime_ns();
        if (sent_ < request_.size()) {
            const int error = send_rest();
            if (error == EAGAIN) return;  // a full send buffer: the next EPOLLOUT edge resumes
            if (error != 0) return broken(error, "send");
        }
        // Edge-triggered: what is readable now is reported only once.
        if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) read_available();
    }

    /// Sends what is left of the request: 0 once all of it is sent, EAGAIN
    /// when the socket takes no more for now (a full buffer, or a connect
    /// still pending), else the error. Any byte sent shows the connection up.
    int send_rest() {
        while (sent_ < request_.size()) {
            const ssize_t n =
                ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
            if (n >= 0) {
                connected_ = true;
                sent_ += static_cast<std::size_t>(n);
                continue;
            }
            if (errno == EINTR) continue;
            return errno == EWOULDBLOCK ? EAGAIN : errno;
        }
        return 0;
    }

    // Reads into the poller's scratch buffer and appends to received_,
    // until the reply is judged or the socket has nothing more for now.
    void read_available() {
        for (;;) {
            const auto [scratch, room] = poller_.read_scratch();
            const ssize_t n = receive(scratch, room);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return;  // more on a later step or edge
                return broken(errno, "read");
            }
            // A kept connection the server closed before any reply.
            if (n == 0 && received_.empty() && reused_) return broken(ECONNRESET, "read");
            received_.append(scratch, static_cast<std::size_t>(n));
            if (!on_received(probe_, n == 0)) return;
        }
    }

    /// recv(), and the arrival time of what it read (SO_TIMESTAMPNS).
    ssize_t receive(char* into, std::size_t room) {
        iovec buffer{into, room};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec))> control;
        msghdr message{};
        message.msg_iov = &buffer;
        message.msg_iovlen = 1;
        message.msg_control = control.data();
        message.msg_controllen = control.size();
        const ssize_t n = ::recvmsg(fd_, &message, 0);
        for (cmsghdr* header = CMSG_FIRSTHDR(&message); n > 0 && header != nullptr;
             header = CMSG_NXTHDR(&message, header)) {
            if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_TIMESTAMPNS) continue;
            timespec stamp;
            std::memcpy(&stamp, CMSG_DATA(header), sizeof stamp);
            reply_arrived_ns_ = std::int64_t{stamp.tv_sec} * 1'000'000'000 + stamp.tv_nsec;
        }
        return n;
    }

    static error_code system_error(int error) { return {error, boost::system::system_category()}; }

    detail::ProbePoller& poller_;
    int fd_ = -1;
    std::uint64_t probe_ = 0;
    std::size_t sent_ = 0;
    bool connected_ = false;
    bool reused_ = false;  ///< this fetch went over a kept connection
    bool on_grid_ = false;
    std::int64_t request_sent_ns_ = 0;  ///< CLOCK_REALTIME, as the kernel's stamps
    std::int64_t exchanges_ns_ = 0;     ///< see reply_latency()
    std::int64_t reply_arrived_ns_ = 0;
};

/// SSL_GET: HTTP over TLS through Asio's OpenSSL stream.
class TlsHttpCheck final : public HttpCheckBase {
  public:
    TlsHttpCheck(asio::io_context& io, const ProbeSpec& spec, const SessionOptions& options)
        : HttpCheckBase(io, spec), tls_context_(asio::ssl::context::tls_client) {
        tls_context_.set_options(asio::ssl::context::default_workarounds);
        if (options.tls_verify) {
            tls_context_.set_verify_mode(asio::ssl::verify_peer);
            if (options.ca_file.empty()) {
                tls_context_.set_default_verify_paths();
            } else {
                error_code ignored;
                tls_context_.load_verify_file(options.ca_file, ignored);
            }
            verify_ = true;
        } else {
            tls_context_.set_verify_mode(asio::ssl::verify_none);
        }
    }

  private:
    void close_connection() override {
        if (tls_) detail::close_with_reset(tls_->next_layer());
    }

    void fetch(std::uint64_t probe, std::size_t url_index) override {
        begin_url(url_index);
        tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io(), tls_context_);
        if (const auto ec = detail::open_socket(tls_->next_layer(), spec())) {
            asio::post(io(), [self = shared_from_this(), this, probe, ec] {
                if (probe == generation()) fail(probe, ec, "socket");
            });
            return;
        }
        tls_->next_layer().async_connect(
            detail::target_endpoint(spec()),
            [self = shared_from_this(), this, probe](const error_code& ec) {
                if (probe != generation()) return;
                if (ec) return fail(probe, ec, "connect");
                handshake(probe);
            });
    }

    void handshake(std::uint64_t probe) {
        SSL* ssl = tls_->native_handle();
        std::optional<std::string> server_name;
        if (http_.enable_sni) {
            server_name =
                http_.sni_name ? *http_.sni_name : std::string(host_for(http_.urls[url_index_]));
            // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
            SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     server_name->data());
        }
        if (verify_ && server_name) SSL_set1_host(ssl, server_name->c_str());
        tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(), this,
                                                               probe](const error_code& ec) {
            if (probe != generation()) return;
            if (ec) return fail(probe, FailureReason::tls, "TLS handshake: " + ec.message());
            send_request(probe);
        });
    }

    void send_request(std::uint64_t probe) {
        asio::async_write(
            *tls_, asio::buffer(request_),
            [self = shared_from_this(), this, probe](const error_code& ec, std::size_t) {
                if (probe != generation()) return;
                if (ec) return fail(probe, ec, "send");
                read_more(probe);
            });
    }

    // Reads straight into the tail of received_: one buffer per probe in
    // flight, sized for a small reply and grown only for a large one.
    void read_more(std::uint64_t probe) {
        const std::size_t kept = received_.size();
        received_.resize(std::max(received_.capacity(), kept + kReadChunk));
        const auto room = asio::buffer(received_.data() + kept, received_.size() - kept);
        tls_->async_read_some(room, [self = shared_from_this(), this, probe, kept](
                                        const error_code& ec, std::size_t n) {
            if (probe != generation()) return;
            received_.resize(kept + n);
            // A peer that closes without close_notify has still sent its reply.
            const bool at_eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
            if (ec && !at_eof) return fail(probe, ec, "read");
            if (on_received(probe, at_eof)) read_more(probe);
        });
    }

    asio::ssl::context tls_context_;
    bool verify_ = false;
    // On the heap, made per connection: an ssl::stream holds the SSL object.
    std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

}  // namespace

std::shared_ptr<ProbeSession> make_http_session(asio::io_context& io, const ProbeSpec& spec,
                                                const SessionOptions& options) {
    const auto* http = spec.details_if<config::HttpCheck>();
    // An SSL_CTX costs tens of KiB: plain HTTP_GET targets have none.
    if (http != nullptr && http->tls) return std::make_shared<TlsHttpCheck>(io, spec, options);
    return std::make_shared<PlainHttpCheck>(io, spec);
}

}  // namespace ipvsctl::healthcheck
