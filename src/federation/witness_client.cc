#include "federation/witness_client.h"

#include "app/witness.h"
#include "federation/peer_client.h"

namespace amanah {

namespace {

constexpr size_t kMaxResponse = 64 << 10;

}  // namespace

Result<uint64_t> WitnessClient::Submit(const Peer& peer) {
  Witness w(node_);
  uint64_t old_size = 0;
  ASSIGN_OR_RETURN(std::vector<PeerWitnessing> states, w.Submissions());
  for (const auto& s : states) {
    if (s.peer == peer.name) old_size = s.cosigned_size;
  }
  ASSIGN_OR_RETURN(CustodyLog * log, node_->Log());
  if (old_size != 0 && old_size == log->Latest().size) return old_size;
  auto r = TrySubmit(peer, old_size, 1);
  Status noted =
      w.NoteSubmission(peer.name, r.ok() ? "" : r.status().message(),
                       r.ok() ? std::optional<uint64_t>(*r) : std::nullopt);
  if (!r.ok()) return r.status();
  RETURN_IF_ERROR(noted);
  return r;
}

Result<uint64_t> WitnessClient::TrySubmit(const Peer& peer, uint64_t old_size,
                                          int retries) {
  Witness w(node_);
  auto body = w.SubmissionBody(old_size);
  if (!body.ok() && body.status().code() == Code::kConflict) {
    // The peer claims a size of this log beyond its end: start over from 0
    // so that it shows what it holds (409) rather than trusting the record.
    body = w.SubmissionBody(0);
  }
  RETURN_IF_ERROR(body.status());
  auto [text, size] = std::move(body).value();

  PeerClient client(peer, timeout_, node_->tls_identity());
  auto res = client.http().Post("/witness/add-checkpoint", text,
                                "text/plain; charset=utf-8");
  if (!res) return Status::Unavailable(client.Describe(res));
  if (res->body.size() > kMaxResponse) {
    return Status::Corruption(peer.name + " answered with over 64 KiB");
  }
  if (res->status == 409 &&
      res->get_header_value("Content-Type").rfind("text/x.tlog.size", 0) == 0) {
    std::string digits = res->body;
    if (!digits.empty() && digits.back() == '\n') digits.pop_back();
    std::optional<uint64_t> size_seen = ParseTreeSize(digits);
    if (!size_seen) {
      return Status::Corruption(peer.name + " sent a malformed size");
    }
    uint64_t theirs = *size_seen;
    if (retries > 0 && theirs != old_size) {
      return TrySubmit(peer, theirs, retries - 1);
    }
    return Status::Conflict(peer.name + " has cosigned size " + digits +
                            " of this log and refuses size " +
                            std::to_string(size) +
                            " from it: a witness that saw another history");
  }
  if (res->status != 200) {
    std::string why = res->body.substr(0, 300);
    return Status::Unavailable(peer.name + " refused the checkpoint: HTTP " +
                               std::to_string(res->status) + " " + why);
  }
  // The checkpoint submitted: the body after the proof's empty line.
  std::string note = text.substr(text.find("\n\n") + 2);
  RETURN_IF_ERROR(w.AcceptCosignature(peer.name, size, note, res->body));
  return size;
}

int WitnessClient::SubmitToAll() {
  auto peers = PeerBook(node_).List();
  if (!peers.ok()) return 1;
  int failed = 0;
  for (const Peer& p : *peers) {
    if (!Submit(p).ok()) ++failed;
  }
  return failed;
}

}  // namespace amanah
