-- A realistic command mix over many incidents opened beforehand (BENCH_POOL, one id a line),
-- each command with an Idempotency-Key as CAD systems send them:
-- each incident is approved, answered, arrived at, gets two involvement notes, is released
-- and closed. Thread k of BENCH_THREADS owns every k-th incident and keeps more incidents in
-- rotation than it has connections, so a step is sent only after the one before it on the
-- same incident has been answered.
local count = 0
function setup(thread)
  thread:set("index", count)
  count = count + 1
end

local at = function(minute) return '"occurred_at": "2026-11-01T02:0' .. minute .. ':00Z"' end
local kpd = '"actor": {"name": "Sgt. Dana Ruiz", "rank": "sergeant", "badge": "412"}, '
local kcsd = '"actor": {"name": "Lt. Ben Ortiz", "rank": "lieutenant", "badge": "77"}, '
local steps = {
  {"KPD", "/requests/1/approve", "{" .. kpd .. at(1) .. "}"},
  {"KCSD", "/requests/1/respond", "{" .. kcsd .. at(2) .. ', "decision": "partially_accepted", '
    .. '"facts": "Deputies free", "resources": [{"resource": "patrol_officer", "quantity": 2}], '
    .. '"officers": [{"name": "Deputy Ann Lee", "badge": "D-101"}, '
    .. '{"name": "Deputy Raj Patel", "badge": "D-102"}], '
    .. '"officer_in_charge": {"name": "Lt. Ben Ortiz", "badge": "77"}}'},
  {"KCSD", "/requests/1/arrive", "{" .. kcsd .. at(3) .. "}"},
  {"KCSD", "/requests/1/officers/D-101/involvement", "{" .. kcsd .. at(4)
    .. ', "involvement": "held the line", "observations": "no injuries"}'},
  {"KCSD", "/requests/1/officers/D-102/involvement", "{" .. kcsd .. at(5)
    .. ', "involvement": "made two arrests", "observations": ""}'},
  {"KPD", "/requests/1/release", "{" .. kpd .. at(6) .. ', "everything": true}'},
  {"KPD", "/close", "{" .. kpd .. at(7) .. ', "outcome": "Crowd dispersed"}'},
}
local WINDOW = 64

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  keys = {KPD = os.getenv("BENCH_KPD"), KCSD = os.getenv("BENCH_KCSD")}
  pool, slots, turn = {}, {}, 0
  local n = 0
  for line in io.lines(os.getenv("BENCH_POOL")) do
    if n % threads == index then table.insert(pool, line) end
    n = n + 1
  end
  for i = 1, math.min(WINDOW, #pool) do slots[i] = {incident = i, step = 1} end
  unused = #slots + 1
end

local first = true
function request()
  -- wrk builds one request before the run to check it: make that one a harmless read.
  if first then
    first = false
    return wrk.format("GET", "/healthz")
  end
  turn = turn % #slots + 1
  local slot = slots[turn]
  local agency, path, body = unpack(steps[slot.step])
  local incident = pool[slot.incident]
  local key = incident .. "/" .. slot.step  -- a CAD system sends one with every command
  slot.step = slot.step + 1
  if slot.step > #steps then
    slot.incident, slot.step = unused, 1
    unused = unused % #pool + 1  -- a pool too small shows as errors, never as a crash
  end
  local headers = {["Authorization"] = "Bearer " .. keys[agency],
                   ["Content-Type"] = "application/json",
                   ["Idempotency-Key"] = key}
  return wrk.format("POST", "/v1/incidents/" .. incident .. path, headers, body)
end
