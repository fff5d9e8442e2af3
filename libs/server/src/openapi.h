// The OpenAPI 3.0 document of a route table.
#pragma once

#include "router.h"
#include "vqi/base/json.h"

namespace vqi::server {

// One path item per pattern, one operation per route: parameters from the {names} of the
// pattern, the request body from Route::body/request_schema, the success response from
// Route::success/response_schema, every error as the shared Error schema, security `bearer`
// unless the route is public, and `x-vqi-access` with the scope the route needs.
Json BuildOpenApi(const Router& router, bool tls);

}  // namespace vqi::server
