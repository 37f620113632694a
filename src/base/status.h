// Status and Result<T>: amanah's one error type.
//
// A small closed set of codes, each mapping one-to-one to an HTTP status and a
// CLI exit code. Errors are values; exceptions never cross module boundaries.

#ifndef AMANAH_BASE_STATUS_H_
#define AMANAH_BASE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace amanah {

enum class Code {
  kOk = 0,
  kInvalidInput,     // the caller's input is wrong: HTTP 400, exit 2
  kNotFound,         // HTTP 404, exit 3
  kConflict,         // exists already / wrong state: HTTP 409, exit 4
  kCorruption,       // stored data fails verification: HTTP 500, exit 5
  kPermission,       // HTTP 403, exit 6
  kUnavailable,      // try again later: HTTP 503, exit 7
  kIO,               // the operating system refused: HTTP 500, exit 8
  kUnauthenticated,  // no or bad credentials: HTTP 401, exit 9
  kTooLarge,         // input beyond a size limit: HTTP 413, exit 10
  kTooManyRequests,  // the caller must wait before trying again: HTTP 429,
                     // exit 11
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidInput(std::string m) {
    return Status(Code::kInvalidInput, std::move(m));
  }
  static Status NotFound(std::string m) {
    return Status(Code::kNotFound, std::move(m));
  }
  static Status Conflict(std::string m) {
    return Status(Code::kConflict, std::move(m));
  }
  static Status Corruption(std::string m) {
    return Status(Code::kCorruption, std::move(m));
  }
  static Status Permission(std::string m) {
    return Status(Code::kPermission, std::move(m));
  }
  static Status Unavailable(std::string m) {
    return Status(Code::kUnavailable, std::move(m));
  }
  static Status TooLarge(std::string m) {
    return Status(Code::kTooLarge, std::move(m));
  }
  static Status TooManyRequests(std::string m) {
    return Status(Code::kTooManyRequests, std::move(m));
  }
  static Status Unauthenticated(std::string m) {
    return Status(Code::kUnauthenticated, std::move(m));
  }
  static Status IOError(std::string m) {
    return Status(Code::kIO, std::move(m));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "corruption: <message>", for logs and one-line CLI errors.
  std::string ToString() const;
  // Adds context in front of the message, keeping the code.
  Status Annotate(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Code code);
int ExitCodeFor(Code code);
int HttpStatusFor(Code code);

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace amanah

#define AMANAH_CONCAT_INNER(a, b) a##b
#define AMANAH_CONCAT(a, b) AMANAH_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)      \
  do {                             \
    ::amanah::Status _st = (expr); \
    if (!_st.ok()) return _st;     \
  } while (0)

// ASSIGN_OR_RETURN(auto x, Foo()): unwraps a Result or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(AMANAH_CONCAT(_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#endif  // AMANAH_BASE_STATUS_H_
