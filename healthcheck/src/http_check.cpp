// SPDX-License-Identifier: GPL-2.0-or-later
// HTTP_GET and SSL_GET: fetch each url over its own connection; healthy when
// every reply has an accepted status and, where configured, the digest.
#include <openssl/ssl.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

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

class HttpCheck final : public ProbeSession {
  public:
    HttpCheck(asio::io_context& io, const ProbeSpec& spec, const SessionOptions& options)
        : ProbeSession(io, with_default_url(spec)),
          http_(std::get<config::HttpCheck>(*this->spec().details)) {
        if (http_.tls) {
            // An SSL_CTX costs tens of KiB: plain HTTP_GET targets have none.
            tls_context_.emplace(asio::ssl::context::tls_client);
            tls_context_->set_options(asio::ssl::context::default_workarounds);
            if (options.tls_verify) {
                tls_context_->set_verify_mode(asio::ssl::verify_peer);
                if (options.ca_file.empty()) {
                    tls_context_->set_default_verify_paths();
                } else {
                    error_code ignored;
                    tls_context_->load_verify_file(options.ca_file, ignored);
                }
                verify_ = true;
            } else {
                tls_context_->set_verify_mode(asio::ssl::verify_none);
            }
        }
    }

  protected:
    // A whole probe fetches every url; each gets the connect timeout.
    [[nodiscard]] Duration deadline() const override {
        return spec().connect_timeout *
               static_cast<Duration::rep>(std::max<std::size_t>(1, http_.urls.size()));
    }

    void start_probe() override { fetch(generation(), 0); }

    void abort_probe() override {
        close();  // cancels the pending operations before their buffers go
        release_buffers();
    }

  private:
    // A checker without a url fetches "/"; kept in the session's own spec
    // rather than in a second copy of the checker.
    static ProbeSpec with_default_url(ProbeSpec spec) {
        const auto* shared = spec.details_if<config::HttpCheck>();
        if (shared != nullptr && !shared->urls.empty()) return spec;
        config::HttpCheck http = shared != nullptr ? *shared : config::HttpCheck{};
        http.urls.push_back(config::HttpUrl{{}, "/", {}, {}, {}});
        spec.set_details(std::move(http));
        return spec;
    }

    // Every close aborts with RST: by then the reply is read (or the probe
    // has failed), and neither end keeps a TIME_WAIT per probe.
    void close() {
        if (tls_) detail::close_with_reset(tls_->next_layer());
        if (plain_) detail::close_with_reset(*plain_);
    }

    tcp::socket& lowest() { return tls_ ? tls_->next_layer() : *plain_; }

    std::string host_for(const config::HttpUrl& url) const {
        if (url.virtualhost) return *url.virtualhost;
        if (http_.virtualhost) return *http_.virtualhost;
        return config::address_port_string(spec().address, spec().port);
    }

    // Between probes a session holds no buffers (10,000 idle targets would
    // otherwise keep them all).
    // (Swap, not `= {}`: moving an empty string in keeps the old allocation.)
    void release_buffers() {
        std::string().swap(received_);
        std::string().swap(request_);
    }

    void fail(std::uint64_t probe, FailureReason reason, std::string detail) {
        close();
        release_buffers();
        probe_finished(probe, {false, reason, std::move(detail), {}, {}, {}});
    }

    void fetch(std::uint64_t probe, std::size_t url_index) {
        url_index_ = url_index;
        received_.clear();
        tls_.reset();
        plain_.reset();
        if (http_.tls) {
            tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io(), *tls_context_);
        } else {
            plain_.emplace(io());
        }
        if (const auto ec = detail::open_socket(lowest(), spec())) {
            asio::post(io(), [self = shared_from_this(), this, probe, ec] {
                fail(probe, detail::classify(ec), "socket: " + ec.message());
            });
            return;
        }
        lowest().async_connect(detail::target_endpoint(spec()), [self = shared_from_this(), this,
                                                                 probe](const error_code& ec) {
            if (probe != generation()) return;
            if (ec) return fail(probe, detail::classify(ec), "connect: " + ec.message());
            if (tls_) return handshake(probe);
            send_request(probe);
        });
    }

    void handshake(std::uint64_t probe) {
        SSL* ssl = tls_->native_handle();
        std::optional<std::string> server_name;
        if (http_.enable_sni) {
            server_name = http_.sni_name ? *http_.sni_name : host_for(http_.urls[url_index_]);
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
        const auto& url = http_.urls[url_index_];
        request_ = http::build_get_request(url.path, host_for(url), http_.http_protocol);
        auto on_sent = [self = shared_from_this(), this, probe](const error_code& ec, std::size_t) {
            if (probe != generation()) return;
            if (ec) return fail(probe, detail::classify(ec), "send: " + ec.message());
            read_more(probe);
        };
        if (tls_) {
            asio::async_write(*tls_, asio::buffer(request_), std::move(on_sent));
        } else {
            asio::async_write(*plain_, asio::buffer(request_), std::move(on_sent));
        }
    }

    // Reads straight into the tail of received_: one buffer per probe in
    // flight, sized for a small reply and grown only for a large one.
    void read_more(std::uint64_t probe) {
        const std::size_t kept = received_.size();
        received_.resize(std::max(received_.capacity(), kept + kReadChunk));
        const auto room = asio::buffer(received_.data() + kept, received_.size() - kept);
        auto on_read = [self = shared_from_this(), this, probe, kept](const error_code& ec,
                                                                      std::size_t n) {
            if (probe != generation()) return;
            received_.resize(kept + n);
            // A peer that closes without close_notify has still sent its reply.
            const bool at_eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
            if (ec && !at_eof) return fail(probe, detail::classify(ec), "read: " + ec.message());
            const auto parsed = http::parse_response(received_, at_eof);
            switch (parsed.status) {
                case http::ParseStatus::incomplete:
                    return read_more(probe);
                case http::ParseStatus::invalid:
                    return fail(probe, FailureReason::http_malformed, "reply: " + parsed.error);
                case http::ParseStatus::complete:
                    return judge(probe, parsed.response);
            }
        };
        if (tls_) {
            tls_->async_read_some(room, std::move(on_read));
        } else {
            plain_->async_read_some(room, std::move(on_read));
        }
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
        close();
        if (url_index_ + 1 < http_.urls.size()) return fetch(probe, url_index_ + 1);
        release_buffers();
        probe_finished(
            probe,
            {true, FailureReason::none, "status " + std::to_string(response.status), {}, {}, {}});
    }

    const config::HttpCheck& http_;  ///< in spec()
    std::optional<asio::ssl::context> tls_context_;
    bool verify_ = false;
    std::optional<tcp::socket> plain_;
    // On the heap: an idle ssl::stream is hundreds of bytes, and plain
    // HTTP_GET sessions (most of them) never have one.
    std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
    std::size_t url_index_ = 0;
    std::string request_;
    std::string received_;
};

}  // namespace

std::shared_ptr<ProbeSession> make_http_session(asio::io_context& io, const ProbeSpec& spec,
                                                const SessionOptions& options) {
    return std::make_shared<HttpCheck>(io, spec, options);
}

}  // namespace ipvsctl::healthcheck
