-- Redeems an authorization code in one atomic step. RFC 6749 §4.1.2: a code is used once; a
-- second use is refused and should revoke what the first issued, so a spent code is kept for a
-- while (the retention) with what it issued (record-code-issue.lua).
-- KEYS[1] the code's hash key. ARGV: 1 now (ms), 2 retention of a spent code (ms).
-- Returns {'redeemed', fields...}, {'replayed', fields...} (fields as HGETALL, with the issue's
-- once recorded) or {'unknown'} for a code never saved, expired unspent, or past its retention.
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'state', 'until')
if not f[1] or now >= tonumber(f[2]) then return {'unknown'} end
local outcome = 'replayed'
if f[1] == 'live' then
  outcome = 'redeemed'
  local retain = tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'state', 'spent', 'until', now + retain)
  redis.call('PEXPIRE', KEYS[1], math.max(retain, 1))
else
  redis.call('HSET', KEYS[1], 'state', 'replayed')
end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, outcome)
return out
