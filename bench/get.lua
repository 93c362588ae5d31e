-- A read with a key: BENCH_PATH with BENCH_KEY.
wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
