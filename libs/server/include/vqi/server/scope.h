// Token scopes and what each route needs.
//
// Scopes nest: admin implies write implies read. `device` is the scope of an edge device: it
// may read artifacts and components (what an install needs) and nothing else.
#pragma once

#include <string_view>

#include "vqi/base/status.h"

namespace vqi::server {

enum class Scope { kRead, kWrite, kAdmin, kDevice };

// "read", "write", "admin", "device".
const char* ScopeName(Scope scope);
// InvalidArgument naming the accepted values.
Result<Scope> ParseScope(std::string_view name);

// What a route requires of the caller.
enum class Access {
  kPublic,        // no token (health, OpenAPI)
  kRead,          // read, write or admin
  kReadOrDevice,  // read, write, admin or device (artifacts, components)
  kWrite,         // write or admin
  kAdmin,         // admin
};

// "public", "read", "read|device", "write", "admin" (as printed in docs and errors).
const char* AccessName(Access access);

// Whether a token of `scope` may call a route that needs `access`.
bool Allows(Scope scope, Access access);

}  // namespace vqi::server
