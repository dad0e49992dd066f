// robots.txt parsing and matching (RFC 9309).
#include <gtest/gtest.h>

#include "host/fetch/robots.h"

namespace host::fetch {
namespace {

TEST(Robots, AgentTokenIsTheProductName) {
  EXPECT_EQ(robots_agent_token("SmartDataPipeline/0.1 (+https://example.invalid/bot)"),
            "smartdatapipeline");
  EXPECT_EQ(robots_agent_token("Bot"), "bot");
}

TEST(Robots, StarGroupAppliesWhenNoGroupNamesUs) {
  const auto r = RobotsRules::parse("User-agent: *\nDisallow: /private\n", "mybot");
  EXPECT_FALSE(r.allowed("/private"));
  EXPECT_FALSE(r.allowed("/private/x?y=1"));
  EXPECT_TRUE(r.allowed("/public"));
  EXPECT_TRUE(r.allowed("/"));
}

TEST(Robots, OurGroupReplacesTheStarGroup) {
  const char* body =
      "User-agent: *\n"
      "Disallow: /\n"
      "\n"
      "User-agent: MyBot\n"
      "Disallow: /secret\n";
  const auto r = RobotsRules::parse(body, "mybot");
  EXPECT_TRUE(r.allowed("/page"));
  EXPECT_FALSE(r.allowed("/secret/1"));
  EXPECT_FALSE(RobotsRules::parse(body, "otherbot").allowed("/page"));
}

TEST(Robots, GroupsForTheSameAgentAreMergedAndConsecutiveAgentsShareAGroup) {
  const char* body =
      "User-agent: a\n"
      "User-agent: mybot\n"
      "Disallow: /one\n"
      "User-agent: b\n"
      "Disallow: /two\n"
      "User-agent: MYBOT\n"
      "Disallow: /three\n";
  const auto r = RobotsRules::parse(body, "mybot");
  EXPECT_FALSE(r.allowed("/one"));
  EXPECT_TRUE(r.allowed("/two"));
  EXPECT_FALSE(r.allowed("/three"));
}

TEST(Robots, LongestMatchWinsAndAllowWinsATie) {
  const auto r = RobotsRules::parse(
      "User-agent: *\nDisallow: /shop\nAllow: /shop/public\nAllow: /x\nDisallow: /x\n", "b");
  EXPECT_FALSE(r.allowed("/shop/cart"));
  EXPECT_TRUE(r.allowed("/shop/public/1"));
  EXPECT_TRUE(r.allowed("/x"));
}

TEST(Robots, WildcardsAndEndAnchor) {
  const auto r = RobotsRules::parse(
      "User-agent: *\nDisallow: /*.pdf$\nDisallow: /search*q=\nDisallow: /exact$\n", "b");
  EXPECT_FALSE(r.allowed("/docs/a.pdf"));
  EXPECT_TRUE(r.allowed("/docs/a.pdf?download=1"));
  EXPECT_FALSE(r.allowed("/search?lang=en&q=x"));
  EXPECT_TRUE(r.allowed("/search?lang=en"));
  EXPECT_FALSE(r.allowed("/exact"));
  EXPECT_TRUE(r.allowed("/exactly"));
}

TEST(Robots, PercentEncodingIsNormalized) {
  const auto r =
      RobotsRules::parse("User-agent: *\nDisallow: /caf%c3%a9\nDisallow: /%7Euser\n", "b");
  EXPECT_FALSE(r.allowed("/caf\xC3\xA9/menu"));
  EXPECT_FALSE(r.allowed("/~user/home"));
}

TEST(Robots, EmptyDisallowCommentsAndJunkAreHarmless) {
  const auto r = RobotsRules::parse(
      "\xEF\xBB\xBF# comment\r\nUser-agent: * # all\r\nDisallow:\r\nnonsense line\r\n"
      "Sitemap: https://example.com/sitemap.xml\r\nCrawl-delay: 10\r\n",
      "b");
  EXPECT_TRUE(r.allowed("/anything"));
}

TEST(Robots, RobotsTxtItselfIsAlwaysAllowed) {
  EXPECT_TRUE(RobotsRules::disallow_all().allowed("/robots.txt"));
  EXPECT_FALSE(RobotsRules::disallow_all().allowed("/"));
  EXPECT_TRUE(RobotsRules::allow_all().allowed("/"));
}

TEST(Robots, HugeFileIsReadOnlyUpToTheLimit) {
  std::string body = "User-agent: *\n";
  while (body.size() < kRobotsMaxBytes) body += "Allow: /filler\n";
  body += "Disallow: /late\n";
  EXPECT_TRUE(RobotsRules::parse(body, "b").allowed("/late"));
}

TEST(Robots, PathologicalWildcardsStayFast) {
  const auto r = RobotsRules::parse("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*b$\n", "b");
  EXPECT_TRUE(r.allowed("/" + std::string(5000, 'a')));
}

}  // namespace
}  // namespace host::fetch
