// Parsing the fetch.* settings' values, and their agreement with the
// host's settings registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "host/config/registry.h"
#include "host/fetch/fetch_options.h"

namespace host::fetch {
namespace {

using namespace std::chrono_literals;

TEST(FetchOptions, DefaultsAreThoseOfTheIssue) {
  const FetchOptions o;
  EXPECT_EQ(o.timeout, 30s);
  EXPECT_EQ(o.connect_timeout, 10s);
  EXPECT_EQ(o.retries, 3);
  EXPECT_EQ(o.max_per_host, 2);
  EXPECT_EQ(o.min_delay, 1s);
  EXPECT_TRUE(o.robots);
  EXPECT_EQ(o.max_body, 10u << 20);
  EXPECT_FALSE(o.allow_private);
  EXPECT_TRUE(o.allow_hosts.empty());
  EXPECT_EQ(o.max_redirects, 5);
  for (const char* type : {"text/html", "application/xhtml+xml", "application/xml",
                           "application/json", "text/plain", "text/csv"}) {
    EXPECT_NE(std::find(o.content_types.begin(), o.content_types.end(), type),
              o.content_types.end())
        << type;
  }
}

TEST(FetchOptions, EverySettingIsApplied) {
  FetchOptions o;
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.timeout", "2.5s"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.connect_timeout", "500ms"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.retries", "0"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.max_per_host", "4"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.min_delay", "0"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.robots", "false"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.user_agent", "MyBot/1.0"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.max_body", "1MiB"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.content_types", "text/html, Application/JSON"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.allow_private", "yes"));
  ASSERT_TRUE(apply_fetch_setting(o, "fetch.allow_hosts", "Intranet.Example, [fd00::1]"));
  EXPECT_EQ(o.timeout, 2500ms);
  EXPECT_EQ(o.connect_timeout, 500ms);
  EXPECT_EQ(o.retries, 0);
  EXPECT_EQ(o.max_per_host, 4);
  EXPECT_EQ(o.min_delay, 0ms);
  EXPECT_FALSE(o.robots);
  EXPECT_EQ(o.user_agent, "MyBot/1.0");
  EXPECT_EQ(o.max_body, 1u << 20);
  EXPECT_EQ(o.content_types, (std::vector<std::string>{"text/html", "application/json"}));
  EXPECT_TRUE(o.allow_private);
  EXPECT_EQ(o.allow_hosts, (std::vector<std::string>{"intranet.example", "fd00::1"}));
}

TEST(FetchOptions, BadValuesAreRejectedNamingTheSettingAndLeaveOptionsUnchanged) {
  const struct {
    const char* name;
    const char* value;
  } cases[] = {
      {"fetch.timeout", "soon"},
      {"fetch.timeout", "0"},
      {"fetch.timeout", "2d"},
      {"fetch.retries", "-1"},
      {"fetch.retries", "2.5"},
      {"fetch.max_per_host", "0"},
      {"fetch.robots", "maybe"},
      {"fetch.user_agent", ""},
      {"fetch.user_agent", "a\nb"},
      {"fetch.max_body", "0"},
      {"fetch.max_body", "lots"},
      {"fetch.content_types", "html"},
      {"fetch.content_types", "text/*html"},
      {"fetch.content_types", ""},
      {"fetch.content_types", "text/html; charset=utf-8"},
      {"fetch.allow_hosts", "http://intranet.example"},
      {"fetch.allow_hosts", "intranet.example:8080"},
      {"fetch.allow_hosts", "*.example"},
  };
  for (const auto& c : cases) {
    FetchOptions o;
    const auto r = apply_fetch_setting(o, c.name, c.value);
    ASSERT_FALSE(r) << c.name << "=" << c.value;
    EXPECT_EQ(r.error().rfind(std::string(c.name) + ": ", 0), 0u) << r.error();
    EXPECT_EQ(o.timeout, FetchOptions{}.timeout);
  }
}

TEST(FetchOptions, UnknownSettingIsAnError) {
  FetchOptions o;
  EXPECT_FALSE(apply_fetch_setting(o, "fetch.timout", "1"));
}

TEST(FetchOptions, ContentTypePatterns) {
  const auto ok = parse_content_types("text/*, */*, application/*+json, image/png");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 4u);
  EXPECT_FALSE(parse_content_types("*/html"));
  EXPECT_FALSE(parse_content_types("text/"));
}

// The settings registry and this module agree on the names, and every
// registered default is understood.
TEST(FetchOptions, RegisteredFetchSettingsAreExactlyTheseAndTheirDefaultsParse) {
  std::vector<std::string_view> registered;
  for (const auto& def : config::all_settings()) {
    if (def.name.starts_with("fetch.")) registered.push_back(def.name);
  }
  std::vector<std::string_view> ours(fetch_setting_names().begin(), fetch_setting_names().end());
  std::sort(registered.begin(), registered.end());
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(registered, ours);

  std::vector<std::string> problems;
  const FetchOptions o = fetch_options_from(
      [](std::string_view name) {
        const config::SettingDef* def = config::find_setting(name);
        return def ? std::string(def->default_value) : std::string();
      },
      &problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(o.timeout, FetchOptions{}.timeout);
  EXPECT_EQ(o.max_body, FetchOptions{}.max_body);
}

TEST(FetchOptions, OptionsAreBuiltFromEffectiveValuesAndBadOnesAreReported) {
  const std::map<std::string_view, std::string> stored = {
      {"fetch.timeout", "5"}, {"fetch.robots", "false"}, {"fetch.max_per_host", "lots"}};
  std::vector<std::string> problems;
  const FetchOptions o = fetch_options_from(
      [&](std::string_view name) {
        auto it = stored.find(name);
        return it == stored.end() ? std::string() : it->second;
      },
      &problems);
  EXPECT_EQ(o.timeout, 5s);
  EXPECT_FALSE(o.robots);
  EXPECT_EQ(o.max_per_host, 2);  // unreadable: the default
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("fetch.max_per_host: ", 0), 0u);
}

}  // namespace
}  // namespace host::fetch
