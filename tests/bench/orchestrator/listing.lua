-- The orchestrator benchmark's parser (tests/bench/orchestrator): the product
-- cards of a fixture_server.py listing page, without the "you may also like"
-- decoy outside the results.
local sdk = require("sdk")

local RATINGS = { one = 1, two = 2, three = 3, four = 4, five = 5 }

local Listing = sdk.BaseParser:extend {
  name = "bench_listing",
  description = "Product cards of the orchestrator benchmark's fixture pages",
  schema = {
    sku = { type = "string", required = true },
    title = { type = "string", required = true },
    price = { type = "number", required = true },
    url = { type = "url", required = true },
    rating = "integer",
    stock = "integer",
    tags = { type = "list" },
  },
  key = { "sku" },
}

-- "star-rating Four" -> 4; nil when unrated.
local function rating(node)
  if not node then return nil end
  for word in (node:attr("class") or ""):gmatch("%S+") do
    local r = RATINGS[word:lower()]
    if r then return r end
  end
  return nil
end

function Listing:parse(page)
  local out = {}
  for _, card in ipairs(page:html():css("section.results > article.product-card")) do
    local a = card:css_one("h3 a")
    local avail = card:css_one(".availability")
    local tags = {}
    for _, li in ipairs(card:css("ul.tags li")) do tags[#tags + 1] = li:text() end
    out[#out + 1] = {
      sku = card:attr("data-sku"),
      title = a and sdk.text.clean(a:attr("title") or a:text()),
      price = sdk.text.price(card:css_one(".price") and card:css_one(".price"):text()),
      url = a and sdk.url.join(page.url, a:attr("href")),
      rating = rating(card:css_one(".star-rating")),
      -- "In stock (12 available)" -> 12; "Out of stock" -> 0.
      stock = avail and (sdk.text.number(avail:text()) or 0),
      tags = tags,
    }
  end
  return out
end

return Listing
