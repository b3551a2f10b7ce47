#include "worker/static/mime_types.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace itkd {
namespace {

TEST(MimeTypes, ParsesTextWithCommentsAndCase) {
  MimeTypes m = MimeTypes::from_text(
      "# comment line\n"
      "text/html\t\thtml htm # trailing comment\n"
      "\n"
      "Image/PNG png\n"
      "application/x-nothing\n"
      "text/plain txt\r\n");
  EXPECT_EQ(m.lookup("html"), "text/html");
  EXPECT_EQ(m.lookup("htm"), "text/html");
  EXPECT_EQ(m.lookup("png"), "image/png");
  EXPECT_EQ(m.lookup("txt"), "text/plain");
  EXPECT_EQ(m.lookup("comment"), "");
  EXPECT_EQ(m.lookup("nothing"), "");
  EXPECT_EQ(m.size(), 4u);
}

TEST(MimeTypes, LoadsSystemFile) {
  if (access("/etc/mime.types", R_OK) != 0) GTEST_SKIP() << "no /etc/mime.types (media-types)";
  Result<MimeTypes> m = MimeTypes::load("/etc/mime.types");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->lookup("html"), "text/html");
  EXPECT_EQ(m->lookup("css"), "text/css");
  EXPECT_EQ(m->lookup("png"), "image/png");
  EXPECT_GT(m->size(), 500u);
}

TEST(MimeTypes, LoadMissingFileSaysWhatToDo) {
  Result<MimeTypes> m = MimeTypes::load("/nonexistent/mime.types");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("/nonexistent/mime.types"), std::string::npos);
  EXPECT_NE(m.error().message.find("media-types"), std::string::npos);
}

}  // namespace
}  // namespace itkd
