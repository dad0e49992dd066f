// Secrets: with API keys in the environment, every command runs and no
// output, error, log line, fetched page or stored byte contains a key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/host/fixture_site.h"
#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;

// Distinctive values no command would print by chance.
const std::vector<std::pair<std::string, std::string>> kSecrets = {
    {"OPENAI_API_KEY", "sk-test-OPENAI-5ecret-9f2c1e7a"},
    {"SDP_LLM_API_KEY", "sdp-test-LLM-5ecret-41d08b3c"},
    {"ANTHROPIC_API_KEY", "sk-ant-test-5ecret-77aa01fe"},
    {"OLLAMA_API_KEY", "ollama-test-5ecret-c0ffee42"},
    {"HTTP_PROXY_PASSWORD", "proxy-test-5ecret-deadbeef"},
};

// (The sandbox's own tests show a script cannot read the environment:
// workers start with an empty one and os.getenv is forbidden.)
const char* kParser = R"(local sdk = require("sdk")
local P = sdk.BaseParser:extend {
  name = "items",
  schema = { id = { type = "string", required = true } },
  key = { "id" },
  examples = { { page = "page.html", url = "http://example.test/", expect = { min_count = 1 } } },
}
function P:parse(page)
  local out = {}
  for _, li in ipairs(page:html():css("li")) do
    out[#out + 1] = { id = li:attr("id") }
  end
  return out
end
return P
)";

bool contains_secret(const std::string& text, std::string* which) {
  for (const auto& [name, value] : kSecrets) {
    if (text.find(value) != std::string::npos) {
      *which = name;
      return true;
    }
  }
  return false;
}

TEST(Secrets, NoCommandOutputLogOrStoredByteHoldsAnApiKey) {
  // The site echoes the request's headers into the page, so a key sent with
  // a request would land in bronze and be caught below.
  FixtureSite site([](std::string_view path) {
    if (path == "/robots.txt") return SiteResponse{404, "text/plain", ""};
    return SiteResponse{
        200, "text/html",
        "<ul><li id=\"a\">a</li><li id=\"b\">b</li></ul><pre>" + std::string(path) + "</pre>"};
  });
  ASSERT_TRUE(site.ok());
  char tmpl[] = "/tmp/sdp-secrets-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string data = dir + "/data";
  std::ofstream(dir + "/p.lua") << kParser;
  std::ofstream(dir + "/page.html") << "<ul><li id=\"x\">x</li></ul>";
  fs::create_directories(dir + "/scripts");
  std::ofstream(dir + "/scripts/shop.lua") << kParser;

  std::vector<std::string> env;
  for (const auto& [name, value] : kSecrets) env.push_back(name + "=" + value);
  std::string everything;
  auto host = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", data});
    const CommandResult r = run_host(args, env);
    std::string which;
    EXPECT_FALSE(contains_secret(r.out + r.err, &which))
        << "host " << args[2] << " printed " << which << ":\n"
        << r.out << r.err;
    everything += r.out + r.err;
    return r;
  };

  const std::string url = site.url("/shop");
  host({"config", "set", "fetch.allow_private", "true"});
  host({"config", "set", "fetch.min_delay", "0"});
  host({"config", "list"});
  host({"config", "get", "fetch.user_agent"});
  host({"config", "validate"});
  EXPECT_EQ(host({"add", url, "--name", "shop", "--parser", dir + "/p.lua"}).exit_code, 0);
  host({"run", "--once"});
  host({"extract", "shop", "--wait"});
  host({"extract", "shop"});
  host({"stage", "shop", dir + "/p.lua", "--note", "same"});
  host({"validate", "shop", "1"});
  host({"versions", "shop"});
  host({"versions", "shop", "--json"});
  host({"diff", "shop", "1", "1"});
  host({"promote", "shop", "1"});
  host({"rollback", "shop"});
  host({"records", "shop"});
  host({"records", "shop", "--layer", "bronze"});
  host({"records", "shop", "--format", "csv"});
  host({"reprocess", "shop"});
  host({"status"});
  host({"status", "--json"});
  host({"history", "shop"});
  host({"tasks"});
  host({"tasks", "--json", "--state", "all"});
  host({"revive", "shop"});
  host({"dropin", "--scripts", dir + "/scripts"});
  host({"parse", dir + "/p.lua", dir + "/page.html"});
  host({"check", dir + "/p.lua"});
  host({"new-parser", "fresh", "--page", dir + "/page.html", "--out", dir + "/fresh"});
  host({"backup", dir + "/backup.mdb"});
  host({"verify"});
  host({"nosuchcommand"});
  host({"add", "file:///etc/passwd", "--name", "x", "--parser", dir + "/p.lua"});
  host({"--help"});

  const auto records = host({"records", "shop"});
  EXPECT_NE(records.out.find("\"id\":\"a\""), std::string::npos) << records.out;
  // No stored byte: the store, its backup, and every file the commands wrote.
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string which;
    EXPECT_FALSE(contains_secret(slurp(entry.path().string()), &which))
        << entry.path() << " holds " << which;
  }
  EXPECT_FALSE(everything.empty());
  if (std::getenv("SDP_SHOW")) std::cerr << everything;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace host::testing
