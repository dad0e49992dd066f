// The page, document and node objects scripts see, and page:json().
#include <libxml/HTMLtree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/engine/context.h"
#include "sandbox/html/selector.h"

namespace sandbox::engine {
namespace {

constexpr const char* kNodeMeta = "sdp.node";
constexpr const char* kPageMeta = "sdp.page";

struct NodeRef {
  xmlNode* node;
};

html::SelectorCache& selector_cache() {
  static html::SelectorCache cache;
  return cache;
}

xmlNode* check_node(lua_State* L, int index, const char* method) {
  auto* ref = static_cast<NodeRef*>(luaL_testudata(L, index, kNodeMeta));
  if (ref == nullptr) {
    throw ScriptError{std::string("node:") + method +
                      "() must be called on a node (use ':' not '.', e.g. node:" + method +
                      "(...))"};
  }
  return ref->node;
}

std::string check_string(lua_State* L, int index, const char* what) {
  std::size_t len = 0;
  const char* s = lua_type(L, index) == LUA_TSTRING ? lua_tolstring(L, index, &len) : nullptr;
  if (s == nullptr) {
    throw ScriptError{std::string(what) + " must be a string, got " +
                      lua_typename(L, lua_type(L, index))};
  }
  return std::string(s, len);
}

void push_node(lua_State* L, xmlNode* node) {
  if (node == nullptr) {
    lua_pushnil(L);
    return;
  }
  auto* ref = static_cast<NodeRef*>(lua_newuserdata(L, sizeof(NodeRef)));
  ref->node = node;
  luaL_getmetatable(L, kNodeMeta);
  lua_setmetatable(L, -2);
}

bool is_element(const xmlNode* n) { return n != nullptr && n->type == XML_ELEMENT_NODE; }

std::shared_ptr<const html::Selector> compile(const std::string& text) {
  auto compiled = selector_cache().get(text);
  if (!compiled) throw ScriptError{compiled.error().to_string()};
  return *compiled;
}

int node_css(lua_State* L) {
  xmlNode* node = check_node(L, 1, "css");
  auto selector = compile(check_string(L, 2, "the selector"));
  std::vector<xmlNode*> found;
  selector->select(node, found);
  lua_createtable(L, static_cast<int>(found.size()), 0);
  for (std::size_t i = 0; i < found.size(); ++i) {
    push_node(L, found[i]);
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

int node_css_one(lua_State* L) {
  xmlNode* node = check_node(L, 1, "css_one");
  auto selector = compile(check_string(L, 2, "the selector"));
  push_node(L, selector->select_first(node));
  return 1;
}

bool is_skipped_container(const xmlNode* n) {
  if (!is_element(n)) return false;
  const char* name = reinterpret_cast<const char*>(n->name);
  return std::strcmp(name, "script") == 0 || std::strcmp(name, "style") == 0 ||
         std::strcmp(name, "template") == 0;
}

// Appends text with runs of whitespace (ASCII and U+00A0) collapsed to one
// space; `pending_space` carries a run across text nodes.
void append_normalised(std::string& out, const char* s, bool& pending_space) {
  for (const auto* p = reinterpret_cast<const unsigned char*>(s); *p != 0; ++p) {
    const unsigned char c = *p;
    const bool nbsp = c == 0xC2 && p[1] == 0xA0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || nbsp) {
      if (nbsp) ++p;
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += static_cast<char>(c);
  }
}

// Text content of `root`, whitespace-normalised; skips <script>, <style> and
// <template> below root (but not root itself, so a JSON-LD script reads).
std::string normalised_text(const xmlNode* root) {
  std::string out;
  bool pending = false;
  if (root->type == XML_TEXT_NODE || root->type == XML_CDATA_SECTION_NODE) {
    if (root->content)
      append_normalised(out, reinterpret_cast<const char*>(root->content), pending);
    return out;
  }
  const xmlNode* n = root->children;
  while (n != nullptr) {
    if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
      append_normalised(out, reinterpret_cast<const char*>(n->content), pending);
    }
    const bool descend = n->children != nullptr && n->type != XML_ENTITY_REF_NODE &&
                         !is_skipped_container(n) && n->type != XML_ATTRIBUTE_NODE;
    if (descend) {
      n = n->children;
      continue;
    }
    while (n != nullptr && n != root && n->next == nullptr) n = n->parent;
    if (n == nullptr || n == root) break;
    n = n->next;
  }
  return out;
}

int node_text(lua_State* L) {
  xmlNode* node = check_node(L, 1, "text");
  const std::string text = normalised_text(node);
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

// The value of attribute `name` (case-insensitive), or nullptr-equivalent.
bool attribute_value(const xmlNode* node, const char* name, std::string& out) {
  if (!is_element(node)) return false;
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    if (xmlStrcasecmp(a->name, reinterpret_cast<const xmlChar*>(name)) != 0) continue;
    out.clear();
    for (const xmlNode* c = a->children; c != nullptr; c = c->next) {
      if (c->content) out += reinterpret_cast<const char*>(c->content);
    }
    return true;
  }
  return false;
}

int node_attr(lua_State* L) {
  xmlNode* node = check_node(L, 1, "attr");
  const std::string name = check_string(L, 2, "the attribute name");
  std::string value;
  if (attribute_value(node, name.c_str(), value)) {
    lua_pushlstring(L, value.data(), value.size());
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int node_attrs(lua_State* L) {
  xmlNode* node = check_node(L, 1, "attrs");
  lua_newtable(L);
  if (!is_element(node)) return 1;
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    std::string value;
    for (const xmlNode* c = a->children; c != nullptr; c = c->next) {
      if (c->content) value += reinterpret_cast<const char*>(c->content);
    }
    lua_pushlstring(L, value.data(), value.size());
    lua_setfield(L, -2, reinterpret_cast<const char*>(a->name));
  }
  return 1;
}

struct XmlBufferDeleter {
  void operator()(xmlBuffer* b) const noexcept { xmlBufferFree(b); }
};

int node_html(lua_State* L) {
  xmlNode* node = check_node(L, 1, "html");
  std::unique_ptr<xmlBuffer, XmlBufferDeleter> buf(xmlBufferCreate());
  if (!buf) throw std::bad_alloc();
  if (node->type == XML_DOCUMENT_NODE || node->type == XML_HTML_DOCUMENT_NODE) {
    for (xmlNode* c = node->children; c != nullptr; c = c->next)
      htmlNodeDump(buf.get(), node->doc, c);
  } else {
    htmlNodeDump(buf.get(), node->doc, node);
  }
  lua_pushlstring(L, reinterpret_cast<const char*>(xmlBufferContent(buf.get())),
                  static_cast<std::size_t>(xmlBufferLength(buf.get())));
  return 1;
}

int node_tag(lua_State* L) {
  xmlNode* node = check_node(L, 1, "tag");
  if (is_element(node)) {
    lua_pushstring(L, reinterpret_cast<const char*>(node->name));
  } else if (node->type == XML_DOCUMENT_NODE || node->type == XML_HTML_DOCUMENT_NODE) {
    lua_pushliteral(L, "#document");
  } else {
    lua_pushliteral(L, "#text");
  }
  return 1;
}

int node_parent(lua_State* L) {
  xmlNode* node = check_node(L, 1, "parent");
  xmlNode* p = node->parent;
  if (p != nullptr && (p->type == XML_ELEMENT_NODE || p->type == XML_DOCUMENT_NODE ||
                       p->type == XML_HTML_DOCUMENT_NODE)) {
    push_node(L, p);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int node_children(lua_State* L) {
  xmlNode* node = check_node(L, 1, "children");
  lua_newtable(L);
  int i = 0;
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (!is_element(c)) continue;
    push_node(L, c);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

int node_next(lua_State* L) {
  xmlNode* n = check_node(L, 1, "next")->next;
  while (n != nullptr && !is_element(n)) n = n->next;
  push_node(L, n);
  return 1;
}

int node_prev(lua_State* L) {
  xmlNode* n = check_node(L, 1, "prev")->prev;
  while (n != nullptr && !is_element(n)) n = n->prev;
  push_node(L, n);
  return 1;
}

struct XPathContextDeleter {
  void operator()(xmlXPathContext* c) const noexcept { xmlXPathFreeContext(c); }
};
struct XPathObjectDeleter {
  void operator()(xmlXPathObject* o) const noexcept { xmlXPathFreeObject(o); }
};

// libxml2 reports XPath errors through a callback; keep the first message.
void collect_xpath_error(void* data, xmlError* error) {
  auto* message = static_cast<std::string*>(data);
  if (message->empty() && error != nullptr && error->message != nullptr) {
    *message = error->message;
    while (!message->empty() && (message->back() == '\n' || message->back() == ' ')) {
      message->pop_back();
    }
  }
}

int node_xpath(lua_State* L) {
  xmlNode* node = check_node(L, 1, "xpath");
  const std::string expr = check_string(L, 2, "the XPath expression");
  std::string error;
  std::unique_ptr<xmlXPathContext, XPathContextDeleter> ctx(xmlXPathNewContext(node->doc));
  if (!ctx) throw std::bad_alloc();
  ctx->node = node;
  ctx->error = collect_xpath_error;
  ctx->userData = &error;
  // Bounds pathological expressions; libxml2 stops with an error past it.
  ctx->opLimit = 50'000'000;
  std::unique_ptr<xmlXPathObject, XPathObjectDeleter> result(
      xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(expr.c_str()), ctx.get()));
  if (!result) {
    throw ScriptError{"invalid XPath expression '" + expr + "'" +
                      (error.empty() ? std::string() : ": " + error)};
  }
  switch (result->type) {
    case XPATH_NODESET: {
      lua_newtable(L);
      int i = 0;
      if (xmlNodeSet* set = result->nodesetval) {
        for (int k = 0; k < set->nodeNr; ++k) {
          xmlNode* n = set->nodeTab[k];
          if (n == nullptr || n->type == XML_NAMESPACE_DECL) continue;
          if (n->type == XML_ELEMENT_NODE || n->type == XML_DOCUMENT_NODE ||
              n->type == XML_HTML_DOCUMENT_NODE) {
            push_node(L, n);
          } else {
            // Attributes and text come back as their string value.
            std::unique_ptr<xmlChar, decltype(xmlFree)> s(xmlNodeGetContent(n), xmlFree);
            lua_pushstring(L, s ? reinterpret_cast<const char*>(s.get()) : "");
          }
          lua_rawseti(L, -2, ++i);
        }
      }
      return 1;
    }
    case XPATH_BOOLEAN:
      lua_pushboolean(L, result->boolval);
      return 1;
    case XPATH_NUMBER:
      lua_pushnumber(L, result->floatval);
      return 1;
    case XPATH_STRING:
      lua_pushstring(L, result->stringval ? reinterpret_cast<const char*>(result->stringval) : "");
      return 1;
    default:
      throw ScriptError{"XPath expression '" + expr + "' gave a result of an unsupported type"};
  }
}

int node_tostring(lua_State* L) {
  auto* ref = static_cast<NodeRef*>(lua_touserdata(L, 1));
  if (is_element(ref->node)) {
    lua_pushfstring(L, "node <%s>", reinterpret_cast<const char*>(ref->node->name));
  } else {
    lua_pushliteral(L, "node <#document>");
  }
  return 1;
}

int node_eq(lua_State* L) {
  auto* a = static_cast<NodeRef*>(luaL_testudata(L, 1, kNodeMeta));
  auto* b = static_cast<NodeRef*>(luaL_testudata(L, 2, kNodeMeta));
  lua_pushboolean(L, a != nullptr && b != nullptr && a->node == b->node);
  return 1;
}

// page:html(): parsed once per run, then the same document each call.
int page_html(lua_State* L) {
  if (!lua_istable(L, 1)) throw ScriptError{"page:html() must be called with ':'"};
  RunContext& run = current_run();
  if (run.page_document_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, run.page_document_ref);
    return 1;
  }
  const Page& page = run.request->page;
  std::string content_type;
  for (const auto& [name, value] : page.headers) {
    if (strcasecmp(name.c_str(), "content-type") == 0) content_type = value;
  }
  html::XmlDocPtr doc;
  bool in_arena = false;
  {
    ScopedXmlArena arena;  // emptied by run_script() once the run's documents are gone
    doc = html::parse_html(page.body, content_type, page.url);
    in_arena = arena.all_in_arena();
  }
  if (!doc) {
    if (run.budget.exceeded) throw ScriptError{"not enough memory to parse the page"};
    throw ScriptError{"the page could not be parsed as HTML"};
  }
  xmlNode* root = reinterpret_cast<xmlNode*>(doc.get());
  run.documents.push_back({std::move(doc), in_arena});
  push_node(L, root);
  lua_pushvalue(L, -1);
  run.page_document_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 1;
}

// Builds Lua tables straight from the JSON text, so the memory they take is
// the Lua heap's and counts against the run's limit.
class LuaJsonBuilder : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit LuaJsonBuilder(lua_State* L) : L_(L) {}

  bool null() override { return value_pushed_nil(); }
  bool boolean(bool v) override {
    lua_pushboolean(L_, v);
    return value_pushed();
  }
  bool number_integer(number_integer_t v) override {
    lua_pushnumber(L_, static_cast<lua_Number>(v));
    return value_pushed();
  }
  bool number_unsigned(number_unsigned_t v) override {
    lua_pushnumber(L_, static_cast<lua_Number>(v));
    return value_pushed();
  }
  bool number_float(number_float_t v, const string_t&) override {
    lua_pushnumber(L_, v);
    return value_pushed();
  }
  bool string(string_t& v) override {
    lua_pushlstring(L_, v.data(), v.size());
    return value_pushed();
  }
  bool binary(binary_t&) override { return value_pushed_nil(); }
  bool start_object(std::size_t) override { return open(false); }
  bool key(string_t& k) override {
    if (!room()) return false;
    lua_pushlstring(L_, k.data(), k.size());
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_ = "not valid JSON (at byte " + std::to_string(position) +
             "): " + std::string(ex.what()).substr(std::string(ex.what()).find(']') + 2);
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  struct Frame {
    bool array;
    int next_index;
  };

  bool room() {
    if (!lua_checkstack(L_, 8)) {
      error_ = "the JSON document is nested too deeply";
      return false;
    }
    if (current_run().budget.exceeded) {
      error_ = "not enough memory to decode the JSON document";
      return false;
    }
    return true;
  }
  bool open(bool array) {
    if (frames_.size() >= 200) {
      error_ = "the JSON document is nested deeper than 200 levels";
      return false;
    }
    if (!room()) return false;
    lua_newtable(L_);
    frames_.push_back({array, 1});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value_pushed();
  }
  // Stores the value on top into its container (if any).
  bool value_pushed() {
    if (frames_.empty()) return true;  // the document's top-level value
    Frame& f = frames_.back();
    if (f.array) {
      lua_rawseti(L_, -2, f.next_index++);
    } else {
      lua_rawset(L_, -3);  // [table, key, value]
    }
    return room();
  }
  bool value_pushed_nil() {
    // null: an array keeps its position (a hole), an object drops the key.
    if (frames_.empty()) {
      lua_pushnil(L_);
      return true;
    }
    Frame& f = frames_.back();
    if (f.array) {
      ++f.next_index;
    } else {
      lua_pop(L_, 1);  // the key
    }
    return true;
  }

  lua_State* L_;
  std::vector<Frame> frames_;
  std::string error_;
};

// Decodes `text` as JSON onto the stack, or throws a ScriptError.
void push_json(lua_State* L, std::string_view text, const char* what) {
  const int top = lua_gettop(L);
  LuaJsonBuilder builder(L);
  const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder,
                                            nlohmann::json::input_format_t::json, true);
  if (!ok) {
    lua_settop(L, top);
    std::string message = builder.error().empty() ? "not valid JSON" : builder.error();
    throw ScriptError{std::string(what) + " " + message};
  }
}

int page_json(lua_State* L) {
  if (!lua_istable(L, 1)) throw ScriptError{"page:json() must be called with ':'"};
  push_json(L, current_run().request->page.body, "the page body is");
  return 1;
}

}  // namespace

int json_decode(lua_State* L) {
  std::size_t len = 0;
  const char* s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : nullptr;
  if (s == nullptr) {
    throw ScriptError{std::string("sdk.json.decode expects a string, got ") +
                      lua_typename(L, lua_type(L, 1))};
  }
  push_json(L, std::string_view(s, len), "the text is");
  return 1;
}

lua_CFunction json_decode_function() { return guarded<json_decode>; }

void register_dom(lua_State* L) {
  static const luaL_Reg kNodeMethods[] = {{"css", guarded<node_css>},
                                          {"css_one", guarded<node_css_one>},
                                          {"xpath", guarded<node_xpath>},
                                          {"text", guarded<node_text>},
                                          {"attr", guarded<node_attr>},
                                          {"attrs", guarded<node_attrs>},
                                          {"html", guarded<node_html>},
                                          {"tag", guarded<node_tag>},
                                          {"parent", guarded<node_parent>},
                                          {"children", guarded<node_children>},
                                          {"next", guarded<node_next>},
                                          {"prev", guarded<node_prev>},
                                          {nullptr, nullptr}};
  luaL_newmetatable(L, kNodeMeta);
  lua_newtable(L);
  luaL_setfuncs(L, kNodeMethods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, node_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, node_eq);
  lua_setfield(L, -2, "__eq");
  lua_pushliteral(L, "node");  // getmetatable() gives this, not the table
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);

  luaL_newmetatable(L, kPageMeta);
  lua_newtable(L);
  lua_pushcfunction(L, guarded<page_html>);
  lua_setfield(L, -2, "html");
  lua_pushcfunction(L, guarded<page_json>);
  lua_setfield(L, -2, "json");
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "page");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

void push_page(lua_State* L, const Page& page) {
  lua_createtable(L, 0, 4);
  lua_pushlstring(L, page.url.data(), page.url.size());
  lua_setfield(L, -2, "url");
  lua_pushinteger(L, page.status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, page.body.data(), page.body.size());
  lua_setfield(L, -2, "body");
  lua_createtable(L, 0, static_cast<int>(page.headers.size()));
  for (const auto& [name, value] : page.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    lua_pushlstring(L, value.data(), value.size());
    lua_setfield(L, -2, lower.c_str());
  }
  lua_setfield(L, -2, "headers");
  luaL_getmetatable(L, kPageMeta);
  lua_setmetatable(L, -2);
}

}  // namespace sandbox::engine
