-- The parse benchmark's parser (tests/bench/parse): the six fields of every
-- product card in a listing page's results, and none of the decoy cards
-- (recommended, recently viewed, also bought, top pick) outside them.
-- walk.c and lxml_extract.py implement the same rules; check.py compares all
-- three with the corpus's truth.
local sdk = require("sdk")

local RATINGS = { one = 1, two = 2, three = 3, four = 4, five = 5 }

local P = sdk.BaseParser:extend {
  name = "bench_products",
  schema = {
    title = { type = "string", required = true },
    price = { type = "number", required = true },
    url = { type = "url" },
    sku = { type = "string" },
    rating = { type = "integer" },
    in_stock = { type = "boolean" },
  },
  key = { "sku" },
}

-- "star-rating Four" (any order, any case) -> 4; nil when unrated.
local function rating(node)
  if not node then return nil end
  for word in (node:attr("class") or ""):gmatch("%S+") do
    local r = RATINGS[word:lower()]
    if r then return r end
  end
  return nil
end

-- Availability text -> true/false; nil when absent or unclear.
local function in_stock(node)
  if not node then return nil end
  local t = node:text():lower()
  if t:find("out of stock", 1, true) or t:find("sold out", 1, true)
      or t:find("unavailable", 1, true) then
    return false
  end
  if t:find("in stock", 1, true) or t:find("available", 1, true) or t:find(" left", 1, true) then
    return true
  end
  return nil
end

function P:parse(page)
  local out = {}
  for _, card in ipairs(page:html():css("section.results article.product-card")) do
    local a = card:css_one("h3 a")
    local price_node = card:css_one(".price")
    local price = price_node and sdk.text.price(price_node:text())
    if a and price then
      local href = a:attr("href")
      out[#out + 1] = {
        title = sdk.text.clean(a:attr("title") or a:text()),
        price = price,
        url = href and sdk.url.join(page.url, href) or nil,
        sku = card:attr("data-sku"),
        rating = rating(card:css_one(".star-rating")),
        in_stock = in_stock(card:css_one(".availability")),
      }
    end
  end
  return out
end

return P
