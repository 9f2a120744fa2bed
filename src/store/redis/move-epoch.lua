-- Moves a revocation epoch (a user's, or a client's copy under one tag) forward, never back, in
-- one atomic step; it lasts as long as the longest lifetime asked for.
-- KEYS[1] epoch hash {epoch, exp}   ARGV[1] epoch (ms)   ARGV[2] expires at (s)   ARGV[3] ttl (s)
local epoch = tonumber(ARGV[1])
local expires_at = tonumber(ARGV[2])
local current = redis.call('HMGET', KEYS[1], 'epoch', 'exp')
local current_epoch = tonumber(current[1] or '0')
local current_exp = tonumber(current[2] or '0')
if current_epoch > epoch then epoch = current_epoch end
if current_exp > expires_at then expires_at = current_exp end
redis.call('HSET', KEYS[1], 'epoch', epoch, 'exp', expires_at)
local ttl = tonumber(ARGV[3])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return epoch
