-- Ends one browser session: its hash goes, and so does its entry in its user's index.
-- KEYS[1] session hash. ARGV: 1 session id, 2 now (ms), 3 key prefix.
-- The index key follows from the user id and the session id's last two characters, its user's
-- tag, as in keys.ts (so it shares KEYS[1]'s slot). Returns the session's fields as HGETALL as
-- it was, or {} when it was unknown or no longer live.
local before = redis.call('HGETALL', KEYS[1])
if #before == 0 then return {} end
local f = redis.call('HMGET', KEYS[1], 'uid', 'abs', 'idle')
local id, now = ARGV[1], tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[3] .. '{u:' .. string.sub(id, -2) .. '}:ubs:' .. f[1], id)
if now >= tonumber(f[2]) or now >= tonumber(f[3]) then return {} end
return before
