-- RFC 7009 revocation of a refresh token: revokes its family when the presented secret hash is
-- one of the family's tokens (current, just rotated, or older) and the client is the family's.
-- KEYS[1] family hash, KEYS[2] used-secret zset (same hash tag)
-- KEYS[3] (optional; standalone and Sentinel, a family with a user tag): where the previous
-- release looks for the family's state; marked revoked too (rolling upgrade, keys.ts).
-- ARGV: 1 secret hash, 2 client id, 3 now (ms), 4 revoked retention (ms)
-- Returns 'revoked', 'wrong_client' or 'none' (unknown, already revoked, expired, not its token).
local f = redis.call('HMGET', KEYS[1], 'state', 'cid', 'cur', 'prev', 'abs', 'idle')
if not f[1] or f[1] == 'revoked' then return 'none' end
local now = tonumber(ARGV[3])
if now >= tonumber(f[5]) or now >= tonumber(f[6]) then return 'none' end
local presented = ARGV[1]
if presented ~= f[3] and presented ~= f[4] and not redis.call('ZSCORE', KEYS[2], presented) then return 'none' end
if f[2] ~= ARGV[2] then return 'wrong_client' end
redis.call('HSET', KEYS[1], 'state', 'revoked', 'revoked_at', ARGV[3], 'box', '')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('DEL', KEYS[2])
if KEYS[3] then
  redis.call('HSET', KEYS[3], 'state', 'revoked')
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
return 'revoked'
