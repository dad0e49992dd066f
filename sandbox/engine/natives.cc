// The C functions behind sdk.text and sdk.url (sdk.lua wraps them).
#include "sandbox/engine/context.h"
#include "sandbox/text/text.h"
#include "sandbox/text/url.h"

namespace sandbox::engine {
namespace {

// nil in, nil out: extractors chain calls on optional nodes' text.
bool nil_or_string(lua_State* L, int index, std::string_view& out, const char* fn) {
  const int t = lua_type(L, index);
  if (t == LUA_TNIL || t == LUA_TNONE) return false;
  if (t != LUA_TSTRING && t != LUA_TNUMBER) {
    throw ScriptError{std::string(fn) + " expects a string, got " + lua_typename(L, t)};
  }
  std::size_t len = 0;
  const char* s = lua_tolstring(L, index, &len);
  out = std::string_view(s, len);
  return true;
}

int text_clean(lua_State* L) {
  std::string_view s;
  if (!nil_or_string(L, 1, s, "sdk.text.clean")) return lua_pushnil(L), 1;
  const std::string r = text::clean(s);
  lua_pushlstring(L, r.data(), r.size());
  return 1;
}

int push_optional_number(lua_State* L, const std::optional<double>& v) {
  if (v) {
    lua_pushnumber(L, *v);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int text_number(lua_State* L) {
  std::string_view s;
  if (!nil_or_string(L, 1, s, "sdk.text.number")) return lua_pushnil(L), 1;
  return push_optional_number(L, text::number(s));
}

int text_price(lua_State* L) {
  std::string_view s;
  if (!nil_or_string(L, 1, s, "sdk.text.price")) return lua_pushnil(L), 1;
  return push_optional_number(L, text::price(s));
}

int text_date(lua_State* L) {
  std::string_view s;
  if (!nil_or_string(L, 1, s, "sdk.text.date")) return lua_pushnil(L), 1;
  const bool day_first = lua_toboolean(L, 2) != 0;
  const auto r = text::date(s, day_first);
  if (r) {
    lua_pushlstring(L, r->data(), r->size());
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int url_join(lua_State* L) {
  std::string_view base;
  std::string_view ref;
  if (!nil_or_string(L, 1, base, "sdk.url.join")) base = {};
  if (!nil_or_string(L, 2, ref, "sdk.url.join")) return lua_pushnil(L), 1;
  const auto r = text::join_url(base, ref);
  if (r) {
    lua_pushlstring(L, r->data(), r->size());
  } else {
    lua_pushnil(L);
  }
  return 1;
}

void set_string(lua_State* L, const char* key, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

int url_parse(lua_State* L) {
  std::string_view s;
  if (!nil_or_string(L, 1, s, "sdk.url.parse")) return lua_pushnil(L), 1;
  const auto parts = text::parse_url(s);
  if (!parts) return lua_pushnil(L), 1;
  lua_createtable(L, 0, 8);
  set_string(L, "scheme", parts->scheme);
  set_string(L, "host", parts->host);
  set_string(L, "port", parts->port);
  set_string(L, "path", parts->path);
  set_string(L, "userinfo", parts->userinfo);
  if (parts->has_query) set_string(L, "query", parts->query);
  if (parts->has_fragment) set_string(L, "fragment", parts->fragment);
  return 1;
}

}  // namespace

void push_natives(lua_State* L) {
  static const luaL_Reg kNatives[] = {{"text_clean", guarded<text_clean>},
                                      {"text_number", guarded<text_number>},
                                      {"text_price", guarded<text_price>},
                                      {"text_date", guarded<text_date>},
                                      {"url_join", guarded<url_join>},
                                      {"url_parse", guarded<url_parse>},
                                      {nullptr, nullptr}};
  lua_newtable(L);
  luaL_setfuncs(L, kNatives, 0);
  lua_pushcfunction(L, json_decode_function());
  lua_setfield(L, -2, "json_decode");
}

}  // namespace sandbox::engine
