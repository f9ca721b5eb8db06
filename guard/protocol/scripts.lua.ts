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
 * The idempotency window of one partition (keys in guard/protocol/keys.ts, encoding in guard/protocol/idWindow.ts):
 * a ring of generations, each a set of small hashes (buckets) that Redis keeps listpack-encoded. A generation takes
 * events until it holds `C` of them or its first write is `S` old; then a new one opens, and the oldest ones are
 * forgotten while the ring would exceed `max` events or their last write is older than the window `W`. All events
 * of one call go into one generation, so an append's ids are forgotten together, never in part.
 * Generations are numbered from the second the ring was made, so that a ring made again never meets leftovers.
 * `s` is the shape from the arguments: W max C B S (windowShape in idWindow.ts).
 */
const WINDOW = `
local function shapeAt(at)
  return { W = tonumber(ARGV[at]), max = tonumber(ARGV[at + 1]), C = tonumber(ARGV[at + 2]),
           B = tonumber(ARGV[at + 3]), S = tonumber(ARGV[at + 4]) }
end
local function ringOf(meta)
  local flat = redis.call('HGETALL', meta)
  local m = {}
  for k = 1, #flat, 2 do m[flat[k]] = tonumber(flat[k + 1]) end
  -- the live generations newest first, with what a lookup needs, computed once per call
  m.live = {}
  if m.cur then
    for g = m.cur, m.lo, -1 do
      local b = m['b' .. g]
      if b then m.live[#m.live + 1] = { key = meta .. ':' .. g .. ':', b = b, o = m['o' .. g] or 0 } end
    end
  end
  return m
end
-- a few bytes of the id pick the bucket: random in uuid v4 and v7 (bytes 15-16), the clock's low byte in v1 (4)
local function bucketHash(field)
  return string.byte(field, 4) * 65536 + string.byte(field, 15) * 256 + string.byte(field, 16)
end
-- newest generation first: the id's check, version and offset, or nil
local function lookup(meta, m, field)
  local h = bucketHash(field)
  for _, gen in ipairs(m.live) do
    local v = redis.call('HGET', gen.key .. (h % gen.b), field)
    if v then
      if #v == 12 then
        local version, delta = struct.unpack('>I4i4', v, 5)
        return string.sub(v, 1, 4), version, gen.o + delta
      end
      local version, offset = struct.unpack('>dd', v, 5)
      return string.sub(v, 1, 4), version, offset
    end
  end
  return nil
end
local function forgetGeneration(meta, m, g)
  for b = 0, (m['b' .. g] or 0) - 1 do redis.call('UNLINK', meta .. ':' .. g .. ':' .. b) end
  redis.call('HDEL', meta, 'n' .. g, 't' .. g, 'o' .. g, 'b' .. g)
  m['n' .. g], m['t' .. g], m['o' .. g], m['b' .. g] = nil, nil, nil, nil
end
-- opens a new generation, first forgetting what the bounds no longer allow
local function openGeneration(meta, m, now, s)
  local cur = m.cur
  if cur == nil then
    cur = math.floor(now / 1000)
    m.lo = cur + 1
  else
    redis.call('HSET', meta, 'n' .. cur, m['n' .. cur], 't' .. cur, m['t' .. cur])
  end
  local total = 0
  for g = m.lo, cur do total = total + (m['n' .. g] or 0) end
  while m.lo <= cur and ((m['t' .. m.lo] or 0) < now - s.W or total + s.C > s.max) do
    total = total - (m['n' .. m.lo] or 0)
    forgetGeneration(meta, m, m.lo)
    m.lo = m.lo + 1
  end
  cur = cur + 1
  m.cur, m.f = cur, now
  m['n' .. cur], m['t' .. cur], m['b' .. cur], m['o' .. cur] = 0, now, s.B, nil
  redis.call('HSET', meta, 'lo', m.lo, 'cur', cur, 'f', now, 'n' .. cur, 0, 't' .. cur, now, 'b' .. cur, s.B)
end
local function due(m, now, s)
  if m.cur == nil then return true end
  local n = m['n' .. m.cur]
  return n >= s.C or (n > 0 and now - m.f >= s.S)
end
local function remember(meta, m, field, check, version, offset, time)
  local g = m.cur
  if m.wgen ~= g then
    -- names of the current generation's fields and buckets, made once per generation and call
    m.wgen, m.wkey, m.wb, m.wn, m.wt, m.wo = g, meta .. ':' .. g .. ':', m['b' .. g], 'n' .. g, 't' .. g, 'o' .. g
  end
  local base = m[m.wo]
  if base == nil and offset == offset then
    base = offset
    m[m.wo] = offset
    redis.call('HSET', meta, m.wo, offset)
  end
  local delta = offset - (base or 0)
  local v
  if version < 4294967296 and delta == delta and delta >= -2147483648 and delta < 2147483648 then
    v = check .. struct.pack('>I4i4', version, delta)
  else
    v = check .. struct.pack('>dd', version, offset)
  end
  m[m.wn] = m[m.wn] + redis.call('HSET', m.wkey .. (bucketHash(field) % m.wb), field, v)
  if time > m[m.wt] then m[m.wt] = time end
end
local function saveCounts(meta, m)
  if m.cur then redis.call('HSET', meta, 'n' .. m.cur, m['n' .. m.cur], 't' .. m.cur, m['t' .. m.cur]) end
end
`;

/**
 * Lifts a reservation's locks, its ids' in-flight marks, and deletes it: forward keeps the versions it reserved (its
 * events are in Kafka), back restores the versions from before it. Shared by release and resolve, which use the same
 * keys: KEYS: ver lock res gen rebuild seen fly flr. False when the reservation is not there (already settled).
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
  local marked = redis.call('HGET', KEYS[8], resId)
  if marked then
    for p = 1, #marked, 16 do
      local field = string.sub(marked, p, p + 15)
      if redis.call('HGET', KEYS[7], field) == resId then redis.call('HDEL', KEYS[7], field) end
    end
    redis.call('HDEL', KEYS[8], resId)
  end
  return true
end
`;

/**
 * reserve: one call per partition and group commit.
 * KEYS: ver lock res wm gen rebuild fly flr idm
 * ARGV: gen runId resId slot ttlMs topic partition count, then per append: stream expected n (id field check)*n
 *   (id as sent, for answers and the probe; field and check: 16 and 4 bytes, guard/protocol/idWindow.ts)
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
 * Reserved ids are marked in `fly` while in flight, so that another append cannot take them meanwhile; a mark
 * whose reservation is gone counts as unknown.
 * or {'stale'} for the whole call.
 */
export const RESERVE = `${STALE_CHECK}${WINDOW}
if stale(KEYS[5], KEYS[6], ARGV[1], ARGV[2]) then return {'stale'} end
local resId, slot, ttl, topic, partition = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local now = nowMs()
local m = ringOf(KEYS[9])
local out, prevs, order, usedIds, marked = {}, {}, {}, {}, {}
local probe = nil
local i = 9
for a = 1, tonumber(ARGV[8]) do
  local stream, expected, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  local ids, fields, checks = {}, {}, {}
  for e = 1, n do ids[e] = ARGV[i]; fields[e] = ARGV[i + 1]; checks[e] = ARGV[i + 2]; i = i + 3 end
  local answer = nil
  -- 1. idempotency: a retry of a written append is answered from its first write
  local known, recs = 0, {}
  for e = 1, n do
    if usedIds[fields[e]] then answer = {'busy', resId, 0}; break end
    local mark = redis.call('HGET', KEYS[7], fields[e])
    local held = mark and redis.call('HGET', KEYS[3], mark)
    if held then
      -- whether the same append (a retry racing its first attempt) or another one: the mark is not settled,
      -- and a refusal is decided on settled state only, so wait for that reservation either way
      local expired = 0
      if tonumber(split(held, '|')[2]) <= now then expired = 1 end
      answer = {'busy', mark, expired}
      break
    end
    local check, version, offset = lookup(KEYS[9], m, fields[e])
    if check then known = known + 1; recs[e] = {check, version, offset} end
  end
  if answer == nil and known > 0 then
    if known < n then
      -- one append's ids are remembered and forgotten together, so a part of them is another append's
      for e = 1, n do
        if recs[e] then answer = {'idconflict', ids[e], 'was written by another append'}; break end
      end
    else
      local first = recs[1][2]
      for e = 1, n do
        local r = recs[e]
        if r[1] ~= checks[e] then answer = {'idconflict', ids[e], 'was written to another stream or with other content'}; break end
        if r[2] ~= first + e - 1 then answer = {'idconflict', ids[e], 'was written by another append'}; break end
      end
      if answer == nil then answer = {'dup', first, recs[n][2], topic, partition, recs[n][3]} end
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
        usedIds[fields[e]] = true
        redis.call('HSET', KEYS[7], fields[e], resId)
        marked[#marked + 1] = fields[e]
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
  redis.call('HSET', KEYS[8], resId, table.concat(marked))
end
return out
`;

/**
 * confirm: after the transaction committed. Records the events' positions in the idempotency window, lifts the
 * locks and marks, and advances the watermark.
 * KEYS: ver lock res wm gen rebuild seen fly flr idm
 * ARGV: gen runId resId W max C B S lastOffset count, then per event: field check version offset
 * Answers 'ok', 'gone' (someone already resolved the reservation) or 'stale'.
 */
export const CONFIRM = `${STALE_CHECK}${WINDOW}
if stale(KEYS[5], KEYS[6], ARGV[1], ARGV[2]) then return 'stale' end
local resId = ARGV[3]
local rec = redis.call('HGET', KEYS[3], resId)
if not rec then return 'gone' end
local fields = split(rec, '|')
for pair in string.gmatch(fields[5], '([^,]+)') do
  local stream = string.match(pair, '^(.*)=')
  local lock = redis.call('HGET', KEYS[2], stream)
  if lock and split(lock, '|')[1] == resId then
    redis.call('HDEL', KEYS[2], stream)
    redis.call('HDEL', KEYS[7], stream)
  end
end
redis.call('HDEL', KEYS[3], resId)
redis.call('HDEL', KEYS[9], resId)
local s = shapeAt(4)
local now = nowMs()
local m = ringOf(KEYS[10])
if due(m, now, s) then openGeneration(KEYS[10], m, now, s) end
local i = 11
for e = 1, tonumber(ARGV[10]) do
  redis.call('HDEL', KEYS[8], ARGV[i])
  remember(KEYS[10], m, ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), now)
  i = i + 4
end
saveCounts(KEYS[10], m)
local wm = tonumber(redis.call('GET', KEYS[4]) or '-1')
if tonumber(ARGV[9]) > wm then redis.call('SET', KEYS[4], ARGV[9]) end
return 'ok'
`;

/**
 * release: the guard aborted its own transaction, or never asked for its commit (nothing can be in Kafka), so the
 * reservation is undone. Only on validated state: on a restarted Redis the rebuild settles it.
 * KEYS: ver lock res gen rebuild seen fly flr
 * ARGV: gen runId resId
 */
export const RELEASE = `${STALE_CHECK}${SETTLE}
if stale(KEYS[4], KEYS[5], ARGV[1], ARGV[2]) then return 'stale' end
if not settle(ARGV[3], false) then return 'gone' end
return 'released'
`;

/**
 * Applying events read back from Kafka (recovery, rebuild) is two scripts, so that the bulk of it (one idempotency
 * entry per event) is a few large calls instead of several calls per event. Both are idempotent.
 *
 * applyIds: the idempotency entries of one partition's events inside the window, in offset order, aged by their
 * event time. A new generation opens only where an append cannot continue (`boundary` 1: another stream than the
 * event before, or not the next offset), so that an append's ids stay in one generation. The events come packed in
 * one string, 45 bytes each (field 16, check 4, version, offset and time as doubles, boundary 1 byte): one argument
 * per call instead of six per event, which is most of what sending and parsing a call costs.
 * KEYS: idm gen rebuild
 * ARGV: gen runId W max C B S count packed
 */
export const APPLY_IDS = `${STALE_CHECK}${WINDOW}
if stale(KEYS[2], KEYS[3], ARGV[1], ARGV[2]) then return 'stale' end
local s = shapeAt(3)
local m = ringOf(KEYS[1])
local packed = ARGV[9]
local pos = 1
for e = 1, tonumber(ARGV[8]) do
  local field, check, version, offset, time, boundary
  field, check, version, offset, time, boundary, pos = struct.unpack('>c16c4dddB', packed, pos)
  if m.cur == nil or (boundary == 1 and due(m, time, s)) then openGeneration(KEYS[1], m, time, s) end
  remember(KEYS[1], m, field, check, version, offset, time)
end
saveCounts(KEYS[1], m)
return 'applied'
`;

/**
 * lookupId: what the window says of one event id, for readers outside the write path (the command handler).
 * KEYS: res fly idm
 * ARGV: field
 * Answers {'pending'} (reserved, not settled), {'written', version, offset} or {'unknown'}.
 */
export const LOOKUP_ID = `${WINDOW}
local mark = redis.call('HGET', KEYS[2], ARGV[1])
if mark and redis.call('HEXISTS', KEYS[1], mark) == 1 then return {'pending'} end
local check, version, offset = lookup(KEYS[3], ringOf(KEYS[3]), ARGV[1])
if not check then return {'unknown'} end
return {'written', version, offset}
`;

/**
 * forgetWindow: deletes a partition's window (ring, buckets, in-flight marks), for a rebuild from scratch.
 * KEYS: idm fly flr
 */
export const FORGET_WINDOW = `${WINDOW}
local m = ringOf(KEYS[1])
if m.cur then
  for g = m.lo, m.cur do forgetGeneration(KEYS[1], m, g) end
end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3])
return 'forgotten'
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
 * KEYS: ver lock res gen rebuild seen fly flr
 * ARGV: gen runId resId found(1|0)
 */
export const RESOLVE = `${STALE_CHECK}${SETTLE}
if stale(KEYS[4], KEYS[5], ARGV[1], ARGV[2]) then return 'stale' end
local forward = ARGV[4] == '1'
if not settle(ARGV[3], forward) then return 'gone' end
if forward then return 'forward' end
return 'back'
`;
