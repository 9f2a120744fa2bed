-- Revokes a live family. KEYS[1] family hash, KEYS[2] used-secret zset
-- KEYS[3] (optional; standalone and Sentinel, a family with a user tag): where the previous
-- release looks for the family's state; marked revoked too (rolling upgrade, keys.ts).
-- ARGV: 1 now (ms), 2 revoked retention (ms). Returns the family as it was, or {} when unknown,
-- already revoked or expired (an expired family is not recreated).
local f = redis.call('HMGET', KEYS[1], 'state', 'abs', 'idle')
if not f[1] or f[1] == 'revoked' then return {} end
local now = tonumber(ARGV[1])
if now >= tonumber(f[2]) or now >= tonumber(f[3]) then return {} end
local before = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'revoked', 'revoked_at', ARGV[1], 'box', '')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
if KEYS[3] then
  redis.call('HSET', KEYS[3], 'state', 'revoked')
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
return before
