#include "storage/sqlite/peer_store.h"

namespace amanah {

namespace {

constexpr char kSelect[] =
    "SELECT name, url, log_key, tls_pin, added FROM peers ";

PeerRecord ReadPeer(const Statement& q) {
  return PeerRecord{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4)};
}

}  // namespace

Status SqlitePeerStore::Insert(const PeerRecord& p) {
  return db_->Write([&]() -> Status {
    Statement ins(*db_,
                  "INSERT INTO peers(name, url, log_key, tls_pin, added) "
                  "VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING name");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, p.name);
    ins.Bind(2, p.url);
    ins.Bind(3, p.log_key);
    ins.Bind(4, p.tls_pin);
    ins.Bind(5, p.added);
    ASSIGN_OR_RETURN(bool inserted, ins.NextRow());
    if (!inserted) return Status::Conflict("peer " + p.name + " exists");
    return Status::OK();
  });
}

Status SqlitePeerStore::Remove(const std::string& name) {
  return db_->Write([&]() -> Status {
    Statement del(*db_, "DELETE FROM peers WHERE name=? RETURNING name");
    RETURN_IF_ERROR(del.status());
    del.Bind(1, name);
    ASSIGN_OR_RETURN(bool removed, del.NextRow());
    if (!removed) return Status::NotFound("no peer " + name);
    return Status::OK();
  });
}

Result<std::optional<PeerRecord>> SqlitePeerStore::Find(
    const std::string& name) {
  Statement q(*db_, (std::string(kSelect) + "WHERE name=?").c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, name);
  ASSIGN_OR_RETURN(bool found, q.NextRow());
  if (!found) return std::optional<PeerRecord>();
  return std::optional<PeerRecord>(ReadPeer(q));
}

Result<std::vector<PeerRecord>> SqlitePeerStore::List() {
  Statement q(*db_, (std::string(kSelect) + "ORDER BY name").c_str());
  RETURN_IF_ERROR(q.status());
  std::vector<PeerRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.NextRow());
    if (!row) break;
    out.push_back(ReadPeer(q));
  }
  return out;
}

}  // namespace amanah
