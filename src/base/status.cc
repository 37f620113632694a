#include "base/status.h"

namespace amanah {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidInput:
      return "invalid input";
    case Code::kNotFound:
      return "not found";
    case Code::kConflict:
      return "conflict";
    case Code::kCorruption:
      return "corruption";
    case Code::kPermission:
      return "permission denied";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kIO:
      return "i/o error";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kTooLarge:
      return "too large";
    case Code::kTooManyRequests:
      return "too many requests";
  }
  return "unknown";
}

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 0;
    case Code::kInvalidInput:
      return 2;
    case Code::kNotFound:
      return 3;
    case Code::kConflict:
      return 4;
    case Code::kCorruption:
      return 5;
    case Code::kPermission:
      return 6;
    case Code::kUnavailable:
      return 7;
    case Code::kIO:
      return 8;
    case Code::kUnauthenticated:
      return 9;
    case Code::kTooLarge:
      return 10;
    case Code::kTooManyRequests:
      return 11;
  }
  return 1;
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidInput:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kPermission:
      return 403;
    case Code::kUnavailable:
      return 503;
    case Code::kUnauthenticated:
      return 401;
    case Code::kTooLarge:
      return 413;
    case Code::kTooManyRequests:
      return 429;
    case Code::kCorruption:
    case Code::kIO:
      return 500;
  }
  return 500;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  // A message that names the context already is not prefixed twice.
  if (message_.size() > context.size() &&
      message_.compare(0, context.size(), context) == 0 &&
      (message_[context.size()] == ':' || message_[context.size()] == ' ')) {
    return *this;
  }
  return Status(code_, std::string(context) + ": " + message_);
}

}  // namespace amanah
