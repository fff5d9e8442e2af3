#include "vqi/yolo/labels.h"

#include <gtest/gtest.h>

namespace vqi::yolo {
namespace {

TEST(YoloLabelsTest, ParsesNormalizedBoxes) {
  auto r = ParseYoloLabels("0 0.5 0.5 0.2 0.4\n\n  1 0.1 0.2 0.2 0.2 \r\n", 200, 100, "a.txt");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_FLOAT_EQ((*r)[0].x1, 80);
  EXPECT_FLOAT_EQ((*r)[0].x2, 120);
  EXPECT_FLOAT_EQ((*r)[0].y1, 30);
  EXPECT_FLOAT_EQ((*r)[0].y2, 70);
  EXPECT_EQ((*r)[1].class_id, 1);
  EXPECT_FLOAT_EQ((*r)[1].x1, 0);  // clipped at the image border
  EXPECT_FLOAT_EQ((*r)[1].y1, 10);
  EXPECT_TRUE(ParseYoloLabels("", 10, 10, "empty.txt")->empty());
}

TEST(YoloLabelsTest, ErrorsNameFileLineAndField) {
  auto r = ParseYoloLabels("0 0.5 0.5 0.2 0.2\n0 0.5 x 0.2 0.2\n", 10, 10, "b.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("b.txt:2: field cy 'x'"), std::string::npos);
  EXPECT_NE(
      ParseYoloLabels("0 0.5 0.5 0.2\n", 10, 10, "c").status().message().find("c:1: expected 5"),
      std::string::npos);
  EXPECT_NE(ParseYoloLabels("1.5 0.5 0.5 0.2 0.2", 10, 10, "c").status().message().find("class"),
            std::string::npos);
  EXPECT_NE(ParseYoloLabels("0 5 5 2 2", 10, 10, "c").status().message().find("normalized"),
            std::string::npos);
  EXPECT_FALSE(ParseYoloLabels("0 0.5 0.5 -0.1 0.2", 10, 10, "c").ok());
  EXPECT_FALSE(ParseYoloLabels("0 0.5 0.5 0.1 0.2", 0, 10, "c").ok());
}

TEST(YoloLabelsTest, LabelCandidates) {
  EXPECT_EQ(YoloLabelCandidates("/d/images/val/x.jpg"),
            std::vector<std::string>({"/d/labels/val/x.txt", "/d/images/val/x.txt"}));
  EXPECT_EQ(YoloLabelCandidates("/d/x.png"), std::vector<std::string>({"/d/x.txt"}));
}

}  // namespace
}  // namespace vqi::yolo
