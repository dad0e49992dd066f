// The command line's contract: help, version, exit codes, global options.
#include <gtest/gtest.h>

#include "tests/host/run_host.h"

namespace host::testing {
namespace {

// Loading libcurl and the libraries it pulls in costs every command about
// 10 ms, so only what fetches or reads a URL opens it (host/fetch/curl_lib.h).
// The dynamic loader's own log (LD_DEBUG=files, on stderr) shows what each
// command loaded.
bool loaded_libcurl(const std::vector<std::string>& args) {
  const CommandResult r = run_host(args, {"LD_DEBUG=files"});
  return r.err.find("libcurl") != std::string::npos;
}

TEST(Cli, CommandsThatNeverFetchStartWithoutLibcurl) {
  const std::string data = ::testing::TempDir() + "sdp-cli-curl-" + std::to_string(::getpid());
  std::filesystem::remove_all(data);
  const std::string books = std::string(SDP_SOURCE_DIR) + "/scripts/examples/books/books.lua";
  EXPECT_FALSE(loaded_libcurl({"--version"}));
  EXPECT_FALSE(loaded_libcurl(
      {"--data", data, "add", "http://books.toscrape.com/", "--name", "books", "--parser", books}));
  EXPECT_FALSE(loaded_libcurl({"--data", data, "status"}));
  EXPECT_FALSE(loaded_libcurl({"--data", data, "tasks"}));
  // The orchestrator fetches, so it opens libcurl, and works. (On a store with
  // no sources, nothing is fetched.)
  const std::string empty = data + "-empty";
  std::filesystem::remove_all(empty);
  EXPECT_TRUE(loaded_libcurl({"--data", empty, "run", "--once"}));
  const CommandResult ran = run_host({"--data", empty, "run", "--once"});
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  std::filesystem::remove_all(data);
  std::filesystem::remove_all(empty);
}

TEST(Cli, HelpListsCommandsAndExitsZero) {
  const CommandResult r = run_host({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("parse"), std::string::npos);
  EXPECT_NE(r.out.find("--data"), std::string::npos);
}

TEST(Cli, VersionExitsZero) {
  const CommandResult r = run_host({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Smart Data Pipeline"), std::string::npos);
}

TEST(Cli, CommandHelpExitsZero) {
  const CommandResult r = run_host({"parse", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--max-memory"), std::string::npos);
}

TEST(Cli, NoCommandIsAUsageError) {
  const CommandResult r = run_host({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--help"), std::string::npos);
}

TEST(Cli, UnknownCommandIsAUsageError) {
  const CommandResult r = run_host({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(r.err.empty());
}

TEST(Cli, UnknownOptionIsAUsageError) {
  const CommandResult r = run_host({"parse", "--bogus", "x.lua", "p.html"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("host parse --help"), std::string::npos);
}

}  // namespace
}  // namespace host::testing
