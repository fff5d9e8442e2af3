// Hostile safetensors files (issue 16): each is refused with an error naming the file and the
// tensor, never wraps into the header, never allocates from a claimed size.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "vqi/base/json.h"
#include "vqi/base/safetensors.h"

namespace vqi {
namespace {

// A file with the raw JSON `header` (padded) and `data` after it.
std::string Raw(const std::string& header, const std::string& data) {
  std::string h = header;
  while (h.size() % 8 != 0) h.push_back(' ');
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + h + data;
}

std::string Length(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

void ExpectRefused(const std::string& bytes, StatusCode code, const std::string& message) {
  Result<TensorFile> r = ParseSafetensors(bytes, "m.safetensors");
  ASSERT_FALSE(r.ok()) << "accepted; expected: " << message;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().ToString();
  EXPECT_EQ(r.status().message().rfind("m.safetensors", 0), 0u) << r.status().ToString();
}

TEST(SafetensorsHostileTest, OffsetsThatWrapAroundAreRefusedNotReadFromTheHeader) {
  // begin/end near 2^64: base + end wraps to a small number, which used to pass the bounds
  // check and load 4 header bytes as the weight.
  ExpectRefused(
      Raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551608,18446744073709551612]}})",
          "abcd"),
      StatusCode::kDataLoss, "tensor 'w': data_offsets [18446744073709551608");
  ExpectRefused(
      Raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}})", "abcd"),
      StatusCode::kDataLoss, "outside the 4-byte data section");
}

TEST(SafetensorsHostileTest, ShapeWhoseByteSizeOverflowsIsRefused) {
  // 2^62 x 4 elements x 4 bytes wraps to 0 = the empty byte range claimed.
  ExpectRefused(
      Raw(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", ""),
      StatusCode::kDataLoss, "tensor 'w': shape [4611686018427387904,4] overflows");
  ExpectRefused(
      Raw(R"({"w":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}})", std::string(16, 'x')),
      StatusCode::kDataLoss, "dimension -1 is not a non-negative integer");
  ExpectRefused(
      Raw(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", "abcd"),
      StatusCode::kDataLoss, "at most 8 dimensions");
  ExpectRefused(Raw(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "abcd"),
                StatusCode::kDataLoss, "dimension 1.5 is not a non-negative integer");
}

TEST(SafetensorsHostileTest, HeaderLengthOverTheLimitIsResourceExhausted) {
  ExpectRefused(Length(uint64_t{1} << 40) + "{}", StatusCode::kResourceExhausted,
                "header length 1099511627776 is over the limit 100000000");
  ExpectRefused(Length(UINT64_MAX) + "{}", StatusCode::kResourceExhausted, "over the limit");
  ExpectRefused(Length(64) + "{}", StatusCode::kDataLoss, "exceeds file size");
}

TEST(SafetensorsHostileTest, OverlappingGappedOrTrailingRangesAreRefused) {
  // Two tensors over the same bytes.
  ExpectRefused(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                    "abcd"),
                StatusCode::kDataLoss, "expected 4 (tensors overlap or leave a gap)");
  // A hole before the tensor.
  ExpectRefused(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", "abcdefgh"),
                StatusCode::kDataLoss, "tensor 'a' starts at byte 4");
  // Bytes nobody claims.
  ExpectRefused(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcdefgh"),
                StatusCode::kDataLoss, "4 bytes after the last tensor");
}

TEST(SafetensorsHostileTest, MalformedEntriesAreRefused) {
  ExpectRefused(Raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", ""),
                StatusCode::kDataLoss, "data_offsets must be two non-negative integers");
  ExpectRefused(Raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", "abcd"),
                StatusCode::kDataLoss, "data_offsets must be two");
  ExpectRefused(Raw(R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "abcd"),
                StatusCode::kDataLoss, "shape must be an array");
  ExpectRefused(Raw(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", "abcdefgh"),
                StatusCode::kDataLoss, "unsupported dtype \"F64\"");
  ExpectRefused(Raw(R"({"__metadata__":{"k":1}})", ""), StatusCode::kDataLoss,
                "metadata 'k' is not a string");
  ExpectRefused(Raw("[1,2]", ""), StatusCode::kDataLoss, "header is not a JSON object");
  // Nesting deeper than kMaxJsonDepth in the header.
  ExpectRefused(Raw(std::string(200, '[') + std::string(200, ']'), ""),
                StatusCode::kResourceExhausted, "");
}

TEST(SafetensorsHostileTest, ValidEdgeCasesStillParse) {
  // Empty tensors may share an offset; a scalar has shape [].
  Result<TensorFile> r =
      ParseSafetensors(Raw(R"({"e1":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                           R"("e2":{"dtype":"F32","shape":[4,0],"data_offsets":[0,0]},)"
                           R"("s":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})",
                           std::string(8, '\1')),
                       "ok.safetensors");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tensors.at("s").data.size(), 8u);
  EXPECT_EQ(r->tensors.at("e2").data.size(), 0u);
}

}  // namespace
}  // namespace vqi
