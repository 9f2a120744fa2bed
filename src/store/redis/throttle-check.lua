-- Before a credential check: is the pair refused, or the address out of failures?
-- KEYS[1] pair hash {fails, until, exp}   KEYS[2] address bucket hash {tokens, at}  (same hash tag)
-- ARGV: 1 now (ms), 2 bucket capacity (0 = no address limit), 3 refill per ms
-- Returns {'ok', pair failures} or {'pair_locked' | 'address_exhausted', retry after ms}.
local now = tonumber(ARGV[1])
local pair = redis.call('HMGET', KEYS[1], 'fails', 'until', 'exp')
-- Forgotten by the caller's clock ('exp'), whatever the key's TTL says.
if tonumber(pair[3] or '0') <= now then pair = {false, false} end
local lockedUntil = tonumber(pair[2] or '0')
if lockedUntil > now then return {'pair_locked', lockedUntil - now} end
local capacity = tonumber(ARGV[2])
if capacity > 0 then
  local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'at')
  if bucket[1] then
    local rate = tonumber(ARGV[3])
    local tokens = math.min(capacity, tonumber(bucket[1]) + math.max(0, now - tonumber(bucket[2])) * rate)
    if tokens < 1 then return {'address_exhausted', math.ceil((1 - tokens) / rate)} end
  end
end
return {'ok', tonumber(pair[1] or '0')}
