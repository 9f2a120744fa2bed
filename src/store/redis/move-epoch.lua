-- Moves a revocation epoch forward, never back, in one atomic step; it lasts as long as the
-- longest lifetime asked for. Each key is one copy of the epoch: a user's, a client's copy under
-- one tag, and on one node also the copy the previous release reads (rolling upgrade, keys.ts).
-- KEYS epoch hashes {epoch, exp}   ARGV[1] epoch (ms)   ARGV[2] expires at (s)   ARGV[3] ttl (s)
-- Returns the first key's epoch after the move.
local ttl = tonumber(ARGV[3])
local moved
for _, key in ipairs(KEYS) do
  local epoch = tonumber(ARGV[1])
  local expires_at = tonumber(ARGV[2])
  local current = redis.call('HMGET', key, 'epoch', 'exp')
  local current_epoch = tonumber(current[1] or '0')
  local current_exp = tonumber(current[2] or '0')
  if current_epoch > epoch then epoch = current_epoch end
  if current_exp > expires_at then expires_at = current_exp end
  redis.call('HSET', key, 'epoch', epoch, 'exp', expires_at)
  if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
  moved = moved or epoch
end
return moved
