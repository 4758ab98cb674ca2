-- wrk script for the dompet benchmark (bench/run passes the arguments).
--
--   wrk ... -s bench/wrk/dompet.lua http://127.0.0.1:PORT -- key=value ...
--
--   mode=get        GET path?page=&per_page= as a random user in [lo, hi]
--                   (and &before_id= when before_id is given)
--   mode=credit     POST /internal/v1/mutations: a remit of `amount` to a random
--                   wallet in [lo, hi], a fresh idempotency key per request
--   mode=withdraw   POST /v2/dompet/withdraw.json as a random user in [lo, hi],
--                   to the user's own bank account, with the right password
--   seq=N           (with withdraw) users lo, lo+1, … in turn instead of random
--                   ones, N being wrk's thread count: each user withdraws once,
--                   so every request takes the full path (a second withdrawal
--                   the same day is refused by rule 3 after less work)
--   WRK_DELAY_MS=N  (environment) pause N ms before each request: a paced
--                   probe rather than a closed loop at full speed. wrk looks
--                   for delay() when it loads the script, before any argument
--                   is seen, so the switch is an environment variable.
--
-- User i's API token is 'tok' .. i zero-padded to 17 digits and its bank
-- account id is i (bench/sql/dataset.sql), so any user's credentials are
-- computed here without a lookup table.

local bit = require("bit")

local opts = {}
local counter = 0

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local b64chars = {}
for i = 0, 63 do
   b64chars[i] = alphabet:sub(i + 1, i + 1)
end

local function base64(s)
   local out = {}
   for i = 1, #s, 3 do
      local a, b, c = s:byte(i, i + 2)
      local v = a * 65536 + (b or 0) * 256 + (c or 0)
      out[#out + 1] = b64chars[bit.band(bit.rshift(v, 18), 63)]
         .. b64chars[bit.band(bit.rshift(v, 12), 63)]
         .. (b and b64chars[bit.band(bit.rshift(v, 6), 63)] or "=")
         .. (c and b64chars[bit.band(v, 63)] or "=")
   end
   return table.concat(out)
end

local function basic(uid)
   return "Basic " .. base64(uid .. ":" .. string.format("tok%017d", uid))
end

local function parse(args)
   local o = {}
   for _, arg in ipairs(args) do
      local k, v = arg:match("^([%w_]+)=(.*)$")
      if k then
         o[k] = v
      end
   end
   return o
end

local next_thread = 0
function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_id", next_thread)
end

function init(args)
   opts = parse(args)
   opts.lo = tonumber(opts.lo or "1")
   opts.hi = tonumber(opts.hi or opts.lo)
   opts.seq = tonumber(opts.seq or "")
   opts.amount = opts.amount or "1000"
   opts.tag = opts.tag or tostring(os.time())
   opts.password = opts.password or "bench-password-1"
   thread_id = thread_id or 0 -- a global, set by setup() through thread:set
   math.randomseed(os.time() * 1000 + thread_id * 7919)
   if opts.mode == "get" then
      opts.target = opts.path .. "?page=" .. (opts.page or "1") .. "&per_page=" .. (opts.per_page or "10")
      if opts.before_id then
         opts.target = opts.target .. "&before_id=" .. opts.before_id
      end
   end
end

local function user()
   if opts.seq then
      local uid = opts.lo + counter * opts.seq + (thread_id - 1)
      counter = counter + 1
      return uid
   end
   if opts.hi > opts.lo then
      return math.random(opts.lo, opts.hi)
   end
   return opts.lo
end

local pause = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pause and pause > 0 then
   function delay()
      return pause
   end
end

function request()
   local uid = user()
   if opts.mode == "get" then
      return wrk.format("GET", opts.target, { ["Authorization"] = basic(uid) })
   elseif opts.mode == "credit" then
      counter = counter + 1
      local body = string.format(
         '{"user_id":%d,"action":"remit","amount":%s,"transaction_id":%d,"idempotency_key":"wrk-%s-%d-%d"}',
         uid, opts.amount, counter, opts.tag, thread_id, counter)
      return wrk.format("POST", "/internal/v1/mutations", {
         ["Authorization"] = "Bearer " .. opts.admin,
         ["Content-Type"] = "application/json",
      }, body)
   elseif opts.mode == "withdraw" then
      local body = "deposit_withdrawal[amount]=" .. opts.amount
         .. "&deposit_withdrawal[bank_account_id]=" .. uid
         .. "&deposit_withdrawal[password]=" .. opts.password
      return wrk.format("POST", "/v2/dompet/withdraw.json", {
         ["Authorization"] = basic(uid),
         ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body)
   end
   error("unknown mode " .. tostring(opts.mode))
end

-- One machine-readable line for bench/run.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
         .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
