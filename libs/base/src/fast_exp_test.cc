// vqi::FastExp against std::exp: accuracy over its range, the clamps, NaN.
#include "vqi/base/fast_exp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace vqi {
namespace {

TEST(FastExpTest, WithinTwoUlpOfStdExp) {
  for (float x = -87.f; x <= 88.f; x += 0.01734f) {
    const float want = std::exp(x), got = FastExp(x);
    EXPECT_LE(std::fabs(got - want), 2.5f * std::numeric_limits<float>::epsilon() * want) << x;
  }
  EXPECT_EQ(FastExp(0.f), 1.f);
}

TEST(FastExpTest, ClampsOutsideTheFloatRangeAndKeepsNaN) {
  EXPECT_FLOAT_EQ(FastExp(-1000.f), FastExp(-87.f));
  EXPECT_GT(FastExp(-1000.f), 0.f);
  EXPECT_FLOAT_EQ(FastExp(1000.f), FastExp(88.f));
  EXPECT_TRUE(std::isfinite(FastExp(std::numeric_limits<float>::infinity())));
  EXPECT_TRUE(std::isnan(FastExp(std::numeric_limits<float>::quiet_NaN())));
}

}  // namespace
}  // namespace vqi
