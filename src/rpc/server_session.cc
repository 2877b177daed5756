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
      executor_(static_cast<asio::io_context&>(socket_.get_executor().context()).get_executor()),
      timer_(executor_),
      conn_(server->registry_, server->options_.limits, local, std::move(secondary_address)),
      local_(local),
      address_(std::move(address)) {}

ServerSession::~ServerSession() = default;

void ServerSession::Start() {
  asio::error_code ignored;
  socket_.non_blocking(true, ignored);
  // The descriptor's peer, as the kernel and the address family tell it.
  Socket view(socket_.native_handle());
  peer_ = view.PeerDescription();
  conn_.SetEndpoints(view.LocalEndpoint(), view.PeerEndpoint());
  conn_.SetLoopback(!local_ && view.IsLoopbackPeer());
  if (auto peer = view.Peer()) {
    conn_.SetPeer(peer->uid, peer->gid, static_cast<uint32_t>(peer->pid));
  }
  view.Release();
  conn_.SetPeerDescription(peer_);
  conn_.SetLogger(server_->options_.logger);
  conn_.SetPackages(server_->options_.packages);
  conn_.AllowUnverifiedRequests(server_->options_.allow_unverified_requests);
  conn_.SetAssociationGroups(&server_->groups_);
  // An answer given on another thread comes back through the loop.
  std::weak_ptr<ServerSession> weak = weak_from_this();
  conn_.SetWake([weak] {
    if (auto self = weak.lock()) {
      asio::post(self->executor_, [self] { self->TakeAnswers(); });
    }
  });
  asio::post(executor_, [self = shared_from_this()] { self->WaitForFragment(); });
}

void ServerSession::Close() {
  asio::post(executor_, [self = shared_from_this()] { self->Finish(); });
}

void ServerSession::LogClosed(const std::string& why) {
  const ServerOptions& o = server_->options_;
  if (o.logger) {
    o.logger->Log(LogEvent("rpc.connection_closed", LogSeverity::kNotice,
                           "closing connection from " + peer_ + ": " + why)
                      .Peer(peer_)
                      .Reason(why));
  }
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
    SetDeadline(handshake_deadline_, Deadline::kHandshake);
  } else if (conn_.calls_in_progress() == 0) {
    SetDeadline(now + o.idle_timeout_ms, Deadline::kIdle);
  } else {
    // Calls are being served: the client waits for us, not we for it.
    ClearDeadline();
  }
  AwaitReadable();
}

void ServerSession::AwaitReadable() {
  waiting_ = partial_.empty();
  // A receive rather than a readiness wait: the reactor reads when the
  // socket becomes readable, without re-arming its registration.
  socket_.async_receive(
      asio::buffer(inbox_), [self = shared_from_this()](const asio::error_code& ec, size_t n) {
        self->waiting_ = false;
        if (ec || self->closing_ || self->closed_) return self->Shutdown("");
        if (!self->Consume(std::span<const uint8_t>(self->inbox_.data(), n))) return;
        // A full inbox may have left bytes in the socket.
        if (n == self->inbox_.size() && !self->ReadAvailable()) return;
        if (self->partial_.empty()) {
          self->WaitForFragment();
        } else {
          self->AwaitReadable();  // the fragment deadline runs meanwhile
        }
      });
}

void ServerSession::ArmFragmentDeadline() {
  // A fragment has begun: it must end within the fragment deadline, and
  // never past the handshake's.
  const ServerOptions& o = server_->options_;
  const int64_t now = NowMs();
  int64_t wait = o.fragment_timeout_ms;
  if (handshake_deadline_ != 0 && handshake_deadline_ - now < wait) {
    SetDeadline(now + std::max<int64_t>(1, handshake_deadline_ - now), Deadline::kHandshake);
  } else {
    SetDeadline(now + wait, Deadline::kFragment, wait);
  }
}

namespace {

// A fragment's length from its header (a frag_length below the header's
// own is the protocol layer's to answer: it gets the header alone).
size_t FragmentLength(std::span<const uint8_t> header) {
  const bool little = (header[4] & 0xF0) == 0x10;
  const size_t length = little ? (header[8] | header[9] << 8) : (header[9] | header[8] << 8);
  return std::max<size_t>(length, 16);
}

}  // namespace

bool ServerSession::Consume(std::span<const uint8_t> data) {
  while (!data.empty()) {
    if (!partial_.empty()) {
      const size_t want = partial_.size() < 16 ? 16 - partial_.size()
                                               : FragmentLength(partial_) - partial_.size();
      const size_t take = std::min(want, data.size());
      partial_.insert(partial_.end(), data.begin(), data.begin() + take);
      data = data.subspan(take);
      if (partial_.size() >= 16 && partial_.size() == FragmentLength(partial_)) {
        std::vector<uint8_t> fragment;
        fragment.swap(partial_);  // an idle connection holds no bytes
        OnFragment(fragment);
      }
    } else if (data.size() < 16 || data.size() < FragmentLength(data.first(16))) {
      partial_.assign(data.begin(), data.end());
      data = {};
      ArmFragmentDeadline();
    } else {
      const size_t length = FragmentLength(data.first(16));
      OnFragment(data.first(length));
      data = data.subspan(length);
    }
    if (closing_ || closed_) return false;
  }
  return true;
}

bool ServerSession::ReadAvailable() {
  // One buffer per loop thread: an idle connection holds none.
  static thread_local std::array<uint8_t, 65536> buffer;
  // A peer that keeps sending yields the loop to its neighbours after a
  // few reads; the next receive brings it back at once.
  for (int reads = 0; reads < 16; ++reads) {
    asio::error_code ec;
    const size_t n = socket_.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
    if (ec) {
      Shutdown("");
      return false;
    }
    if (!Consume(std::span<const uint8_t>(buffer.data(), n))) return false;
    // A short read drained the socket: the next one would only say so.
    if (n < buffer.size()) return true;
  }
  return true;
}

void ServerSession::OnFragment(std::span<const uint8_t> fragment) {
  std::vector<std::vector<uint8_t>> out;
  const bool keep = conn_.OnFragment(fragment, out);
  Send(out);
  if (closed_) return;
  if (!keep) {
    LogClosed(conn_.close_reason());
    closing_ = true;
    ClearDeadline();
    if (!writing_) Finish();
  }
}

void ServerSession::TakeAnswers() {
  if (closed_ || closing_) return;
  std::vector<std::vector<uint8_t>> out;
  conn_.TakeAnswers(out);
  Send(out);
  // The last call answered while we wait for the client: idleness counts
  // again.
  if (waiting_ && conn_.calls_in_progress() == 0 && handshake_deadline_ == 0) {
    SetDeadline(NowMs() + server_->options_.idle_timeout_ms, Deadline::kIdle);
  }
}

// ==== Writing and closing ===================================================

void ServerSession::Send(std::vector<std::vector<uint8_t>>& fragments) {
  for (auto& f : fragments) {
    if (writing_ || closed_) {
      writes_.push_back(std::move(f));
      continue;
    }
    // Written at once when the socket takes it, as a blocking server
    // would; what it does not take waits for the socket to drain.
    size_t written = 0;
    asio::error_code ec;
    while (written < f.size()) {
      written += socket_.write_some(asio::buffer(f.data() + written, f.size() - written), ec);
      if (ec) break;
    }
    if (written == f.size()) continue;
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      return Finish();  // the peer is gone
    }
    writes_.emplace_back(f.begin() + static_cast<ptrdiff_t>(written), f.end());
    WriteNext();
  }
}

void ServerSession::WriteNext() {
  writing_ = true;
  asio::async_write(
      socket_, asio::buffer(writes_.front()),
      [self = shared_from_this()](const asio::error_code& ec, size_t) {
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
      });
}

// ==== Deadlines =============================================================
// Invariant: while deadline_ms_ is set, the timer is armed for no later
// than it. Moving the deadline later (every call does) costs nothing; the
// timer finds it moved when it fires and re-arms for it.

void ServerSession::SetDeadline(int64_t deadline_ms, Deadline kind, int64_t wait_ms) {
  deadline_ms_ = deadline_ms;
  deadline_kind_ = kind;
  deadline_wait_ms_ = wait_ms;
  if (timer_at_ms_ == 0 || deadline_ms < timer_at_ms_) ArmTimer(deadline_ms);
}

void ServerSession::ArmTimer(int64_t at_ms) {
  const uint64_t generation = ++timer_generation_;
  timer_at_ms_ = at_ms;
  timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, at_ms - NowMs())));
  timer_.async_wait([self = shared_from_this(), generation](const asio::error_code& ec) {
    if (ec || generation != self->timer_generation_ || self->closed_) return;
    self->OnTimer();
  });
}

void ServerSession::OnTimer() {
  timer_at_ms_ = 0;
  if (deadline_ms_ == 0) return;  // calls in progress: nothing to wait for
  if (NowMs() < deadline_ms_) return ArmTimer(deadline_ms_);
  Shutdown(DeadlineReason());
}

std::string ServerSession::DeadlineReason() const {
  switch (deadline_kind_) {
    case Deadline::kHandshake:
      return HandshakeLate();
    case Deadline::kIdle:
      return "idle for " + std::to_string(server_->options_.idle_timeout_ms) + " ms";
    case Deadline::kFragment:
      return "a fragment did not arrive whole within " + std::to_string(deadline_wait_ms_) +
             " ms";
  }
  return "deadline passed";
}

void ServerSession::Shutdown(const std::string& why) {
  if (closed_) return;
  if (!why.empty() && !server_->stopping_) LogClosed(why);
  Finish();
}

void ServerSession::Finish() {
  if (closed_) return;
  closed_ = true;
  deadline_ms_ = 0;
  ++timer_generation_;
  timer_.cancel();
  asio::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  server_->Release(shared_from_this(), local_, address_);
}

}  // namespace comsec::rpc::internal
