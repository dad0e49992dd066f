// CSS selectors compiled to a native matcher over libxml2's tree.
//
// Compiling turns the text into a small program once; matching walks the tree
// with no XPath and no allocation per node. A compiled Selector is immutable
// and can be shared between threads and runs.
//
// Supported: type (`div`, `*`), `.class`, `#id`, attributes (`[a]`, `[a=v]`,
// `[a~=v]`, `[a|=v]`, `[a^=v]`, `[a$=v]`, `[a*=v]`, quoted or bare values,
// optional ` i` flag), combinators (descendant, `>`, `+`, `~`), pseudo-classes
// `:first-child`, `:last-child`, `:only-child`, `:first-of-type`,
// `:last-of-type`, `:nth-child(an+b|odd|even)`, `:nth-last-child()`,
// `:nth-of-type()`, `:nth-last-of-type()`, `:not(<compound or list>)`,
// `:contains("text")`, `:empty`, `:root`, `:scope`, and comma groups.
// A selector may start with a combinator (`> a`, `+ p`): it is relative to
// the scope node, as in `node:css("> li")`.
// Tag and attribute names match case-insensitively (libxml2 lower-cases HTML
// names); class, id and attribute values match case-sensitively.
#pragma once

#include <libxml/tree.h>

#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sandbox::html {

struct SelectorError {
  std::string selector;  // the text that failed to compile
  std::size_t position;  // 0-based byte offset where it went wrong
  std::string message;   // e.g. "expected an attribute name after '['"
  // "invalid CSS selector 'div[': expected an attribute name after '[' at position 4"
  std::string to_string() const;
};

class Selector {
 public:
  // Compiles `text`. Errors name the position and what was expected there.
  static std::expected<std::shared_ptr<const Selector>, SelectorError> compile(
      std::string_view text);

  // True when `element` (an XML_ELEMENT_NODE) matches, with `scope` as the
  // node `:scope` and leading combinators refer to (may be nullptr).
  bool matches(const xmlNode* element, const xmlNode* scope = nullptr) const;

  // Appends the elements below `scope` (not `scope` itself) that match, in
  // document order, without duplicates, stopping after `limit` results.
  // `scope` may be a document node or an element. A group that starts with
  // `+` or `~` looks at the scope's later siblings (and below them) instead,
  // since that is the only place it can match. As in querySelectorAll, only
  // the matched element must be below the scope: `card:css("div a")` may
  // match through a `div` outside the card.
  void select(const xmlNode* scope, std::vector<xmlNode*>& out,
              std::size_t limit = static_cast<std::size_t>(-1)) const;

  // The first match below `scope` in document order, or nullptr.
  xmlNode* select_first(const xmlNode* scope) const;

  const std::string& text() const { return text_; }

  ~Selector();
  Selector(const Selector&) = delete;
  Selector& operator=(const Selector&) = delete;

  struct Program;  // the compiled form; defined in selector.cc

 private:
  Selector(std::string text, std::unique_ptr<Program> program);
  std::string text_;
  std::unique_ptr<Program> program_;
};

// A bounded cache of compiled selectors keyed by their text, so a parser that
// calls css("h3 a") in a loop compiles it once. Thread-safe.
class SelectorCache {
 public:
  explicit SelectorCache(std::size_t capacity = 4096);
  std::expected<std::shared_ptr<const Selector>, SelectorError> get(std::string_view text);
  ~SelectorCache();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandbox::html
