// A node's directory (the embedded default):
//
//   <data>/node.toml          name and origin
//   <data>/keys/signing.key   Ed25519 signing key, mode 0600
//   <data>/keys/verifier.key  the verifier key, C2SP form
//   <data>/keys/vault.key     the vault master key, mode 0600
//   <data>/keys/tls.pem       the node's self-signed TLS certificate, which
//   <data>/keys/tls.key       peers pin, and its key (mode 0600)
//   <data>/amanah.db          SQLite (WAL): evidence metadata
//   <data>/log/               the custody log, C2SP tlog-tiles
//   <data>/journal/           the custody log's journal
//   <data>/vault/             encrypted evidence objects
//   <data>/LOCK               held by the process appending to the log

#ifndef AMANAH_APP_NODE_H_
#define AMANAH_APP_NODE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "ledger/custody_entry.h"
#include "ledger/custody_log.h"
#include "ledger/disclosure.h"
#include "storage/stores.h"
#include "vault/vault.h"

namespace amanah {

class EvidenceDb;
class SqliteDb;

// The node's TLS certificate and key (PEM files): what it serves HTTPS with
// and presents to peers as a client, and what peers pin.
struct TlsIdentity {
  std::string cert, key;
  bool empty() const { return cert.empty() || key.empty(); }
};

struct NodeInfo {
  std::string name;          // e.g. "ccd.moi.gov.kw"
  std::string origin;        // name + "/custody"
  std::string verifier_key;  // "origin+keyid+base64"
  std::string tls_pin;       // SHA-256 of keys/tls.pem, hex (Init only)
};

// Accepts DNS-like names: lowercase letters, digits, '.', '-'; 1..253 bytes.
Status ValidateNodeName(std::string_view name);

class Node {
 public:
  // Creates a node directory. kConflict if one exists there. On failure
  // removes what it created.
  static Result<NodeInfo> Init(Env* env, const std::string& dir,
                               const std::string& name);
  // Opens an existing node directory; the custody log is opened on first use.
  static Result<std::unique_ptr<Node>> Open(Env* env, const std::string& dir);
  ~Node();

  const NodeInfo& info() const { return info_; }
  const std::string& dir() const { return dir_; }
  Env* env() const { return env_; }
  Vault& vault() { return *vault_; }
  EvidenceDb& db() { return *db_; }
  // The node's stores (storage/stores.h) and their Database.
  Stores& stores() { return stores_; }
  Database& database() { return *stores_.database; }
  // Transitional: the SQLite database behind the stores, for the parts of
  // app/ not yet behind a port (docs/architecture.md, "Seam progress").
  SqliteDb& sql() { return *sql_; }
  const Ed25519PublicKey& public_key() const { return signer_.public_key(); }
  const TileStore& tiles() const { return tiles_; }
  // keys/tls.pem and keys/tls.key if they exist, unless set otherwise (the
  // server sets the certificate it serves with).
  const TlsIdentity& tls_identity() const { return tls_identity_; }
  void set_tls_identity(TlsIdentity id) { tls_identity_ = std::move(id); }

  // The custody log, opened for appending: takes the node's writer lock
  // (waiting while another process holds it) and recovers after a crash.
  Result<CustodyLog*> Log();

  // The bytes an entry is appended as, and the disclosures the database
  // keeps for it: an entry about a case is sealed with the case's secret
  // (ledger/disclosure.h), any other is in clear. Node and time must be set.
  Result<SealedEntry> Seal(const CustodyEntry& entry);

  // Fills in node and time, appends the entry, and returns its index and
  // bytes once durable and published. Called inside a database transaction
  // (Database::Transaction), the entry is indexed in it and belongs to the
  // caller's change: if that does not commit, the entry is voided when the
  // node next opens. Otherwise it is a change of its own (Apply).
  Result<std::pair<uint64_t, std::string>> Record(CustodyEntry entry);

  // A change to the database and the custody entries that record it, made
  // together: `change` runs inside a database transaction and returns the
  // entries; they are appended (durable) before the transaction commits,
  // and if anything fails neither happens. Concurrent calls share one
  // transaction, one log append and one commit (group commit), each change
  // in a savepoint of its own so that one failing does not undo the others.
  // Returns the index of the first entry.
  // `indexed`, if given, runs in the same transaction once the entries'
  // indices are known (the first one is passed), to store them with the
  // change; its failure fails the whole transaction, as a failed commit
  // would, after the entries are durable (the custody index catches up on
  // the next open, but the batch's rows are gone). So it only writes what
  // `change` has already checked can be written: every refusal belongs in
  // `change`, which fails alone.
  using Change = std::function<Result<std::vector<CustodyEntry>>()>;
  using Indexed = std::function<Status(uint64_t first)>;
  Result<uint64_t> Apply(const Change& change,
                         const Indexed& indexed = nullptr);

  // Entry `index` as it is in the log, and its time (RFC 3339) as the
  // custody index has it.
  Result<std::string> EntryBytes(uint64_t index);
  Result<std::string> EntryTime(uint64_t index);

  // A C2SP tlog-cosignature/v1 line by this node as a witness over a peer's
  // checkpoint body. The cosigner name is the node's name and the key its
  // signing key (key type 0x04: key IDs and signed messages differ from
  // those of its checkpoints).
  std::string Cosign(std::string_view checkpoint_body, uint64_t unix_seconds);
  // An Ed25519 signature by this node over `domain` "\n" `body`, in base64
  // (federation messages and receipts; the domain line keeps each kind of
  // signed statement apart from the others and from checkpoints).
  std::string SignStatement(std::string_view domain,
                            std::string_view body) const;
  // This node's cosigner key, "name+keyid+base64(0x04 || key)".
  std::string CosignerKey() const;

  // The checkpoint file, its signature checked against this node's key;
  // if this process has the log open, once the file names its latest.
  Result<SignedCheckpoint> ReadCheckpoint() const;

 private:
  struct Pending;
  void ApplyBatch(std::vector<Pending*>& batch);
  std::mutex apply_mu_;
  std::deque<Pending*> apply_queue_;  // guarded by apply_mu_

  Node(Env* env, std::string dir, NodeInfo info, Ed25519PrivateKey signer,
       MasterKey master);

  Env* env_;
  std::string dir_;
  NodeInfo info_;
  Ed25519PrivateKey signer_;
  TileStore tiles_;
  TlsIdentity tls_identity_;
  std::unique_ptr<Vault> vault_;
  // At open: every entry of the log that the database does not know was
  // appended by a change that never committed. Each gets an entry.voided
  // (docs/formats.md), so that the log and the database agree.
  Status VoidUncommitted();

  Stores stores_;            // before what uses it, so destroyed after
  SqliteDb* sql_ = nullptr;  // owned by stores_
  std::unique_ptr<EvidenceDb> db_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<CustodyLog> log_;
};

}  // namespace amanah

#endif  // AMANAH_APP_NODE_H_
