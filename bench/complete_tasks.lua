-- wrk script for bench/api.py: every request completes a different open task.
-- JIESU_BENCH_TASKS names a file of "task_id version" lines; JIESU_BENCH_THREADS is wrk's -t.
local counter, threads = 1, {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  tasks, failures = {}, 0
  -- wrk.format drops the -H headers when given its own table, so carry them over.
  headers = {["Content-Type"] = "application/json"}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  step = tonumber(os.getenv("JIESU_BENCH_THREADS"))
  next_index = id
  for line in io.lines(os.getenv("JIESU_BENCH_TASKS")) do
    local task_id, version = line:match("(%S+) (%d+)")
    table.insert(tasks, {task_id, version})
  end
end

function request()
  local task = tasks[next_index]
  if task == nil then
    wrk.thread:stop()
    task = tasks[1]
  end
  next_index = next_index + step
  local body = string.format('{"data": {"is_valid": true, "contact_verified": true}, "version": %s}', task[2])
  return wrk.format("POST", "/api/v1/tasks/" .. task[1] .. "/complete", headers, body)
end

function response(status)
  if status ~= 200 then failures = failures + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("failures") end
  io.write(string.format("failed_requests=%d\n", failed))
end
