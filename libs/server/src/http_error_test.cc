#include "vqi/server/http_error.h"

#include <gtest/gtest.h>

namespace vqi::server {
namespace {

TEST(HttpErrorTest, StatusCodesMapToHttp) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
}

TEST(HttpErrorTest, EveryCodeHasADistinctWord) {
  std::set<std::string> words;
  for (int c = 0; c <= static_cast<int>(StatusCode::kResourceExhausted); ++c)
    words.insert(ErrorCodeFor(static_cast<StatusCode>(c)));
  EXPECT_EQ(words.size(), static_cast<size_t>(StatusCode::kResourceExhausted) + 1);
  EXPECT_STREQ(ErrorCodeFor(StatusCode::kNotFound), "not_found");
}

TEST(HttpErrorTest, HttpOnlyCodes) {
  EXPECT_STREQ(ErrorCodeForHttp(401), "unauthenticated");
  EXPECT_STREQ(ErrorCodeForHttp(404), "no_route");
  EXPECT_STREQ(ErrorCodeForHttp(411), "length_required");
  EXPECT_STREQ(ErrorCodeForHttp(413), "payload_too_large");
  EXPECT_STREQ(ErrorCodeForHttp(416), "range_not_satisfiable");
  EXPECT_STREQ(ErrorCodeForHttp(418), "bad_request");
  EXPECT_STREQ(ErrorCodeForHttp(502), "internal");
}

TEST(HttpErrorTest, Shape) {
  Json j = ErrorJson("not_found", "no model group 'x'");
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["message"], "no model group 'x'");
  EXPECT_EQ(j.size(), 1u);
}

}  // namespace
}  // namespace vqi::server
