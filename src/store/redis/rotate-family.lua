-- Check-and-rotate of a refresh-token family in one atomic step.
-- KEYS[1] family hash   KEYS[2] used-secret zset (same hash tag)
-- KEYS[3] (optional; standalone and Sentinel, a family with a user tag): where the previous
-- release looks for the family's state; marked revoked too (rolling upgrade, keys.ts).
-- ARGV: 1 presented hash, 2 next hash, 3 sealed successor, 4 now (ms), 5 idle ttl (ms),
--       6 grace (ms, 0 = off), 7 revoked retention (ms), 8 max tracked generations, 9 client id
-- Returns {outcome, family fields as HGETALL} or {outcome} / {'replayed', box, fields...}.
local now = tonumber(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'state', 'cur', 'prev', 'prev_at', 'box', 'abs', 'idle', 'gen', 'cid')
if not f[1] then return {'unknown'} end
-- RFC 6749 §10.4: a refresh token is bound to its client; another client's use changes nothing.
if f[9] ~= ARGV[9] then return {'wrong_client'} end
if f[1] == 'revoked' then return {'revoked'} end
local abs = tonumber(f[6])
if now >= abs or now >= tonumber(f[7]) then return {'expired'} end
local presented = ARGV[1]

if presented == f[2] then
  local gen = tonumber(f[8]) + 1
  local idle = math.min(now + tonumber(ARGV[5]), abs)
  redis.call('HSET', KEYS[1], 'prev', f[2], 'prev_at', ARGV[4], 'box', ARGV[3], 'cur', ARGV[2], 'gen', gen, 'last', ARGV[4], 'idle', idle)
  redis.call('ZADD', KEYS[2], gen - 1, f[2])
  local tracked = redis.call('ZCARD', KEYS[2])
  local max = tonumber(ARGV[8])
  if tracked > max then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, tracked - max - 1) end
  redis.call('PEXPIRE', KEYS[1], idle - now)
  redis.call('PEXPIRE', KEYS[2], idle - now)
  local out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, 'rotated')
  return out
end

local grace = tonumber(ARGV[6])
if presented == f[3] and grace > 0 and now - tonumber(f[4]) <= grace then
  local out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, f[5])
  table.insert(out, 1, 'replayed')
  return out
end

if presented == f[3] or redis.call('ZSCORE', KEYS[2], presented) then
  -- A used token came back: whoever holds the family's tokens, one of them is a thief.
  redis.call('HSET', KEYS[1], 'state', 'revoked', 'revoked_at', ARGV[4], 'box', '')
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  redis.call('DEL', KEYS[2])
  if KEYS[3] then
    redis.call('HSET', KEYS[3], 'state', 'revoked')
    redis.call('PEXPIRE', KEYS[3], ARGV[7])
  end
  local out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, 'reused')
  return out
end

-- Never a secret of this family: a guess or a forgery. Refused without revoking the family, so a
-- known family id (it is in access tokens) cannot be used to log a user out.
return {'invalid'}
