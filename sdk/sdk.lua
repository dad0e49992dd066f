-- The Smart Data Pipeline SDK: what an extractor script gets from require("sdk").
-- Loaded fresh into every sandboxed run; see docs/sdk.md for the guide.
local native = ...

local sdk = { version = "1.0" }

---------------------------------------------------------------------------
-- BaseParser: the contract every extractor implements.
--
--   local P = sdk.BaseParser:extend { name = "...", schema = {...}, key = {...} }
--   function P:parse(page) return { {field = value, ...}, ... } end
--   return P
---------------------------------------------------------------------------
local BaseParser = {}
BaseParser.__index = BaseParser

function BaseParser:extend(definition)
  if type(definition) ~= "table" then
    error("BaseParser:extend expects a table such as { name = \"books\", schema = {...} }", 2)
  end
  definition.__index = definition
  return setmetatable(definition, self)
end

function BaseParser:parse(page) -- luacheck: ignore page
  error("parser '" .. tostring(self.name) .. "' does not define parse(page)", 2)
end

sdk.BaseParser = BaseParser

---------------------------------------------------------------------------
-- Text and URL helpers (implemented natively: linear time on any input).
---------------------------------------------------------------------------
sdk.text = {
  clean = native.text_clean,   -- collapse whitespace, trim
  number = native.text_number, -- first number: "1,234.5 items" -> 1234.5
  price = native.text_price,   -- "£51.77", "1.234,50 €", "$1,234" -> number
  date = native.text_date,     -- "5 March 2024" -> "2024-03-05"
}

sdk.url = {
  join = native.url_join,   -- resolve a link against the page URL
  parse = native.url_parse, -- { scheme, host, port, path, query, fragment }
}

sdk.json = {
  decode = native.json_decode, -- JSON text -> Lua tables (null drops the key)
}

---------------------------------------------------------------------------
-- Used by the host only (not reachable from scripts).
---------------------------------------------------------------------------
local internals = {}

function internals.describe(cls)
  if type(cls) ~= "table" then
    error("the script must end with 'return Parser', where Parser = sdk.BaseParser:extend{...};"
      .. " it returned " .. (cls == nil and "nothing" or "a " .. type(cls)), 0)
  end
  if type(cls.parse) ~= "function" or cls.parse == BaseParser.parse then
    error("the parser has no parse method: define 'function Parser:parse(page) ... end'", 0)
  end
  return {
    name = cls.name,
    source = cls.source,
    schema = cls.schema,
    key = cls.key,
    examples = cls.examples,
    description = cls.description,
  }
end

function internals.run(cls, page)
  local instance = setmetatable({}, { __index = cls })
  return cls.parse(instance, page)
end

return sdk, internals
