#include "vqi/server/range.h"

#include <gtest/gtest.h>

namespace vqi::server {
namespace {

using K = ByteRange::Kind;

TEST(RangeTest, AbsentOrForeignHeaderMeansWhole) {
  EXPECT_EQ(ParseRange("", 100).kind, K::kWhole);
  EXPECT_EQ(ParseRange("items=0-5", 100).kind, K::kWhole);
  EXPECT_EQ(ParseRange("bytes=", 100).kind, K::kWhole);
  EXPECT_EQ(ParseRange("bytes=abc", 100).kind, K::kWhole);
  EXPECT_EQ(ParseRange("bytes=-", 100).kind, K::kWhole);
  EXPECT_EQ(ParseRange("bytes=5-2", 100).kind, K::kWhole);  // last < first: invalid, ignored
  EXPECT_EQ(ParseRange("bytes=1-2x", 100).kind, K::kWhole);
  EXPECT_EQ(ParseRange("bytes=+1-2", 100).kind, K::kWhole);
}

TEST(RangeTest, ClosedRange) {
  ByteRange r = ParseRange("bytes=10-19", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.offset, 10u);
  EXPECT_EQ(r.length, 10u);
  EXPECT_EQ(ContentRange(r, 100), "bytes 10-19/100");
}

TEST(RangeTest, FirstByteAndLastByte) {
  ByteRange r = ParseRange("bytes=0-0", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.length, 1u);
  r = ParseRange("bytes=99-99", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.offset, 99u);
  EXPECT_EQ(r.length, 1u);
}

TEST(RangeTest, LastPositionPastTheEndIsClipped) {
  ByteRange r = ParseRange("bytes=90-1000", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.offset, 90u);
  EXPECT_EQ(r.length, 10u);
  EXPECT_EQ(ContentRange(r, 100), "bytes 90-99/100");
}

TEST(RangeTest, OpenRange) {
  ByteRange r = ParseRange("bytes=40-", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.offset, 40u);
  EXPECT_EQ(r.length, 60u);
}

TEST(RangeTest, SuffixRange) {
  ByteRange r = ParseRange("bytes=-30", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.offset, 70u);
  EXPECT_EQ(r.length, 30u);
  r = ParseRange("bytes=-500", 100);  // more than the whole: the whole, as a range
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 100u);
}

TEST(RangeTest, Unsatisfiable) {
  EXPECT_EQ(ParseRange("bytes=100-", 100).kind, K::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=100-200", 100).kind, K::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 100).kind, K::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0).kind, K::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-5", 0).kind, K::kUnsatisfiable);
  EXPECT_EQ(ContentRange(ParseRange("bytes=100-", 100), 100), "bytes */100");
}

TEST(RangeTest, SeveralRangesAreIgnored) {
  EXPECT_EQ(ParseRange("bytes=0-1,5-6", 100).kind, K::kWhole);
}

TEST(RangeTest, HugeNumbersDoNotOverflow) {
  EXPECT_EQ(ParseRange("bytes=99999999999999999999999-", 100).kind, K::kWhole);
  EXPECT_EQ(ParseRange("bytes=18446744073709551615-", 100).kind, K::kUnsatisfiable);
  ByteRange r = ParseRange("bytes=0-18446744073709551615", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.length, 100u);
}

TEST(RangeTest, SpacesAndCase) {
  ByteRange r = ParseRange("  Bytes= 1 - 2 ", 100);
  ASSERT_EQ(r.kind, K::kPartial);
  EXPECT_EQ(r.offset, 1u);
  EXPECT_EQ(r.length, 2u);
}

}  // namespace
}  // namespace vqi::server
