-- books.toscrape.com catalogue pages: one record per book card.
local sdk = require("sdk")

local Books = sdk.BaseParser:extend {
  name = "books",
  description = "Books listed on a books.toscrape.com catalogue page",
  schema = {
    title = { type = "string", required = true },
    price = { type = "number", required = true },
    url = { type = "url", required = true },
    image = { type = "url" },
    rating = { type = "integer" },
    in_stock = { type = "boolean" },
  },
  key = { "url" },
  examples = {
    {
      page = "pages/index.html",
      url = "http://books.toscrape.com/index.html",
      expect = {
        count = 20,
        records = {
          [1] = { title = "A Light in the Attic", price = 51.77, rating = 3, in_stock = true },
        },
      },
    },
  },
}

local RATINGS = { One = 1, Two = 2, Three = 3, Four = 4, Five = 5 }

function Books:parse(page)
  local out = {}
  for _, card in ipairs(page:html():css("article.product_pod")) do
    local link = card:css_one("h3 a")
    local rating = card:css_one("p.star-rating")
    local stock = card:css_one(".availability")
    local image = card:css_one(".image_container img")
    out[#out + 1] = {
      title = link and link:attr("title"),
      price = sdk.text.price(card:css_one(".price_color"):text()),
      url = link and sdk.url.join(page.url, link:attr("href")),
      image = image and sdk.url.join(page.url, image:attr("src")),
      rating = rating and RATINGS[(rating:attr("class") or ""):match("star%-rating%s+(%a+)")],
      in_stock = stock and stock:text():find("In stock", 1, true) ~= nil,
    }
  end
  return out
end

return Books
