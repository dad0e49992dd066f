-- Does nothing: `host parse` of this over many tiny pages measures what one
-- fresh sandbox costs (run.sh, "sandbox cost").
local sdk = require("sdk")

local P = sdk.BaseParser:extend {
  name = "bench_trivial",
  schema = { title = { type = "string" } },
}

function P:parse(page)
  return {}
end

return P
