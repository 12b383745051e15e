-- wrk script: every request names a random reporter of the large site (557058:large-1 … LARGE_CUSTOMERS), so the
-- issue panel's cache (2,000 panels) almost never has it: the row measures the panel's database path.
local customers = tonumber(os.getenv("LARGE_CUSTOMERS") or "1000000")
local seeded = false
request = function()
  if not seeded then
    math.randomseed(os.time() + math.floor(os.clock() * 1000000))
    seeded = true
  end
  return wrk.format("GET", "/api/issue-panel?reporter=557058:large-" .. math.random(1, customers))
end
