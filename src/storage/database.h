// The Database port: what the application services need from a
// transactional store, without naming the engine (SQLite in the embedded
// default, PostgreSQL later). The aggregates' stores (storage/*_store.h)
// are made by the same adapter and share its transactions.
//
// The transaction model:
//  - Ambient, per thread. A store call made by a thread while it is inside
//    Transaction() belongs to that transaction; a store call made outside
//    any is a change of its own (the store makes it atomic). Nothing is
//    passed around: the adapter knows which connection the calling thread
//    holds (SQLite: the one connection; PostgreSQL: a connection taken from
//    the pool and pinned to the thread until the outermost transaction
//    ends).
//  - Nested calls are savepoints: an inner Transaction() that fails is
//    undone alone, and the outer one goes on.
//  - Serialisable: a transaction sees everything committed before it began
//    and acts as if no other ran at the same time. The SQLite adapter runs
//    them one at a time (BEGIN IMMEDIATE behind a lock); a PostgreSQL
//    adapter runs them at SERIALIZABLE isolation and reports a transaction
//    it could not commit for that reason as kUnavailable. It never runs
//    `fn` twice by itself: `fn` may have done what cannot be repeated
//    (appended custody entries), so a retry is the caller's decision.
//  - All or nothing: if `fn` fails, or the commit does, nothing `fn` wrote
//    through the stores is kept.

#ifndef AMANAH_STORAGE_DATABASE_H_
#define AMANAH_STORAGE_DATABASE_H_

#include <functional>

#include "base/status.h"

namespace amanah {

class Database {
 public:
  virtual ~Database() = default;

  // Runs `fn` in a transaction and commits if it returns OK; otherwise
  // rolls back and returns its status. Inside another transaction of the
  // same thread, a savepoint within it.
  virtual Status Transaction(const std::function<Status()>& fn) = 0;

  // Whether the calling thread is inside Transaction().
  virtual bool InTransactionOnThisThread() const = 0;
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_DATABASE_H_
