#include "vqi/server/scope.h"

#include <string>

namespace vqi::server {

const char* ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kRead:
      return "read";
    case Scope::kWrite:
      return "write";
    case Scope::kAdmin:
      return "admin";
    case Scope::kDevice:
      return "device";
  }
  return "?";
}

Result<Scope> ParseScope(std::string_view name) {
  for (Scope s : {Scope::kRead, Scope::kWrite, Scope::kAdmin, Scope::kDevice})
    if (name == ScopeName(s)) return s;
  return InvalidArgument("scope '" + std::string(name) +
                         "' is not one of read, write, admin, device");
}

const char* AccessName(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kRead:
      return "read";
    case Access::kReadOrDevice:
      return "read|device";
    case Access::kWrite:
      return "write";
    case Access::kAdmin:
      return "admin";
  }
  return "?";
}

bool Allows(Scope scope, Access access) {
  switch (access) {
    case Access::kPublic:
      return true;
    case Access::kReadOrDevice:
      return true;  // every scope, device included
    case Access::kRead:
      return scope != Scope::kDevice;
    case Access::kWrite:
      return scope == Scope::kWrite || scope == Scope::kAdmin;
    case Access::kAdmin:
      return scope == Scope::kAdmin;
  }
  return false;
}

}  // namespace vqi::server
