#include "app/witness.h"

#include <cstdio>
#include <optional>

#include "app/peers.h"
#include "base/encoding.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

WitnessReply Fail(int status, std::string reason) {
  WitnessReply r;
  r.http_status = status;
  r.reason = std::move(reason);
  return r;
}

WitnessReply SizeConflict(uint64_t size, std::string reason) {
  WitnessReply r;
  r.http_status = 409;
  r.body = std::to_string(size) + "\n";
  r.reason = std::move(reason);
  return r;
}

struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<Hash256> proof;
  std::string note;
};

Result<AddCheckpointRequest> ParseRequest(std::string_view body) {
  AddCheckpointRequest req;
  size_t pos = 0;
  auto next_line = [&]() -> std::optional<std::string_view> {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    return line;
  };
  auto first = next_line();
  if (!first || first->substr(0, 4) != "old ") {
    return Status::InvalidInput("the body must start with \"old <size>\\n\"");
  }
  auto old = ParseTreeSize(first->substr(4));
  if (!old) return Status::InvalidInput("the old size is not a decimal size");
  req.old_size = *old;
  for (;;) {
    auto line = next_line();
    if (!line) {
      return Status::InvalidInput(
          "the consistency proof must end with an empty line");
    }
    if (line->empty()) break;
    if (req.proof.size() == Witness::kMaxProofLines) {
      return Status::InvalidInput("more than 63 consistency proof lines");
    }
    auto h = Base64Decode(*line);
    if (!h.ok() || h->size() != 32) {
      return Status::InvalidInput(
          "a consistency proof line is not one base64 SHA-256 hash");
    }
    Hash256 hash;
    std::copy(h->begin(), h->end(), hash.begin());
    req.proof.push_back(hash);
  }
  req.note = std::string(body.substr(pos));
  return req;
}

std::string Now(Node* node) {
  return FormatTime(node->env()->NowUnixNanos() / 1000);
}

}  // namespace

std::optional<uint64_t> ParseTreeSize(std::string_view s) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

WitnessReply Witness::AddCheckpoint(std::string_view body) {
  if (body.size() > kMaxRequestBytes) {
    return Fail(413, "an add-checkpoint body is at most 64 KiB");
  }
  auto req = ParseRequest(body);
  if (!req.ok()) return Fail(400, req.status().message());
  auto note = ParseNote(req->note);
  if (!note.ok())
    return Fail(400, "the checkpoint: " + note.status().message());
  auto cp = ParseCheckpointBody(note->text);
  if (!cp.ok()) return Fail(400, "the checkpoint: " + cp.status().message());

  auto peer = PeerBook(node_).FindByOrigin(cp->origin);
  if (!peer.ok()) return Fail(500, peer.status().message());
  if (!peer->has_value()) {
    return Fail(404, "this witness does not know the log " + cp->origin);
  }
  if (!VerifyNoteSignature(*note, (*peer)->LogKey()).ok()) {
    return Fail(403,
                "no signature on the checkpoint verifies with the key "
                "pinned for " +
                    cp->origin);
  }
  if (req->old_size > cp->size) {
    return Fail(400, "the old size " + std::to_string(req->old_size) +
                         " is larger than the checkpoint's " +
                         std::to_string(cp->size));
  }
  if (req->old_size == 0 && !req->proof.empty()) {
    return Fail(400, "the consistency proof must be empty from size 0");
  }

  // Check against the last cosigned state and record the new one in one
  // transaction, so that concurrent submissions cannot roll the size back.
  WitnessReply reply;
  std::optional<std::pair<std::string, std::string>> alarm;  // reason, note
  Status s = node_->sql().Transaction([&]() -> Status {
    Statement q(node_->sql(),
                "SELECT size, root, note FROM witnessed_logs WHERE origin=?");
    q.Bind(1, cp->origin);
    int rc = q.Step();
    uint64_t size = 0;
    std::string root_b64, known_note;
    if (rc == SQLITE_ROW) {
      size = q.Uint(0);
      root_b64 = q.Text(1);
      known_note = q.Text(2);
    } else if (rc != SQLITE_DONE) {
      return q.Error();
    }
    std::string new_root =
        Base64Encode(ByteView(cp->root.data(), cp->root.size()));
    if (req->old_size != size) {
      reply =
          SizeConflict(size, "this witness last cosigned size " +
                                 std::to_string(size) + " of " + cp->origin);
      return Status::OK();
    }
    if (size > 0) {
      auto old_root = Base64Decode(root_b64);
      if (!old_root.ok() || old_root->size() != 32) {
        return Status::Corruption("witnessed_logs: bad root for " + cp->origin);
      }
      Hash256 old;
      std::copy(old_root->begin(), old_root->end(), old.begin());
      if (cp->size == size && cp->root != old) {
        alarm.emplace(
            "two different roots for tree size " + std::to_string(size),
            known_note);
        reply = SizeConflict(size, "the log " + cp->origin +
                                       " shows a different root for size " +
                                       std::to_string(size) +
                                       " than the one cosigned");
        return Status::OK();
      }
      if (cp->size > size &&
          !merkle::VerifyConsistency(size, cp->size, old, cp->root, req->proof)
               .ok()) {
        alarm.emplace("checkpoint of size " + std::to_string(cp->size) +
                          " is not consistent with the cosigned size " +
                          std::to_string(size),
                      known_note);
        reply = Fail(422, "the consistency proof from " + std::to_string(size) +
                              " to " + std::to_string(cp->size) +
                              " does not verify");
        return Status::OK();
      }
    }
    Statement up(
        node_->sql(),
        "INSERT INTO witnessed_logs(origin, size, root, note, updated) "
        "VALUES(?,?,?,?,?) ON CONFLICT(origin) DO UPDATE SET "
        "size=excluded.size, root=excluded.root, note=excluded.note, "
        "updated=excluded.updated");
    up.Bind(1, cp->origin);
    up.Bind(2, cp->size);
    up.Bind(3, new_root);
    up.Bind(4, req->note);
    up.Bind(5, Now(node_));
    RETURN_IF_ERROR(up.Run());
    reply.http_status = 200;
    reply.body = node_->Cosign(
        note->text,
        static_cast<uint64_t>(node_->env()->NowUnixNanos() / 1000000000));
    return Status::OK();
  });
  if (!s.ok()) return Fail(500, s.message());
  if (alarm) {
    std::fprintf(stderr, "amanah: WITNESS ALARM for %s: %s\n",
                 cp->origin.c_str(), alarm->first.c_str());
    Status a = RecordAlarm(cp->origin, alarm->first, alarm->second, body);
    if (!a.ok()) return Fail(500, a.message());
  }
  return reply;
}

Status Witness::RecordAlarm(const std::string& origin,
                            const std::string& reason,
                            const std::string& cosigned_note,
                            std::string_view offered) {
  Statement ins(node_->sql(),
                "INSERT INTO witness_alarms(origin, detected, reason, "
                "cosigned_note, offered) VALUES(?,?,?,?,?)");
  ins.Bind(1, origin);
  ins.Bind(2, Now(node_));
  ins.Bind(3, reason);
  ins.Bind(4, cosigned_note);
  ins.Bind(5, offered);
  return ins.Run();
}

Result<std::vector<WitnessedLog>> Witness::Witnessed() {
  Statement q(node_->sql(),
              "SELECT origin, size, note, updated FROM witnessed_logs "
              "ORDER BY origin");
  RETURN_IF_ERROR(q.status());
  std::vector<WitnessedLog> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Text(0), q.Uint(1), q.Text(2), q.Text(3)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<uint64_t> Witness::AlarmCount() {
  Statement q(node_->sql(), "SELECT COUNT(*) FROM witness_alarms");
  if (q.Step() != SQLITE_ROW) return q.Error();
  return q.Uint(0);
}

Result<std::vector<WitnessAlarm>> Witness::Alarms() {
  Statement q(node_->sql(),
              "SELECT id, origin, detected, reason, cosigned_note, offered "
              "FROM witness_alarms ORDER BY id");
  RETURN_IF_ERROR(q.status());
  std::vector<WitnessAlarm> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back(
        {q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::pair<std::string, uint64_t>> Witness::SubmissionBody(
    uint64_t old_size) {
  ASSIGN_OR_RETURN(CustodyLog * log, node_->Log());
  SignedCheckpoint cp = log->Latest();
  if (old_size > cp.size) {
    return Status::Conflict(
        "the witness has cosigned size " + std::to_string(old_size) +
        ", larger than this log's " + std::to_string(cp.size));
  }
  std::string body = "old " + std::to_string(old_size) + "\n";
  if (old_size > 0) {
    LogReader at = log->ReaderAt(cp.size);
    ASSIGN_OR_RETURN(std::vector<Hash256> proof, at.ConsistencyProof(old_size));
    for (const Hash256& h : proof)
      body += Base64Encode(ByteView(h.data(), h.size())) + "\n";
  }
  body += "\n";
  body += cp.note;
  return std::make_pair(std::move(body), cp.size);
}

Status Witness::AcceptCosignature(const std::string& peer_name, uint64_t size,
                                  const std::string& checkpoint_note,
                                  std::string_view response) {
  ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(peer_name));
  if (!peer) return Status::NotFound("no peer named " + peer_name);
  VerifierKey key = peer->CosignerKey();
  // Each response line is a candidate; keep the one by the peer's key.
  size_t pos = 0;
  while (pos < response.size()) {
    size_t nl = response.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::string line(response.substr(pos, nl - pos + 1));
    pos = nl + 1;
    auto note = ParseNote(AppendSignatureLines(checkpoint_note, {line}));
    if (!note.ok()) continue;
    auto t = VerifyCosignature(*note, key);
    if (!t.ok()) continue;
    Statement ins(node_->sql(),
                  "INSERT OR REPLACE INTO cosignatures(peer, size, note, line, "
                  "received) VALUES(?,?,?,?,?)");
    ins.Bind(1, peer_name);
    ins.Bind(2, size);
    ins.Bind(3, checkpoint_note);
    ins.Bind(4, line);
    ins.Bind(5, Now(node_));
    return ins.Run();
  }
  return Status::Corruption("the response of " + peer_name +
                            " holds no cosignature that verifies with its key");
}

Status Witness::NoteSubmission(const std::string& peer,
                               const std::string& error,
                               std::optional<uint64_t> cosigned_size) {
  Statement up(
      node_->sql(),
      "INSERT INTO witness_submissions(peer, cosigned_size, last_attempt, "
      "last_error) VALUES(?,?,?,?) ON CONFLICT(peer) DO UPDATE SET "
      "cosigned_size=CASE WHEN ?5 THEN excluded.cosigned_size ELSE "
      "cosigned_size END, last_attempt=excluded.last_attempt, "
      "last_error=excluded.last_error");
  up.Bind(1, peer);
  up.Bind(2, cosigned_size.value_or(0));
  up.Bind(3, Now(node_));
  up.Bind(4, error);
  up.Bind(5, cosigned_size.has_value() ? 1 : 0);
  return up.Run();
}

Result<std::vector<PeerWitnessing>> Witness::Submissions() {
  Statement q(node_->sql(),
              "SELECT peer, cosigned_size, last_attempt, last_error FROM "
              "witness_submissions ORDER BY peer");
  RETURN_IF_ERROR(q.status());
  std::vector<PeerWitnessing> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Text(0), q.Uint(1), q.Text(2), q.Text(3)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::string> Witness::CosignedCheckpoint() {
  Statement q(node_->sql(),
              "SELECT size, note FROM cosignatures ORDER BY size DESC LIMIT 1");
  return WithCosignatures(q);
}

Result<std::string> Witness::MostCosignedCheckpoint(uint64_t min_size) {
  Statement q(node_->sql(),
              "SELECT size, note FROM cosignatures WHERE size>=? "
              "GROUP BY size, note ORDER BY COUNT(*) DESC, size DESC LIMIT 1");
  q.Bind(1, min_size);
  return WithCosignatures(q);
}

Result<std::string> Witness::WithCosignatures(Statement& q) {
  RETURN_IF_ERROR(q.status());
  int rc = q.Step();
  if (rc == SQLITE_DONE) {
    return Status::NotFound("no checkpoint of this node is cosigned yet");
  }
  if (rc != SQLITE_ROW) return q.Error();
  uint64_t size = q.Uint(0);
  std::string note = q.Text(1);
  Statement lines(node_->sql(),
                  "SELECT line FROM cosignatures WHERE size=? AND note=? "
                  "ORDER BY peer");
  lines.Bind(1, size);
  lines.Bind(2, note);
  std::vector<std::string> sigs;
  while ((rc = lines.Step()) == SQLITE_ROW) sigs.push_back(lines.Text(0));
  if (rc != SQLITE_DONE) return lines.Error();
  return AppendSignatureLines(note, sigs);
}

}  // namespace amanah
