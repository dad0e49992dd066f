// `host parse`: records on stdout, one line per failed page on stderr, exit
// codes, and the example parsers on real saved pages.
#include <gtest/gtest.h>
#include <sched.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tests/host/run_host.h"

namespace host::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kSource = SDP_SOURCE_DIR;
const std::string kCorpus = SDP_CORPUS_DIR;
const std::string kBooks = kSource + "/scripts/examples/books/books.lua";
const std::string kBooksPage = kSource + "/scripts/examples/books/pages/index.html";
const std::string kQuotes = kSource + "/scripts/examples/quotes/quotes.lua";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sdp-parse-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

// Splits one CSV line (RFC 4180 quoting).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cols(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cols.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cols.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cols.emplace_back();
    } else {
      cols.back() += c;
    }
  }
  return cols;
}

std::vector<json> records_of(const std::string& out) {
  std::vector<json> r;
  for (const auto& l : lines(out)) r.push_back(json::parse(l));
  return r;
}

TEST(ParseCommand, BooksMatchGroundTruth) {
  const CommandResult r =
      run_host({"parse", kBooks, kBooksPage, "--url", "http://books.toscrape.com/index.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto records = records_of(r.out);
  ASSERT_EQ(records.size(), 20u);
  // The first 20 rows of the saver's CSV of all 1000 books (title, URL, price, rating, stock).
  std::ifstream csv(kCorpus + "/books.toscrape.com/groundtruth/books_list_MonySOEURN.csv");
  ASSERT_TRUE(csv) << "corpus not found beside the project";
  std::string line;
  std::getline(csv, line);  // header
  for (std::size_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(std::getline(csv, line));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::vector<std::string> cols = split_csv(line);
    ASSERT_EQ(cols.size(), 5u) << line;
    const std::string& title = cols[0];
    const json& rec = records[i];
    EXPECT_EQ(rec["title"], title) << i;
    EXPECT_EQ(rec["url"], cols[1]) << i;
    EXPECT_NEAR(rec["price"].get<double>(), std::stod(cols[2].substr(2)), 1e-9) << i;  // "£"
    EXPECT_EQ(rec["rating"], std::stoi(cols[3])) << i;
    EXPECT_EQ(rec["in_stock"], cols[4] == "In stock") << i;
  }
}

TEST(ParseCommand, QuotesMatchGroundTruthAcrossThreeYearsOfDrift) {
  std::ifstream gt_file(kCorpus + "/quotes.toscrape.com/groundtruth/quotes_yipcma_2016.json");
  ASSERT_TRUE(gt_file);
  const json truth = json::parse(gt_file);
  for (const char* year : {"snap2016", "snap2019", "snap2020"}) {
    const std::string dir = kCorpus + "/quotes.toscrape.com/" + year;
    const CommandResult r =
        run_host({"parse", kQuotes, dir + "/quotes-1.html", dir + "/quotes-2.html", "--url",
                  "http://quotes.toscrape.com/page/1/"});
    ASSERT_EQ(r.exit_code, 0) << year << "\n" << r.err;
    const auto records = records_of(r.out);
    ASSERT_EQ(records.size(), truth.size()) << year;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      EXPECT_EQ(records[i]["text"], truth[i]["text"]) << year << " " << i;
      EXPECT_EQ(records[i]["author"], truth[i]["author"]) << year << " " << i;
      EXPECT_EQ(records[i]["tags"], truth[i]["tags"]) << year << " " << i;
    }
  }
}

TEST(ParseCommand, QuotesFromScriptDataOnTheJsPage) {
  const CommandResult r =
      run_host({"parse", kQuotes, kSource + "/scripts/examples/quotes/pages/js-index.html", "--url",
                "http://quotes.toscrape.com/js/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto records = records_of(r.out);
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[0]["author"], "Albert Einstein");
  EXPECT_EQ(records[0]["tags"], json({"change", "deep-thoughts", "thinking", "world"}));
}

TEST(ParseCommand, FailedPageGetsOneLineOthersStillProcessed) {
  TempDir tmp;
  const std::string script = tmp.write("p.lua", R"(
local sdk = require("sdk")
local P = sdk.BaseParser:extend { name = "p", schema = { t = "string" } }
function P:parse(page)
  local h = page:html():css_one("h1")
  return { { t = h:text() } }
end
return P
)");
  const std::string good1 = tmp.write("good1.html", "<h1>one</h1>");
  const std::string bad = tmp.write("bad.html", "<p>no heading</p>");
  const std::string good2 = tmp.write("good2.html", "<h1>two</h1>");
  const CommandResult r = run_host({"parse", script, good1, bad, good2});
  EXPECT_EQ(r.exit_code, 1);
  const auto records = records_of(r.out);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["t"], "one");
  EXPECT_EQ(records[1]["t"], "two");
  const auto err = lines(r.err);
  ASSERT_EQ(err.size(), 1u) << r.err;
  EXPECT_EQ(err[0].rfind(bad + ": runtime: p.lua:6:", 0), 0u) << err[0];
}

TEST(ParseCommand, UnreadablePageIsReportedAndOthersStillRun) {
  const CommandResult r = run_host({"parse", kBooks, "/nonexistent/page.html", kBooksPage, "--url",
                                    "http://books.toscrape.com/index.html"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(records_of(r.out).size(), 20u);
  EXPECT_NE(r.err.find("/nonexistent/page.html: input: cannot read"), std::string::npos) << r.err;
}

TEST(ParseCommand, MissingScriptIsAFailureWithAClearMessage) {
  const CommandResult r = run_host({"parse", "/nonexistent/parser.lua", kBooksPage});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot read '/nonexistent/parser.lua'"), std::string::npos) << r.err;
}

TEST(ParseCommand, BadSizeIsAUsageErrorNamingTheAcceptedForms) {
  const CommandResult r = run_host({"parse", kBooks, kBooksPage, "--max-memory", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("64MiB"), std::string::npos) << r.err;
}

TEST(ParseCommand, LimitsFromFlagsApply) {
  TempDir tmp;
  const std::string script = tmp.write("hog.lua", R"(
local sdk = require("sdk")
local P = sdk.BaseParser:extend { name = "hog", schema = { t = "string" } }
function P:parse(page)
  local s = string.rep("x", 40 * 1024 * 1024)
  return { { t = "big" } }
end
return P
)");
  const std::string page = tmp.write("p.html", "<p/>");
  const CommandResult small = run_host({"parse", script, page, "--max-memory", "16MiB"});
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_NE(small.err.find(": memory: memory limit of 16 MiB"), std::string::npos) << small.err;
  const CommandResult big = run_host({"parse", script, page, "--max-memory", "128MiB"});
  EXPECT_EQ(big.exit_code, 0) << big.err;
}

// Runs 12 pages of uneven work with `--jobs 2` and expects their records in
// page order.
void expect_page_order_with_two_jobs() {
  TempDir tmp;
  const std::string script = tmp.write("n.lua", R"(
local sdk = require("sdk")
local P = sdk.BaseParser:extend { name = "n", schema = { n = "integer" } }
function P:parse(page)
  local n = tonumber(page:html():css_one("b"):text())
  local x = 0
  for i = 1, (n % 3) * 200000 do x = x + i end  -- uneven work per page
  return { { n = n } }
end
return P
)");
  std::vector<std::string> args{"parse", script, "--jobs", "2"};
  for (int i = 0; i < 12; ++i)
    args.push_back(
        tmp.write("p" + std::to_string(i) + ".html", "<b>" + std::to_string(i) + "</b>"));
  const CommandResult r = run_host(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto records = records_of(r.out);
  ASSERT_EQ(records.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(records[i]["n"], i);
}

TEST(ParseCommand, OutputKeepsPageOrderWithParallelJobs) { expect_page_order_with_two_jobs(); }

// With exactly as many jobs as allowed CPUs, each job (thread and worker)
// is pinned to a CPU of its own: the same output, in the same order.
TEST(ParseCommand, OutputKeepsPageOrderWhenEachJobHasACpu) {
  cpu_set_t all;
  CPU_ZERO(&all);
  ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
  cpu_set_t two;
  CPU_ZERO(&two);
  for (int c = 0, n = 0; c < CPU_SETSIZE && n < 2; ++c) {
    if (CPU_ISSET(c, &all)) CPU_SET(c, &two), ++n;
  }
  if (CPU_COUNT(&two) < 2) GTEST_SKIP() << "needs two CPUs";
  // The host inherits this thread's mask: two CPUs, two jobs.
  ASSERT_EQ(sched_setaffinity(0, sizeof two, &two), 0);
  expect_page_order_with_two_jobs();
  ASSERT_EQ(sched_setaffinity(0, sizeof all, &all), 0);
}

TEST(ParseCommand, RejectedRecordsAreReportedOnStderr) {
  const CommandResult r = run_host({"parse", kBooks, kBooksPage});  // no --url: file:// links
  EXPECT_EQ(r.exit_code, 1);  // every record rejected -> schema failure
  EXPECT_NE(r.err.find("rejected: record 1: field 'image': expected absolute http(s) URL, got "
                       "string \"file:///"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(": schema: all 20 records broke the schema"), std::string::npos);
}

}  // namespace
}  // namespace host::testing
