// One error shape for every response that is not a success:
//
//   {"error": {"code": "not_found", "message": "no model group 'x'"}}
//
// `code` is a stable machine-readable word (the table in docs/api.md); `message` is for people.
#pragma once

#include <string>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::server {

// The HTTP status for a vqi status code: InvalidArgument 400, PermissionDenied 403, NotFound
// 404, AlreadyExists 409, FailedPrecondition 409, ResourceExhausted 413, Unimplemented 501,
// Unavailable 503, DeadlineExceeded 504, DataLoss / Internal / Cancelled 500.
int HttpStatusFor(StatusCode code);

// The error code word for a vqi status code: "invalid_argument", "not_found", ...
const char* ErrorCodeFor(StatusCode code);

// The error code word for an HTTP status the server sets itself, without a vqi Status
// (401 "unauthenticated", 404 "no_route", 405 "method_not_allowed", 411 "length_required",
// 413 "payload_too_large", 414 "uri_too_long", 416 "range_not_satisfiable", 503
// "unavailable", other 4xx "bad_request", other 5xx "internal").
const char* ErrorCodeForHttp(int http_status);

Json ErrorJson(const std::string& code, const std::string& message);

}  // namespace vqi::server
