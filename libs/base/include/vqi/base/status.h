// Status and Result<T>: errors are values at module boundaries.
//
// Codes tell the caller what to do: kInvalidArgument (fix the input), kNotFound,
// kAlreadyExists, kFailedPrecondition (fix state first), kUnavailable (retry later),
// kDataLoss (stored data is damaged), kUnimplemented, kCancelled, kDeadlineExceeded,
// kPermissionDenied (the caller may not do this; do not retry), kResourceExhausted (a
// documented limit was hit, docs/limits.md; retrying the same input fails again),
// kInternal (a bug). Thread-compatible value types.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace vqi {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kDataLoss,
  kUnimplemented,
  kCancelled,
  kDeadlineExceeded,
  kInternal,
  kPermissionDenied,
  kResourceExhausted,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message" (or "OK").
  std::string ToString() const;
  // Returns a copy with `context + ": "` prepended to the message.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(implicit)
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const std::string& msg);

}  // namespace vqi

#define VQI_CONCAT_INNER(a, b) a##b
#define VQI_CONCAT(a, b) VQI_CONCAT_INNER(a, b)

#define VQI_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::vqi::Status _vqi_st = (expr);        \
    if (!_vqi_st.ok()) return _vqi_st;     \
  } while (0)

#define VQI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// VQI_ASSIGN_OR_RETURN(auto x, Foo()); returns the error status if Foo() failed.
#define VQI_ASSIGN_OR_RETURN(lhs, expr) \
  VQI_ASSIGN_OR_RETURN_IMPL(VQI_CONCAT(_vqi_res_, __LINE__), lhs, expr)

// Invariants only (bugs), never for input validation.
#define VQI_CHECK(cond)                                                    \
  do {                                                                     \
    if (!(cond)) ::vqi::CheckFailed(__FILE__, __LINE__, #cond, "");        \
  } while (0)
#define VQI_CHECK_MSG(cond, msg)                                           \
  do {                                                                     \
    if (!(cond)) ::vqi::CheckFailed(__FILE__, __LINE__, #cond, (msg));     \
  } while (0)
