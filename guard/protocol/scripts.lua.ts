/**
 * The guard's Redis scripts. Each runs atomically, so a check and the write it allows cannot be separated by
 * another guard. Every script that decides something first checks that Redis still holds the state the guard
 * validated: the generation record must match, and the server's run id must be the one it was validated on (a
 * restarted, rolled-back or failed-over Redis has a new run id even when its data looks intact).
 */

const STALE_CHECK = `
-- gen 'rebuild:<holder>' is the rebuilding guard, which may write only while it holds the rebuild lease
local function stale(genKey, rebuildKey, gen, runId)
  local holder = string.match(gen, '^rebuild:(.+)$')
  if holder then
    if redis.call('GET', rebuildKey) ~= holder then return true end
  elseif redis.call('GET', genKey) ~= gen .. '|' .. runId then
    return true
  end
  local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
  return run ~= runId
end
local function split(s, sep)
  local out, start = {}, 1
  while true do
    local at = string.find(s, sep, start, true)
    if not at then out[#out + 1] = string.sub(s, start); return out end
    out[#out + 1] = string.sub(s, start, at - 1)
    start = at + 1
  end
end
-- Roll a stream back to the version before a reservation, but never below a version read back from Kafka.
local function restore(verKey, seenKey, stream, prev)
  local seen = tonumber(redis.call('HGET', seenKey, stream) or '-1')
  if seen > prev then prev = seen end
  if prev < 0 then redis.call('HDEL', verKey, stream) else redis.call('HSET', verKey, stream, prev) end
  redis.call('HDEL', seenKey, stream)
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Lifts a reservation's locks and deletes it: forward keeps the versions it reserved (its events are in Kafka),
 * back restores the versions from before it. Shared by release and resolve, which use the same keys:
 * KEYS: ver lock res gen rebuild seen. False when the reservation is not there (already settled).
 */
const SETTLE = `
local function settle(resId, forward)
  local rec = redis.call('HGET', KEYS[3], resId)
  if not rec then return false end
  for pair in string.gmatch(split(rec, '|')[5], '([^,]+)') do
    local stream, prev = string.match(pair, '^(.*)=(-?%d+)$')
    local lock = redis.call('HGET', KEYS[2], stream)
    if lock and split(lock, '|')[1] == resId then
      if forward then redis.call('HDEL', KEYS[6], stream) else restore(KEYS[1], KEYS[6], stream, tonumber(prev)) end
      redis.call('HDEL', KEYS[2], stream)
    end
  end
  redis.call('HDEL', KEYS[3], resId)
  return true
end
`;

/**
 * reserve: one call per partition and group commit.
 * KEYS: ver lock res wm ids gen rebuild idx
 * ARGV: gen runId resId slot ttlMs count, then per append: stream expected n (id hash)*n
 * Answers per append, in order:
 *   {'ok', first, last}                       versions reserved
 *   {'dup', first, last, topic, partition, offset}  every id already written by this append: answer from the first write
 *   {'idconflict', id, why}                   an id belongs to another event, on settled state (a confirmed write)
 *   {'conflict', actual}                      wrong expected version, on settled state: the stream has no
 *                                             reservation in flight, this call's own included
 *   {'busy', resId, expired}                  a reservation holds the stream (expired = 1 when past its deadline),
 *                                             or holds one of these ids (a retry racing its first attempt, or another
 *                                             append's ids), or an earlier append of this call reserved versions this
 *                                             one would conflict with: wait until it settles, then decide again
 * Reserved ids are marked in `ids` while in flight, so that another append cannot take them meanwhile; a mark
 * whose reservation is gone (rolled back) counts as unknown.
 * or {'stale'} for the whole call.
 */
export const RESERVE = `${STALE_CHECK}
if stale(KEYS[6], KEYS[7], ARGV[1], ARGV[2]) then return {'stale'} end
local resId, slot, ttl = ARGV[3], ARGV[4], tonumber(ARGV[5])
local now = nowMs()
local out, prevs, order, usedIds = {}, {}, {}, {}
local probe = nil
local i = 7
for a = 1, tonumber(ARGV[6]) do
  local stream, expected, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  local ids, hashes = {}, {}
  for e = 1, n do ids[e] = ARGV[i]; hashes[e] = ARGV[i + 1]; i = i + 2 end
  local answer = nil
  -- 1. idempotency: a retry of a written append is answered from its first write
  local known, recs = 0, {}
  for e = 1, n do
    if usedIds[ids[e]] then answer = {'busy', resId, 0}; break end
    local rec = redis.call('HGET', KEYS[5], ids[e])
    if rec and string.sub(rec, 1, 1) == '~' then
      -- an id reserved by an append still in flight: '~<res key>|<reservation>|<stream>|<hash>'
      local m = split(string.sub(rec, 2), '|')
      local held = redis.call('HGET', m[1], m[2])
      if held then
        -- whether the same append (a retry racing its first attempt) or another one: the mark is not settled,
        -- and a refusal is decided on settled state only, so wait for that reservation either way
        local expired = 0
        if tonumber(split(held, '|')[2]) <= now then expired = 1 end
        answer = {'busy', m[2], expired}
        break
      end
    elseif rec then
      known = known + 1; recs[e] = split(rec, '|')
    end
  end
  if answer == nil and known > 0 then
    if known < n then
      for e = 1, n do
        if recs[e] then answer = {'idconflict', ids[e], 'was written by another append'}; break end
      end
    else
      local first = tonumber(recs[1][2])
      for e = 1, n do
        local r = recs[e]
        if r[1] ~= stream then answer = {'idconflict', ids[e], 'belongs to stream ' .. r[1]}; break end
        if r[6] ~= hashes[e] then answer = {'idconflict', ids[e], 'was written with other content'}; break end
        if tonumber(r[2]) ~= first + e - 1 then answer = {'idconflict', ids[e], 'was written by another append'}; break end
      end
      if answer == nil then
        local last = recs[n]
        answer = {'dup', first, tonumber(last[2]), last[3], tonumber(last[4]), tonumber(last[5])}
      end
    end
  end
  -- 2. a stream with a reservation in flight waits for it (its versions are not final yet)
  if answer == nil then
    local lock = redis.call('HGET', KEYS[2], stream)
    if lock then
      local holder = split(lock, '|')[1]
      if holder ~= resId then
        local rec = redis.call('HGET', KEYS[3], holder)
        local expired = 1
        if rec then
          local deadline = tonumber(split(rec, '|')[2])
          if deadline > now then expired = 0 end
        end
        answer = {'busy', holder, expired}
      end
    end
  end
  -- 3. the compare-and-swap
  if answer == nil then
    local cur = tonumber(redis.call('HGET', KEYS[1], stream) or '-1')
    local ok
    if expected == 'any' then ok = true
    elseif expected == 'no_stream' then ok = cur == -1
    elseif expected == 'stream_exists' then ok = cur >= 0
    else ok = cur == tonumber(expected) end
    if not ok and prevs[stream] ~= nil then
      -- cur counts versions an earlier append of this call reserved: not committed, and released if this group's
      -- transaction fails. Refusing against them would be a definite answer about versions that may never exist,
      -- so the append waits for this group to settle and is decided again on committed state.
      answer = {'busy', resId, 0}
    elseif not ok then
      answer = {'conflict', cur}
    else
      redis.call('HSET', KEYS[1], stream, cur + n)
      if prevs[stream] == nil then
        prevs[stream] = cur
        order[#order + 1] = stream
        redis.call('HSET', KEYS[2], stream, resId .. '|' .. cur)
      end
      for e = 1, n do
        usedIds[ids[e]] = true
        redis.call('HSET', KEYS[5], ids[e], '~' .. KEYS[3] .. '|' .. resId .. '|' .. stream .. '|' .. hashes[e])
        redis.call('ZADD', KEYS[8], now, ids[e])
      end
      if probe == nil then probe = ids[1] end
      answer = {'ok', cur + 1, cur + n}
    end
  end
  out[a] = answer
end
if probe ~= nil then
  local parts = {}
  for _, s in ipairs(order) do parts[#parts + 1] = s .. '=' .. prevs[s] end
  local wm = redis.call('GET', KEYS[4]) or '-1'
  redis.call('HSET', KEYS[3], resId, slot .. '|' .. (now + ttl) .. '|' .. wm .. '|' .. probe .. '|' .. table.concat(parts, ','))
end
return out
`;

/**
 * confirm: after the transaction committed. Records the events' positions for idempotency, lifts the locks and
 * advances the watermark.
 * KEYS: ver lock res wm ids idx gen rebuild seen
 * ARGV: gen runId resId windowMs topic partition lastOffset count, then per event: id stream version offset hash
 * Answers 'ok', 'gone' (someone already resolved the reservation) or 'stale'.
 */
export const CONFIRM = `${STALE_CHECK}
if stale(KEYS[7], KEYS[8], ARGV[1], ARGV[2]) then return 'stale' end
local resId = ARGV[3]
local rec = redis.call('HGET', KEYS[3], resId)
if not rec then return 'gone' end
local fields = split(rec, '|')
for pair in string.gmatch(fields[5], '([^,]+)') do
  local stream = string.match(pair, '^(.*)=')
  local lock = redis.call('HGET', KEYS[2], stream)
  if lock and split(lock, '|')[1] == resId then
    redis.call('HDEL', KEYS[2], stream)
    redis.call('HDEL', KEYS[9], stream)
  end
end
redis.call('HDEL', KEYS[3], resId)
local now = nowMs()
local topic, partition = ARGV[5], ARGV[6]
local i = 9
local count = tonumber(ARGV[8])
for e = 1, count do
  local id = ARGV[i]
  redis.call('HSET', KEYS[5], id, ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. topic .. '|' .. partition .. '|' .. ARGV[i + 3] .. '|' .. ARGV[i + 4])
  redis.call('ZADD', KEYS[6], now, id)
  i = i + 5
end
local wm = tonumber(redis.call('GET', KEYS[4]) or '-1')
if tonumber(ARGV[7]) > wm then redis.call('SET', KEYS[4], ARGV[7]) end
-- forget ids older than the window, a little more than was added, so the window never grows without bound
local old = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[4]), 'LIMIT', 0, count * 2 + 16)
if #old > 0 then
  redis.call('HDEL', KEYS[5], unpack(old))
  redis.call('ZREM', KEYS[6], unpack(old))
end
return 'ok'
`;

/**
 * release: the guard aborted its own transaction, or never asked for its commit (nothing can be in Kafka), so the
 * reservation is undone. Only on validated state: on a restarted Redis the rebuild settles it.
 * KEYS: ver lock res gen rebuild seen
 * ARGV: gen runId resId
 */
export const RELEASE = `${STALE_CHECK}${SETTLE}
if stale(KEYS[4], KEYS[5], ARGV[1], ARGV[2]) then return 'stale' end
if not settle(ARGV[3], false) then return 'gone' end
return 'released'
`;

/**
 * Applying events read back from Kafka (recovery, rebuild) is two scripts, so that the bulk of it (one idempotency
 * entry per event) is a few large commands instead of several calls per event. Both are idempotent.
 *
 * applyIds: the idempotency entries of events inside the window, (re)recorded with their event time.
 * KEYS: ids idx gen rebuild
 * ARGV: gen runId count, then per event: id entry timeMs (entry as confirm writes it: stream|version|topic|partition|offset|hash)
 * At most 2500 events per call (Lua's unpack takes about 8000 values).
 */
export const APPLY_IDS = `${STALE_CHECK}
if stale(KEYS[3], KEYS[4], ARGV[1], ARGV[2]) then return 'stale' end
local n = tonumber(ARGV[3])
if n == 0 then return 'applied' end
local fields, members = {}, {}
local i = 4
for e = 1, n do
  fields[2 * e - 1] = ARGV[i]; fields[2 * e] = ARGV[i + 1]
  members[2 * e - 1] = ARGV[i + 2]; members[2 * e] = ARGV[i]
  i = i + 3
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], unpack(members))
return 'applied'
`;

/**
 * applyVersions: per stream, the highest version read back (versions only move forward), and the partition's
 * watermark once its range was read to the end (-1: not yet).
 * KEYS: ver wm gen rebuild lock seen
 * ARGV: gen runId watermark count, then per stream: stream version
 */
export const APPLY_VERSIONS = `${STALE_CHECK}
if stale(KEYS[3], KEYS[4], ARGV[1], ARGV[2]) then return 'stale' end
local i = 5
for e = 1, tonumber(ARGV[4]) do
  local stream, version = ARGV[i], tonumber(ARGV[i + 1])
  local cur = tonumber(redis.call('HGET', KEYS[1], stream) or '-1')
  if version > cur then redis.call('HSET', KEYS[1], stream, version) end
  if redis.call('HEXISTS', KEYS[5], stream) == 1 then
    local seen = tonumber(redis.call('HGET', KEYS[6], stream) or '-1')
    if version > seen then redis.call('HSET', KEYS[6], stream, version) end
  end
  i = i + 2
end
local wm = tonumber(redis.call('GET', KEYS[2]) or '-1')
if tonumber(ARGV[3]) > wm then redis.call('SET', KEYS[2], ARGV[3]) end
return 'applied'
`;

/**
 * resolve: a reservation whose owner was fenced, after the partition was read from the reservation's watermark to
 * the high watermark taken after the fence (and the events found were applied). Found: its events are in Kafka,
 * keep the versions (roll forward). Not found: they never will be, restore the versions (roll back).
 * KEYS: ver lock res gen rebuild seen
 * ARGV: gen runId resId found(1|0)
 */
export const RESOLVE = `${STALE_CHECK}${SETTLE}
if stale(KEYS[4], KEYS[5], ARGV[1], ARGV[2]) then return 'stale' end
local forward = ARGV[4] == '1'
if not settle(ARGV[3], forward) then return 'gone' end
if forward then return 'forward' end
return 'back'
`;
