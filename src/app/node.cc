#include "app/node.h"

#include <sodium.h>
#include <toml++/toml.h>

#include <cstdio>
#include <optional>
#include <sstream>
#include <utility>

#include "app/cases.h"
#include "app/custody_index.h"
#include "app/evidence_db.h"
#include "app/open_stores.h"
#include "app/recovery.h"
#include "crypto/tls_identity.h"
#include "ledger/note.h"

namespace amanah {

namespace {

constexpr uint64_t kMaxSmallFile = 64 << 10;

std::string Origin(const std::string& name) { return name + "/custody"; }

// Key files must not be readable by others.
Result<std::string> ReadSecretFile(Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(mode_t mode, env->GetFileMode(path));
  if ((mode & 077) != 0) {
    char octal[16];
    std::snprintf(octal, sizeof(octal), "%04o",
                  static_cast<unsigned>(mode & 07777));
    return Status::Permission(path + " is readable by others (mode " + octal +
                              "); a key file must be mode 0600");
  }
  return ReadFileToString(env, path, kMaxSmallFile);
}

// A node's directory is its owner's alone, whatever it was made with (a
// directory made beforehand, an earlier version, a umask): directories 0700,
// files 0600. What is made inside is made so; this repairs the top of the
// tree, a few stats, not a walk of the vault or the log. The public
// verifier key and TLS certificate (keys/verifier.key, keys/tls.pem) stay
// 0644, and the secret keys are refused, not repaired (ReadSecretFile).
Status RestrictModes(Env* env, const std::string& dir) {
  static constexpr std::pair<const char*, mode_t> kParts[] = {
      {"", 0700},
      {"keys", 0700},
      {"log", 0700},
      {"journal", 0700},
      {"vault", 0700},
      {"node.toml", 0600},
      {"amanah.db", 0600},
      {"amanah.db-wal", 0600},
      {"amanah.db-shm", 0600},
      {"journal/custody.wal", 0600},
      {"log/checkpoint", 0600},
      {"LOCK", 0600}};
  for (const auto& [part, want] : kParts) {
    std::string path = *part ? JoinPath(dir, part) : dir;
    if (!env->FileExists(path)) continue;
    ASSIGN_OR_RETURN(mode_t mode, env->GetFileMode(path));
    if ((mode & 07777) == want) continue;
    Status s = env->SetFileMode(path, want);
    if (!s.ok()) {
      char octal[8];
      std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(want));
      return s.Annotate(std::string("making ") + path + " mode " + octal);
    }
  }
  return Status::OK();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Status ValidateNodeName(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return Status::InvalidInput("a node name is 1 to 253 characters");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-')) {
      return Status::InvalidInput(
          "a node name uses lowercase letters, digits, '.' and '-' (like "
          "ccd.moi.gov.kw)");
    }
  }
  if (name.front() == '.' || name.front() == '-' || name.back() == '.') {
    return Status::InvalidInput("a node name cannot start with '.' or '-'");
  }
  return Status::OK();
}

Node::Node(Env* env, std::string dir, NodeInfo info, Ed25519PrivateKey signer,
           MasterKey master)
    : env_(env),
      dir_(std::move(dir)),
      info_(std::move(info)),
      signer_(std::move(signer)),
      tiles_(env, JoinPath(dir_, "log")),
      vault_(std::make_unique<Vault>(env, JoinPath(dir_, "vault"), master)) {}

Node::~Node() = default;

// Node certificates are pinned, not checked against a CA: rotating one
// means telling every peer its new pin.
constexpr int kTlsCertificateDays = 825;

Result<NodeInfo> Node::Init(Env* env, const std::string& dir,
                            const std::string& name) {
  RETURN_IF_ERROR(ValidateNodeName(name));
  if (env->FileExists(JoinPath(dir, "node.toml"))) {
    return Status::Conflict("a node already exists in " + dir +
                            "; refusing to overwrite it");
  }
  for (const char* part : {"keys", "log", "journal", "vault", "amanah.db"}) {
    if (env->FileExists(JoinPath(dir, part))) {
      return Status::Conflict(dir + " holds an incomplete node (" + part +
                              " without node.toml); move it away first");
    }
  }
  bool created_dir = !env->FileExists(dir);
  std::optional<mode_t> old_mode;  // of a directory made beforehand
  if (!created_dir) {
    ASSIGN_OR_RETURN(old_mode, env->GetFileMode(dir));
  }
  std::vector<std::string> made;  // files and dirs to remove on failure
  auto undo = [&] {
    for (auto it = made.rbegin(); it != made.rend(); ++it) {
      if (!env->RemoveFile(*it).ok()) (void)env->RemoveDir(*it);
    }
    if (created_dir) (void)env->RemoveDir(dir);
    if (old_mode) (void)env->SetFileMode(dir, *old_mode);
  };

  NodeInfo info;
  info.name = name;
  info.origin = Origin(name);
  Ed25519PrivateKey signer = Ed25519PrivateKey::Generate();
  info.verifier_key =
      FormatVerifierKey(info.origin, kNoteKeyTypeEd25519, signer.public_key());

  Status s = [&]() -> Status {
    RETURN_IF_ERROR(CreateDirs(env, dir, 0700));
    RETURN_IF_ERROR(RestrictModes(env, dir));  // a directory made beforehand
    std::string keys = JoinPath(dir, "keys");
    RETURN_IF_ERROR(env->CreateDir(keys, 0700));
    made.push_back(keys);
    std::string signing = JoinPath(keys, "signing.key");
    std::string signer_text = FormatSignerKey(info.origin, signer) + "\n";
    RETURN_IF_ERROR(WriteFileAtomic(env, signing, AsBytes(signer_text), 0600));
    sodium_memzero(signer_text.data(), signer_text.size());
    made.push_back(signing);
    std::string verifier = JoinPath(keys, "verifier.key");
    RETURN_IF_ERROR(WriteFileAtomic(env, verifier,
                                    AsBytes(info.verifier_key + "\n"), 0644));
    made.push_back(verifier);
    VaultKey master;
    randombytes_buf(master.data(), master.size());
    std::string vault_key = JoinPath(keys, "vault.key");
    std::string master_hex = HexEncode(master) + "\n";
    sodium_memzero(master.data(), master.size());
    Status ws = WriteFileAtomic(env, vault_key, AsBytes(master_hex), 0600);
    sodium_memzero(master_hex.data(), master_hex.size());
    RETURN_IF_ERROR(ws);
    made.push_back(vault_key);

    // The TLS identity peers pin (amanah peer add --tls-cert).
    std::string tls_cert = JoinPath(keys, "tls.pem");
    std::string tls_key = JoinPath(keys, "tls.key");
    RETURN_IF_ERROR(MakeSelfSignedCertificate(env, tls_cert, tls_key, name,
                                              kTlsCertificateDays));
    made.push_back(tls_key);
    made.push_back(tls_cert);
    ASSIGN_OR_RETURN(info.tls_pin, CertificatePin(tls_cert));

    std::string vault_dir = JoinPath(dir, "vault");
    RETURN_IF_ERROR(env->CreateDir(vault_dir, 0700));
    made.push_back(vault_dir);

    CustodyLogOptions lo;
    lo.log_dir = JoinPath(dir, "log");
    lo.journal_path = JoinPath(dir, "journal/custody.wal");
    lo.origin = info.origin;
    lo.signer = signer;
    made.push_back(lo.log_dir);
    made.push_back(DirName(lo.journal_path));
    made.push_back(lo.journal_path);
    made.push_back(JoinPath(lo.log_dir, "checkpoint"));
    RETURN_IF_ERROR(CustodyLog::Create(env, lo));

    std::string db_path = JoinPath(dir, "amanah.db");
    made.push_back(db_path);
    made.push_back(db_path + "-wal");
    made.push_back(db_path + "-shm");
    RETURN_IF_ERROR(OpenNodeStores(env, dir).status());

    toml::table t{{"name", name}, {"origin", info.origin}};
    std::ostringstream os;
    os << "# amanah node configuration\n" << t << "\n";
    std::string toml_path = JoinPath(dir, "node.toml");
    RETURN_IF_ERROR(WriteFileAtomic(env, toml_path, AsBytes(os.str()), 0600));
    RETURN_IF_ERROR(RestrictModes(env, dir));
    return env->SyncDir(dir);
  }();
  if (!s.ok()) {
    undo();
    return s.Annotate("initialising node in " + dir);
  }
  return info;
}

Result<std::unique_ptr<Node>> Node::Open(Env* env, const std::string& dir) {
  std::string toml_path = JoinPath(dir, "node.toml");
  if (!env->FileExists(toml_path)) {
    return Status::NotFound("no amanah node in " + dir +
                            " (run: amanah init --name NAME --data " + dir +
                            ")");
  }
  RETURN_IF_ERROR(RestrictModes(env, dir));
  ASSIGN_OR_RETURN(std::string text,
                   ReadFileToString(env, toml_path, kMaxSmallFile));
  toml::table parsed;
  try {
    parsed = toml::parse(text, toml_path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidInput(toml_path + ": " +
                                std::string(e.description()));
  }
  NodeInfo info;
  info.name = parsed["name"].value_or(std::string());
  info.origin = parsed["origin"].value_or(std::string());
  RETURN_IF_ERROR(ValidateNodeName(info.name).Annotate(toml_path));
  if (info.origin != Origin(info.name)) {
    return Status::InvalidInput(toml_path + ": origin must be name + /custody");
  }

  ASSIGN_OR_RETURN(std::string signer_text,
                   ReadSecretFile(env, JoinPath(dir, "keys/signing.key")));
  auto signer = ParseSignerKey(Trim(signer_text));
  sodium_memzero(signer_text.data(), signer_text.size());
  if (!signer.ok()) {
    return Status::Corruption("keys/signing.key: " + signer.status().message());
  }
  if (signer->first != info.origin) {
    return Status::Corruption("keys/signing.key is for " + signer->first +
                              ", not " + info.origin);
  }
  info.verifier_key = FormatVerifierKey(info.origin, kNoteKeyTypeEd25519,
                                        signer->second.public_key());

  ASSIGN_OR_RETURN(std::string master_text,
                   ReadSecretFile(env, JoinPath(dir, "keys/vault.key")));
  auto master_bytes = HexDecode(Trim(master_text));
  sodium_memzero(master_text.data(), master_text.size());
  if (!master_bytes.ok() || master_bytes->size() != 32) {
    return Status::Corruption("keys/vault.key is not 64 hex digits");
  }
  VaultKey mk;
  std::copy(master_bytes->begin(), master_bytes->end(), mk.begin());
  sodium_memzero(master_bytes->data(), master_bytes->size());
  MasterKey master = MasterKey::FromBytes(mk);
  sodium_memzero(mk.data(), mk.size());

  std::unique_ptr<Node> node(
      new Node(env, dir, std::move(info), std::move(signer->second), master));
  ASSIGN_OR_RETURN(NodeStores stores, OpenNodeStores(env, dir));
  node->stores_ = std::move(stores.stores);
  node->sql_ = stores.sql;
  node->db_ = std::make_unique<EvidenceDb>(node->sql_);
  TlsIdentity tls{JoinPath(dir, "keys/tls.pem"), JoinPath(dir, "keys/tls.key")};
  if (env->FileExists(tls.cert) && env->FileExists(tls.key)) {
    node->tls_identity_ = tls;
  }
  return node;
}

Result<CustodyLog*> Node::Log() {
  if (log_) return log_.get();
  ASSIGN_OR_RETURN(lock_, env_->LockFile(JoinPath(dir_, "LOCK")));
  CustodyLogOptions lo;
  lo.log_dir = JoinPath(dir_, "log");
  lo.journal_path = JoinPath(dir_, "journal/custody.wal");
  lo.origin = info_.origin;
  lo.signer = signer_;
  auto log = CustodyLog::Open(env_, std::move(lo));
  if (!log.ok()) {
    lock_.reset();
    return log.status().Annotate("opening the custody log");
  }
  log_ = std::move(log).value();
  // After a crash: the changes that never committed are undone in the log
  // and in the vault, before anything else is written.
  Status s = VoidUncommitted();
  if (s.ok()) s = SettleVaultIntents(*this);
  if (!s.ok()) {
    log_.reset();
    lock_.reset();
    return s.Annotate("recovering from an unclean stop");
  }
  return log_.get();
}

Status Node::VoidUncommitted() {
  CustodyIndex index(sql_);
  LogReader reader = log_->Reader();
  ASSIGN_OR_RETURN(std::vector<uint64_t> missing, index.Missing(reader.size()));
  if (missing.empty()) return Status::OK();
  std::vector<CustodyEntry> orphans;
  for (uint64_t i : missing) {
    ASSIGN_OR_RETURN(std::string bytes, reader.Entry(i));
    auto parsed = ParseCustodyEntry(bytes);
    if (!parsed.ok()) {
      return parsed.status().Annotate("custody entry " + std::to_string(i));
    }
    orphans.push_back(std::move(*parsed));
  }
  // One entry.voided for each, and each marked in the index as voided by
  // it, in one change: after a crash in between, the next open voids both
  // the orphans and the voiding entries that did not commit.
  auto applied = Apply(
      [&]() -> Result<std::vector<CustodyEntry>> {
        std::vector<CustodyEntry> out;
        for (size_t k = 0; k < missing.size(); ++k) {
          CustodyEntry e;
          e.kind = EntryKind::kEntryVoided;
          e.actor = "system:amanah";
          e.subject = "entry:" + std::to_string(missing[k]);
          e.data = {{"kind", EntryKindName(orphans[k].kind)},
                    {"reason",
                     "its change was not saved: the node stopped between "
                     "writing the entry and committing the change"}};
          out.push_back(std::move(e));
        }
        return out;
      },
      [&](uint64_t first) -> Status {
        for (size_t k = 0; k < missing.size(); ++k) {
          RETURN_IF_ERROR(index.AddVoided(missing[k], orphans[k], first + k));
        }
        return Status::OK();
      });
  return applied.status();
}

Result<SealedEntry> Node::Seal(const CustodyEntry& entry) {
  if (!IsSealed(entry)) return SealedEntry{FormatCustodyEntry(entry), {}};
  ASSIGN_OR_RETURN(Bytes secret, CaseBook(this).Secret(entry.case_id));
  auto sealed = SealCustodyEntry(entry, secret, randombytes_buf);
  sodium_memzero(secret.data(), secret.size());
  return sealed;
}

Result<std::pair<uint64_t, std::string>> Node::Record(CustodyEntry entry) {
  ASSIGN_OR_RETURN(CustodyLog * log, Log());
  if (!stores_.database->InTransactionOnThisThread()) {
    // A change of its own: group-committed with others.
    ASSIGN_OR_RETURN(uint64_t index, Apply([&]() {
                       return Result<std::vector<CustodyEntry>>(
                           std::vector<CustodyEntry>{entry});
                     }));
    ASSIGN_OR_RETURN(std::string bytes, EntryBytes(index));
    return std::make_pair(index, std::move(bytes));
  }
  // Part of the caller's transaction: the entry is durable now and indexed
  // in that transaction, so it commits with the caller's change or is voided
  // when the node next opens (VoidUncommitted).
  entry.node = info_.name;
  entry.time_unix_micros = env_->NowUnixNanos() / 1000;
  ASSIGN_OR_RETURN(SealedEntry sealed, Seal(entry));
  ASSIGN_OR_RETURN(uint64_t index, log->Append(sealed.bytes));
  RETURN_IF_ERROR(CustodyIndex(sql_).Add(index, entry, sealed.disclosures));
  return std::make_pair(index, std::move(sealed.bytes));
}

Result<std::string> Node::EntryBytes(uint64_t index) {
  ASSIGN_OR_RETURN(CustodyLog * log, Log());
  LogReader reader = log->Reader();
  return reader.Entry(index);
}

Result<std::string> Node::EntryTime(uint64_t index) {
  ASSIGN_OR_RETURN(IndexedEntry e, CustodyIndex(sql_).Get(index));
  return e.time;
}

struct Node::Pending {
  const Change* change;
  const Indexed* indexed;
  bool done = false;
  Status status;
  uint64_t first = 0;
  std::condition_variable cv;
};

Result<uint64_t> Node::Apply(const Change& change, const Indexed& indexed) {
  RETURN_IF_ERROR(Log().status());  // opened before any change runs
  if (stores_.database->InTransactionOnThisThread()) {
    // Part of the caller's transaction, as an entry Record()ed in one is:
    // durable when this returns, committed with the caller's change or
    // voided when the node next opens. Queued instead, it would wait for a
    // batch whose transaction cannot begin while this one is open.
    uint64_t first = 0;
    RETURN_IF_ERROR(stores_.database->Transaction([&]() -> Status {
      ASSIGN_OR_RETURN(std::vector<CustodyEntry> made, change());
      if (made.empty()) {
        return Status::InvalidInput("a change records at least one entry");
      }
      int64_t now = env_->NowUnixNanos() / 1000;
      std::vector<SealedEntry> sealed;
      std::vector<std::string> bytes;
      for (auto& e : made) {
        e.node = info_.name;
        e.time_unix_micros = now;
        ASSIGN_OR_RETURN(SealedEntry one, Seal(e));
        bytes.push_back(one.bytes);
        sealed.push_back(std::move(one));
      }
      ASSIGN_OR_RETURN(first, log_->Append(std::move(bytes)));
      CustodyIndex index(sql_);
      for (size_t k = 0; k < made.size(); ++k) {
        RETURN_IF_ERROR(index.Add(first + k, made[k], sealed[k].disclosures));
      }
      return indexed ? indexed(first) : Status::OK();
    }));
    return first;
  }
  Pending me;
  me.change = &change;
  me.indexed = indexed ? &indexed : nullptr;
  std::unique_lock<std::mutex> l(apply_mu_);
  apply_queue_.push_back(&me);
  while (!me.done && apply_queue_.front() != &me) me.cv.wait(l);
  if (me.done) {
    RETURN_IF_ERROR(me.status);
    return me.first;
  }
  // Lead: take what is queued (up to 256 changes) and apply it together.
  std::vector<Pending*> batch;
  for (Pending* p : apply_queue_) {
    if (batch.size() == 256) break;
    batch.push_back(p);
  }
  l.unlock();
  ApplyBatch(batch);
  l.lock();
  for (Pending* p : batch) {
    apply_queue_.pop_front();
    p->done = true;
    if (p != &me) p->cv.notify_one();
  }
  if (!apply_queue_.empty()) apply_queue_.front()->cv.notify_one();
  RETURN_IF_ERROR(me.status);
  return me.first;
}

void Node::ApplyBatch(std::vector<Pending*>& batch) {
  std::vector<std::vector<CustodyEntry>> made(batch.size());
  std::vector<std::vector<SealedEntry>> sealed(batch.size());
  Status s = stores_.database->Transaction([&]() -> Status {
    int64_t now = env_->NowUnixNanos() / 1000;
    for (size_t i = 0; i < batch.size(); ++i) {
      // Each change in its own savepoint: its failure is its own.
      batch[i]->status = stores_.database->Transaction([&]() -> Status {
        ASSIGN_OR_RETURN(made[i], (*batch[i]->change)());
        if (made[i].empty()) {
          return Status::InvalidInput("a change records at least one entry");
        }
        for (auto& e : made[i]) {
          e.node = info_.name;
          e.time_unix_micros = now;
          ASSIGN_OR_RETURN(SealedEntry one, Seal(e));
          sealed[i].push_back(std::move(one));
        }
        return Status::OK();
      });
    }
    std::vector<std::string> bytes;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i]->status.ok()) continue;
      for (const auto& one : sealed[i]) bytes.push_back(one.bytes);
    }
    if (bytes.empty()) return Status::OK();
    ASSIGN_OR_RETURN(uint64_t first, log_->Append(std::move(bytes)));
    // Durable in the log: index the entries in the same transaction.
    CustodyIndex index(sql_);
    uint64_t next = first;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i]->status.ok()) continue;
      batch[i]->first = next;
      for (size_t k = 0; k < made[i].size(); ++k) {
        RETURN_IF_ERROR(
            index.Add(next++, made[i][k], sealed[i][k].disclosures));
      }
      if (batch[i]->indexed)
        RETURN_IF_ERROR((*batch[i]->indexed)(batch[i]->first));
    }
    return Status::OK();
  });
  if (!s.ok()) {
    for (Pending* p : batch) {
      if (p->status.ok()) p->status = s;
    }
  }
}

Result<SignedCheckpoint> Node::ReadCheckpoint() const {
  // The file may be a moment behind the log (see CustodyLog).
  if (log_) RETURN_IF_ERROR(log_->FlushFiles());
  ASSIGN_OR_RETURN(std::string text, tiles_.ReadCheckpoint());
  auto note = ParseNote(text);
  if (!note.ok()) {
    return Status::Corruption(tiles_.PathOf("checkpoint") + ": " +
                              note.status().message());
  }
  ASSIGN_OR_RETURN(VerifierKey key, ParseVerifierKey(info_.verifier_key));
  Status s = VerifyNoteSignature(*note, key);
  if (!s.ok()) {
    return Status::Corruption(tiles_.PathOf("checkpoint") +
                              ": signature does not verify with " +
                              info_.verifier_key + " (" + s.message() + ")");
  }
  auto cp = ParseCheckpointBody(note->text);
  if (!cp.ok()) {
    return Status::Corruption(tiles_.PathOf("checkpoint") + ": " +
                              cp.status().message());
  }
  if (cp->origin != info_.origin) {
    return Status::Corruption(tiles_.PathOf("checkpoint") + ": origin " +
                              cp->origin + " is not " + info_.origin);
  }
  return SignedCheckpoint{cp->size, cp->root, text};
}

std::string Node::Cosign(std::string_view checkpoint_body,
                         uint64_t unix_seconds) {
  return CosignatureLine(info_.name, signer_, checkpoint_body, unix_seconds);
}

std::string Node::SignStatement(std::string_view domain,
                                std::string_view body) const {
  std::string m(domain);
  m.push_back('\n');
  m.append(body);
  Ed25519Signature sig = signer_.Sign(AsBytes(m));
  return Base64Encode(ByteView(sig.data(), sig.size()));
}

std::string Node::CosignerKey() const {
  return FormatVerifierKey(info_.name, kNoteKeyTypeCosignatureV1,
                           signer_.public_key());
}

}  // namespace amanah
