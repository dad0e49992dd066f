// host check SCRIPT: runs the examples a parser declares about itself.
// host new-parser NAME --page FILE: writes a starting parser for a page.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include <libxml/HTMLparser.h>

#include "host/cli/cli.h"
#include "host/lifecycle/examples.h"
#include "host/util/atomic_file.h"
#include "host/util/files.h"
#include "sandbox/html/document.h"

namespace host::cli {
namespace {

namespace fs = std::filesystem;

int run_check(const std::string& script_path) {
  auto source = util::read_file(script_path);
  if (!source) return fail(source.error());
  sandbox::SandboxOptions options;
  auto box = sandbox::Sandbox::create(options);
  if (!box) return fail(box.error().message);
  const sandbox::Script script{fs::path(script_path).filename().string(), *source};
  const std::string dir = fs::path(script_path).parent_path().string();
  auto results = lifecycle::check_examples(**box, script, dir.empty() ? "." : dir);
  if (!results) return fail(results.error());
  std::size_t failed = 0;
  for (const auto& r : *results) {
    std::cout << (r.passed ? "PASS  " : "FAIL  ") << r.page << " (" << r.records << " records)\n";
    for (const auto& p : r.problems) std::cout << "      " << p << "\n";
    failed += r.passed ? 0 : 1;
  }
  std::cout << results->size() - failed << " of " << results->size() << " example(s) passed\n";
  return failed == 0 ? kExitOk : kExitFailed;
}

// The repeated element a listing page is made of: the (tag, class) that
// occurs most often as siblings under one parent, at least three times.
struct Repeat {
  std::string selector;
  std::size_t count = 0;
};

bool has_link(xmlNode* n) {
  std::vector<xmlNode*> stack{n};
  while (!stack.empty()) {
    xmlNode* c = stack.back();
    stack.pop_back();
    if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "a") &&
        xmlHasProp(c, BAD_CAST "href")) {
      return true;
    }
    for (xmlNode* k = c->children; k != nullptr; k = k->next) stack.push_back(k);
  }
  return false;
}

// The repeated element a listing page is made of: siblings of one (tag,
// class) under one parent, at least three, most of them holding a link.
// Classed elements win over bare tags (navigation lists are bare <li>s).
Repeat find_repeat(xmlNode* root) {
  Repeat best;
  std::size_t best_score = 0;
  std::vector<xmlNode*> stack{root};
  while (!stack.empty()) {
    xmlNode* n = stack.back();
    stack.pop_back();
    struct Tally {
      std::size_t all = 0, linked = 0, text = 0;
    };
    std::map<std::string, Tally> counts;
    for (xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      stack.push_back(c);
      std::string key = reinterpret_cast<const char*>(c->name);
      if (xmlChar* cls = xmlGetProp(c, BAD_CAST "class")) {
        std::string first(reinterpret_cast<const char*>(cls));
        xmlFree(cls);
        first = first.substr(0, first.find(' '));
        if (!first.empty()) key += "." + first;
      }
      Tally& t = counts[key];
      ++t.all;
      if (has_link(c)) ++t.linked;
      if (xmlChar* text = xmlNodeGetContent(c)) {
        t.text += xmlStrlen(text);
        xmlFree(text);
      }
    }
    for (const auto& [key, t] : counts) {
      if (t.all < 3 || t.linked * 5 < t.all * 4) continue;
      // Records carry text: among repeats, the richer one is the listing.
      const double avg_text = static_cast<double>(t.text) / static_cast<double>(t.all);
      const auto score = static_cast<std::size_t>(
          static_cast<double>(t.all * (key.find('.') != std::string::npos ? 3 : 1)) *
          std::sqrt(avg_text + 1.0));
      if (score > best_score) {
        best_score = score;
        best = {key, t.all};
      }
    }
  }
  return best;
}

int run_new_parser(const std::string& name, const std::string& page_path, const std::string& url,
                   std::string out_dir, bool force) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      std::cerr << "host new-parser: the name may use letters, digits, '_' and '-' only\n";
      return kExitUsage;
    }
  }
  if (name.empty()) return kExitUsage;
  auto body = util::read_file(page_path);
  if (!body) return fail(body.error());
  if (out_dir.empty()) out_dir = "scripts/" + name;
  const fs::path dir(out_dir);
  const fs::path script_path = dir / (name + ".lua");
  const fs::path example = dir / "pages" / fs::path(page_path).filename();
  if (fs::exists(script_path) && !force) {
    return fail(script_path.string() + " exists; pick another name or add --force");
  }
  auto doc = sandbox::html::parse_html(*body, util::content_type_for(page_path), "");
  xmlNode* root = sandbox::html::root_element(doc.get());
  const Repeat repeat = root ? find_repeat(root) : Repeat{};
  const std::string selector = repeat.selector.empty() ? "body" : repeat.selector;
  const std::string page_url = url.empty() ? "https://example.com/" : url;
  std::string script =
      "-- A starting parser for " + page_url +
      ", written by 'host new-parser'.\n"
      "-- Edit the selectors, then run: host check " +
      script_path.string() +
      "\n"
      "local sdk = require(\"sdk\")\n\n"
      "local Parser = sdk.BaseParser:extend {\n"
      "  name = \"" +
      name +
      "\",\n"
      "  schema = {\n"
      "    title = { type = \"string\", required = true },\n"
      "    url = { type = \"url\" },\n"
      "  },\n"
      "  key = { \"url\" },\n"
      "  examples = {\n"
      "    { page = \"pages/" +
      example.filename().string() + "\", url = \"" + page_url +
      "\",\n"
      "      expect = { count = " +
      std::to_string(repeat.count) +
      " } },\n"
      "  },\n"
      "}\n\n"
      "function Parser:parse(page)\n"
      "  local out = {}\n"
      "  -- " +
      std::to_string(repeat.count) +
      " elements on the example page match this selector.\n"
      "  for _, item in ipairs(page:html():css(\"" +
      selector +
      "\")) do\n"
      "    local link = item:css_one(\"a[href]\")\n"
      "    local named = item:css_one(\"[title]\")\n"
      "    local heading = item:css_one(\"h1, h2, h3, h4, h5, h6\")\n"
      "    local title = (named and named:attr(\"title\")) or (heading and heading:text())\n"
      "    if not title or title == \"\" then title = link and link:text() end\n"
      "    out[#out + 1] = {\n"
      "      title = sdk.text.clean(title ~= \"\" and title or item:text()),\n"
      "      url = link and sdk.url.join(page.url, link:attr(\"href\")),\n"
      "    }\n"
      "  end\n"
      "  return out\n"
      "end\n\n"
      "return Parser\n";
  std::error_code ec;
  fs::create_directories(example.parent_path(), ec);
  if (ec) return fail("cannot create " + example.parent_path().string() + ": " + ec.message());
  if (auto r = util::write_file_atomically(example.string(), *body); !r) return fail(r.error());
  if (auto r = util::write_file_atomically(script_path.string(), script); !r) {
    return fail(r.error());
  }
  std::cout << "wrote " << script_path.string() << " and its example " << example.string() << " ("
            << repeat.count << " items matched '" << selector << "')\nnext: host check "
            << script_path.string() << "\n";
  return kExitOk;
}

}  // namespace

Command register_check(CLI::App& root, const Globals&) {
  auto script = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand(
      "check", "Run the example pages and expectations a parser declares about itself");
  app->add_option("script", *script, "Parser script (Lua)")->required();
  return Command{app, [script] { return run_check(*script); }};
}

Command register_new_parser(CLI::App& root, const Globals&) {
  struct Args {
    std::string name, page, url, out;
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* app =
      root.add_subcommand("new-parser", "Write a starting parser and its example for a saved page");
  app->add_option("name", a->name, "Parser name (letters, digits, _ and -)")->required();
  app->add_option("--page", a->page, "A saved page the parser should read")->required();
  app->add_option("--url", a->url, "The page's URL (for resolving links)");
  app->add_option("--out", a->out, "Directory to write to (default: scripts/NAME)");
  app->add_flag("--force", a->force, "Overwrite an existing parser");
  return Command{app, [a] { return run_new_parser(a->name, a->page, a->url, a->out, a->force); }};
}

}  // namespace host::cli
