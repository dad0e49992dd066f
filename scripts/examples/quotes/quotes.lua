-- quotes.toscrape.com: one record per quote, from the HTML page or from the
-- /js/ variant that ships the quotes as a JSON array in a <script>.
local sdk = require("sdk")

local Quotes = sdk.BaseParser:extend {
  name = "quotes",
  description = "Quotes with their author and tags",
  schema = {
    text = { type = "string", required = true },
    author = { type = "string", required = true },
    author_url = { type = "url" },
    tags = { type = "list" },
  },
  key = { "text", "author" },
  examples = {
    {
      page = "pages/js-index.html",
      url = "http://quotes.toscrape.com/js/",
      expect = {
        count = 10,
        records = {
          [1] = { author = "Albert Einstein" },
        },
      },
    },
  },
}

local function from_html(page, doc)
  local out = {}
  for _, q in ipairs(doc:css("div.quote")) do
    local tags = {}
    -- Scoped to the quote: the sidebar's "Top Ten tags" use the same class.
    for _, tag in ipairs(q:css(".tags a.tag")) do tags[#tags + 1] = tag:text() end
    local about = q:css_one("a[href^='/author/']")
    out[#out + 1] = {
      text = q:css_one("span.text"):text(),
      author = q:css_one("small.author"):text(),
      author_url = about and sdk.url.join(page.url, about:attr("href")),
      tags = tags,
    }
  end
  return out
end

local function from_script(page, doc)
  local out = {}
  for _, script in ipairs(doc:css("script:not([src])")) do
    local data = script:text():match("var%s+data%s*=%s*(%b[])")
    if data then
      for _, q in ipairs(sdk.json.decode(data)) do
        out[#out + 1] = {
          text = sdk.text.clean(q.text),
          author = q.author and q.author.name,
          author_url = q.author and q.author.goodreads_link
            and sdk.url.join("https://www.goodreads.com/", q.author.goodreads_link),
          tags = q.tags or {},
        }
      end
    end
  end
  return out
end

function Quotes:parse(page)
  local doc = page:html()
  local out = from_html(page, doc)
  if #out == 0 then out = from_script(page, doc) end
  return out
end

return Quotes
