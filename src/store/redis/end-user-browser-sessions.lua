-- Ends every browser session of a user in one step (disable, new password, log out everywhere).
-- KEYS[1] the user's session index (zset id -> absolute expiry ms). ARGV: 1 now (ms), 2 key prefix.
-- Each session's key follows from its id, whose last two characters are its user's tag, as in
-- keys.ts (so every key shares KEYS[1]'s slot). Returns how many of them were live.
local now, prefix = tonumber(ARGV[1]), ARGV[2]
local ended = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = prefix .. '{u:' .. string.sub(id, -2) .. '}:bs:' .. id
  local f = redis.call('HMGET', key, 'abs', 'idle')
  if f[1] and now < tonumber(f[1]) and now < tonumber(f[2]) then ended = ended + 1 end
  redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])
return ended
