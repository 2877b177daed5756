#include "comsec/rpc/server_session.h"

#include <sys/socket.h>

#include <chrono>

namespace comsec::rpc::internal {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ServerSession::ServerSession(Server* server, asio::generic::stream_protocol::socket socket,
                             bool local, std::string address, std::string secondary_address)
    : server_(server),
      socket_(std::move(socket)),
      strand_(asio::make_strand(server->io_->context)),
      timer_(strand_),
      conn_(server->registry_, server->options_.limits, local, std::move(secondary_address)),
      local_(local),
      address_(std::move(address)) {}

ServerSession::~ServerSession() = default;

void ServerSession::Start() {
  // The descriptor's peer, as the kernel and the address family tell it.
  Socket view(socket_.native_handle());
  peer_ = view.PeerDescription();
  conn_.SetLoopback(!local_ && view.IsLoopbackPeer());
  if (auto peer = view.Peer()) {
    conn_.SetPeer(peer->uid, peer->gid, static_cast<uint32_t>(peer->pid));
  }
  view.Release();
  conn_.SetPeerDescription(peer_);
  conn_.SetLog(server_->options_.log);
  conn_.SetPackages(server_->options_.packages);
  conn_.AllowUnverifiedRequests(server_->options_.allow_unverified_requests);
  conn_.SetAssociationGroups(&server_->groups_);
  // An answer given on another thread comes back through the strand.
  std::weak_ptr<ServerSession> weak = weak_from_this();
  conn_.SetWake([weak] {
    if (auto self = weak.lock()) {
      asio::post(self->strand_, [self] { self->TakeAnswers(); });
    }
  });
  asio::post(strand_, [self = shared_from_this()] { self->WaitForFragment(); });
}

void ServerSession::Close() {
  asio::post(strand_, [self = shared_from_this()] { self->Finish(); });
}

std::string ServerSession::HandshakeLate() const {
  return (was_bound_ ? "authentication" : "bind") +
         std::string(" not completed within the handshake deadline of ") +
         std::to_string(server_->options_.handshake_timeout_ms) + " ms";
}

// ==== Reading ===============================================================
// Invariant: at most one read (wait, header or body) is outstanding, and
// the timer always bounds it: the handshake and idle deadlines while
// waiting for a fragment to begin, the fragment deadline once it has.

void ServerSession::WaitForFragment() {
  if (closing_ || closed_) return;
  const ServerOptions& o = server_->options_;
  const int64_t now = NowMs();
  if (conn_.bound() && !was_bound_) {
    was_bound_ = true;
    handshake_deadline_ = 0;
  }
  if (conn_.handshake_pending()) {
    if (handshake_deadline_ == 0) handshake_deadline_ = now + o.handshake_timeout_ms;
  } else {
    handshake_deadline_ = 0;
  }
  if (handshake_deadline_ != 0 && handshake_deadline_ - now <= o.idle_timeout_ms) {
    ArmTimer(handshake_deadline_, HandshakeLate());
  } else if (conn_.calls_in_progress() == 0) {
    ArmTimer(now + o.idle_timeout_ms, "idle for " + std::to_string(o.idle_timeout_ms) + " ms");
  } else {
    // Calls are being served: the client waits for us, not we for it.
    ++timer_generation_;
    timer_.cancel();
  }
  waiting_ = true;
  socket_.async_wait(
      asio::socket_base::wait_read,
      asio::bind_executor(strand_, [self = shared_from_this()](const asio::error_code& ec) {
        self->waiting_ = false;
        if (ec || self->closing_ || self->closed_) return self->Shutdown("");
        const ServerOptions& o = self->server_->options_;
        // A fragment has begun: it must end within the fragment deadline,
        // and never past the handshake's.
        const int64_t now = NowMs();
        int64_t wait = o.fragment_timeout_ms;
        bool handshake_bounds = false;
        if (self->handshake_deadline_ != 0 && self->handshake_deadline_ - now < wait) {
          wait = std::max<int64_t>(1, self->handshake_deadline_ - now);
          handshake_bounds = true;
        }
        self->ArmTimer(now + wait, handshake_bounds
                                       ? self->HandshakeLate()
                                       : "a fragment did not arrive whole within " +
                                             std::to_string(wait) + " ms");
        self->ReadHeader();
      }));
}

void ServerSession::ReadHeader() {
  asio::async_read(
      socket_, asio::buffer(header_),
      asio::bind_executor(strand_, [self = shared_from_this()](const asio::error_code& ec,
                                                              size_t) {
        if (ec || self->closed_) return self->Shutdown("");
        const bool little = (self->header_[4] & 0xF0) == 0x10;
        const size_t length = little ? (self->header_[8] | self->header_[9] << 8)
                                     : (self->header_[9] | self->header_[8] << 8);
        self->fragment_.assign(self->header_.begin(), self->header_.end());
        // A frag_length below the header's own is the protocol layer's to
        // answer: it gets the header alone.
        if (length <= self->header_.size()) return self->OnFragment();
        self->fragment_.resize(length);
        self->ReadBody();
      }));
}

void ServerSession::ReadBody() {
  asio::async_read(
      socket_, asio::buffer(fragment_.data() + header_.size(), fragment_.size() - header_.size()),
      asio::bind_executor(strand_, [self = shared_from_this()](const asio::error_code& ec,
                                                              size_t) {
        if (ec || self->closed_) return self->Shutdown("");
        self->OnFragment();
      }));
}

void ServerSession::OnFragment() {
  std::vector<std::vector<uint8_t>> out;
  const bool keep = conn_.OnFragment(fragment_, out);
  std::vector<uint8_t>().swap(fragment_);  // an idle connection holds no body
  Send(out);
  if (!keep) {
    if (server_->options_.log) {
      server_->options_.log("rpc: closing connection from " + peer_ + ": " + conn_.close_reason());
    }
    closing_ = true;
    ++timer_generation_;
    timer_.cancel();
    if (!writing_) Finish();
    return;
  }
  WaitForFragment();
}

void ServerSession::TakeAnswers() {
  if (closed_ || closing_) return;
  std::vector<std::vector<uint8_t>> out;
  conn_.TakeAnswers(out);
  Send(out);
  // The last call answered while we wait for the client: idleness counts
  // again.
  if (waiting_ && conn_.calls_in_progress() == 0 && handshake_deadline_ == 0) {
    const int idle = server_->options_.idle_timeout_ms;
    ArmTimer(NowMs() + idle, "idle for " + std::to_string(idle) + " ms");
  }
}

// ==== Writing and closing ===================================================

void ServerSession::Send(std::vector<std::vector<uint8_t>>& fragments) {
  for (auto& f : fragments) writes_.push_back(std::move(f));
  if (!writing_ && !writes_.empty()) WriteNext();
}

void ServerSession::WriteNext() {
  writing_ = true;
  asio::async_write(
      socket_, asio::buffer(writes_.front()),
      asio::bind_executor(strand_, [self = shared_from_this()](const asio::error_code& ec,
                                                              size_t) {
        if (ec || self->closed_) {
          // The buffer stays queued until the session goes: a write the
          // close did not abort may still be reading it.
          self->writing_ = false;
          return self->Finish();
        }
        self->writes_.pop_front();
        if (!self->writes_.empty()) return self->WriteNext();
        self->writing_ = false;
        if (self->closing_) self->Finish();
      }));
}

void ServerSession::ArmTimer(int64_t deadline_ms, std::string why) {
  const uint64_t generation = ++timer_generation_;
  timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, deadline_ms - NowMs())));
  timer_.async_wait([self = shared_from_this(), generation,
                     why = std::move(why)](const asio::error_code& ec) {
    if (ec || generation != self->timer_generation_ || self->closed_) return;
    self->Shutdown(why);
  });
}

void ServerSession::Shutdown(const std::string& why) {
  if (closed_) return;
  if (!why.empty() && server_->options_.log && !server_->stopping_) {
    server_->options_.log("rpc: closing connection from " + peer_ + ": " + why);
  }
  Finish();
}

void ServerSession::Finish() {
  if (closed_) return;
  closed_ = true;
  ++timer_generation_;
  timer_.cancel();
  asio::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  server_->Release(shared_from_this(), local_, address_);
}

}  // namespace comsec::rpc::internal
