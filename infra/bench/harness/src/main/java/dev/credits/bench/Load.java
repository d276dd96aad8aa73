package dev.credits.bench;

import dev.credits.bench.LoadDriver.Acct;
import dev.credits.bench.LoadDriver.Resp;
import dev.credits.local.LocalJwt;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code make bench-load} (infra/scripts/load.sh): a sustained load run against the local runner in its own JVM.
 * Seeds many accounts and one hot account through the API, drives a paced HTTP mix for the duration, prints one
 * line per window (requests, errors by class, latency percentiles, the runner's memory after a full GC), then checks
 * the books of every account against the balance, the Usage History and the Usage Overview, and writes
 * load-latest.md and load-latest.json. Exit status 1 if there was any error or any account's books disagree.
 * Options (all optional):
 * <pre>
 *   --seconds S        load duration (default 300)
 *   --accounts N       ordinary accounts (default 200), plus one hot account
 *   --hot-share F      share of the ops aimed at the hot account (default 0.25)
 *   --concurrency N    workers, each one op at a time (default 16)
 *   --rate R           ops per second in all, paced (default 30; 0 = as fast as the workers go)
 *   --window S         seconds per reported window (default 10)
 *   --batch MIN-MAX    events per hot-account batch (default 5-40)
 *   --runner-cp FILE   a file holding the runner's classpath (default: the local runner's, as run.sh builds it)
 *   --out DIR          where load-latest.md and .json go (default REPO/infra/bench/results)
 * </pre>
 */
public final class Load {
    private Load() {}

    record Window(int index, double endSeconds, long ops, long lateOps, double maxLagMs, LoadStats.Counts counts, LoadRunner.Memory mem,
                  long gcMillisInWindow, long overviewBehind) {}

    public static void main(String[] argv) throws Exception {
        // close idle connections before the runner's HTTP server does (30 s), so that no request is ever sent on a
        // connection the server is closing: a transport error must be the service's, not the driver's
        System.setProperty("jdk.httpclient.keepalive.timeout", "10");
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i].replaceFirst("^--", "");
            if (i + 1 < argv.length) a.put(k, argv[++i]);
        }
        Path repo = Path.of(a.getOrDefault("repo", ".")).toAbsolutePath().normalize();
        int seconds = Integer.parseInt(a.getOrDefault("seconds", "300"));
        int nAccounts = Integer.parseInt(a.getOrDefault("accounts", "200"));
        double hotShare = Double.parseDouble(a.getOrDefault("hot-share", "0.25"));
        int concurrency = Integer.parseInt(a.getOrDefault("concurrency", "16"));
        double rate = Double.parseDouble(a.getOrDefault("rate", "30"));
        int windowSeconds = Integer.parseInt(a.getOrDefault("window", "10"));
        String[] batch = a.getOrDefault("batch", "5-40").split("-");
        int batchMin = Integer.parseInt(batch[0]), batchMax = Integer.parseInt(batch[1]);
        Path out = Path.of(a.getOrDefault("out", repo.resolve("infra/bench/results").toString()));
        Path cpFile = Path.of(a.getOrDefault("runner-cp", repo.resolve("infra/local-runner/target/classpath.txt").toString()));
        String runnerCp = repo.resolve("infra/local-runner/target/classes") + ":" + Files.readString(cpFile).trim();
        Files.createDirectories(out);
        Path runnerLog = out.resolve("load-runner.log");

        Report report = new Report();
        List<String> given = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            if (argv[i].equals("--repo") || argv[i].equals("--command")) i++; // the script's own, with their values
            else given.add(argv[i]);
        }
        report.meta.put("command", (a.getOrDefault("command", "make bench-load") + " " + String.join(" ", given)).trim());
        report.meta.put("date (UTC)", ZonedDateTime.now(ZoneOffset.UTC).withNano(0).toString());
        report.meta.put("machine", Bench.Machine.describe());
        report.meta.put("load average at start (1/5/15 min)", loadAverage());
        report.meta.put("JDK", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"));
        report.meta.put("runner", "dev.credits.local.Main (what make run starts), its own JVM: java " + String.join(" ", LoadRunner.RUN_SH_FLAGS)
                + " (run.sh's flags, default heap sizing); DynamoDB is the moto stand-in in its own Python process "
                + "(requests serialized; its memory is not the runner's)"
                + "; alerts logged (no SNS endpoint); its log lines in " + repo.relativize(runnerLog.toAbsolutePath()));
        report.meta.put("load", String.format("%d s; %d ordinary accounts + 1 hot account; %.0f%% of ops to the hot account; %d workers; "
                + "%s; %d s windows; hot batches of %d-%d events", seconds, nAccounts, hotShare * 100, concurrency,
                rate > 0 ? String.format("paced at %.0f ops/s in all", rate) : "unpaced (each worker sends its next op when the last is answered)",
                windowSeconds, batchMin, batchMax));

        Report.progress("starting the local runner in its own JVM (log: " + runnerLog + ") ...");
        LoadStats stats = new LoadStats();
        int exit;
        try (LoadRunner runner = LoadRunner.start(Path.of(System.getProperty("java.home"), "bin", "java"), runnerCp, List.of(), runnerLog)) {
            Report.progress("runner pid " + runner.pid() + " at " + runner.baseUrl + "; memory at start: " + fmt(runner.sample()));
            try {
                exit = run(runner, report, stats, seconds, nAccounts, hotShare, concurrency, rate, windowSeconds, batchMin, batchMax, out);
            } catch (Exception | Error e) {
                System.out.println("the load run stopped: " + e + (runner.process.isAlive() ? ""
                        : " (the local runner's process had exited with " + runner.process.exitValue() + "; see " + runnerLog + ")"));
                exit = 2;
            }
        } catch (Exception e) {
            System.out.println("the load run did not start: " + e);
            exit = 2;
        } finally {
        }
        System.exit(exit); // the worker pools' threads are not daemons
    }

    private static int run(LoadRunner runner, Report report, LoadStats stats, int seconds, int nAccounts, double hotShare,
                           int concurrency, double rate, int windowSeconds, int batchMin, int batchMax, Path out) throws Exception {
        LocalJwt jwt = LocalJwt.fromEnv();
        String runId = Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        LoadDriver d = new LoadDriver(runner.baseUrl, stats, jwt.issue("platform-admin", null, List.of("credits/admin"), 12 * 3600),
                jwt.issue("metering-service", null, List.of("credits/metering"), 12 * 3600), runId, concurrency * 2);
        LocalDate firstDay = LocalDate.now(ZoneOffset.UTC);

        // ---- seed: ordinary accounts with small grants (so the hard limit is reached now and then), one hot account
        List<Acct> accounts = new ArrayList<>();
        for (int i = 0; i < nAccounts; i++) {
            // one account in ten runs dry quickly: the 402 path is exercised from the first minute
            accounts.add(new Acct("ld-" + runId + "-" + String.format("%03d", i), false, i % 10 == 0 ? 20_000 : 250_000));
        }
        Acct hot = new Acct("ld-" + runId + "-hot", true, 2 * LoadDriver.MICROS);
        List<Acct> all = new ArrayList<>(accounts);
        all.add(hot);
        for (Acct x : all) x.ownerToken = jwt.issue("owner-of-" + x.id, x.id, List.of(), 12 * 3600);
        Report.progress("seeding " + all.size() + " accounts (create + grant through the API) ...");
        long seedStart = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        // 4 seeders: the runner is a cold JVM (JIT not warmed) and setup is not the load being measured
        ExecutorService seeders = Executors.newFixedThreadPool(Math.min(4, concurrency));
        AtomicInteger seeded = new AtomicInteger();
        List<Future<Boolean>> seeds = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Acct x = all.get(i);
            boolean soft = i % 2 == 0;
            seeds.add(seeders.submit(() -> {
                boolean okSeed = d.createAccount(x, x.hot ? LoadDriver.MICROS / 2 : x.refillMicros, soft);
                int n = seeded.incrementAndGet();
                if (n % 50 == 0 || n == all.size()) Report.progress("seeded " + n + "/" + all.size() + " accounts");
                return okSeed;
            }));
        }
        for (Future<Boolean> f : seeds) if (!f.get()) throw new IllegalStateException("seeding failed; see the problems above");
        seeders.shutdown();
        double seedSeconds = (System.nanoTime() - seedStart) / 1e9;
        report.meta.put("seeding", String.format("%d accounts created and granted in %.1f s", all.size(), seedSeconds));
        stats.swap(); // the seeding is not part of the first window

        // ---- load
        Report.progress(String.format("load for %d s: %d workers, %s, windows of %d s (the runner is asked for a full GC at the end of each)",
                seconds, concurrency, rate > 0 ? String.format("%.0f ops/s", rate) : "unpaced", windowSeconds));
        System.out.println(header());
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            final int worker = w;
            workers.add(pool.submit(() -> {
                double interval = rate > 0 ? concurrency / rate * 1e9 : 0;
                double next = start + worker * interval / concurrency;
                while (true) {
                    long now = System.nanoTime();
                    if (now >= end) return null;
                    long lag = 0;
                    if (interval > 0) {
                        if (now < next) {
                            long wait = (long) next - now;
                            if ((long) next >= end) return null;
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        } else {
                            lag = now - (long) next;
                            if (lag > 1_000_000_000L) next = now; // more than 1 s behind: start afresh from now
                        }
                        next += interval;
                    }
                    stats.op(lag / 1000);
                    try {
                        op(d, accounts, hot, hotShare, batchMin, batchMax);
                    } catch (RuntimeException e) {
                        d.contradiction("driver", "an op threw " + e);
                    }
                }
            }));
        }
        List<Window> windows = new ArrayList<>();
        long prevGc = runner.sample().gcMillis();
        int index = 0;
        while (true) {
            long target = start + (long) (index + 1) * windowSeconds * 1_000_000_000L;
            long now = System.nanoTime();
            if (target > end) target = end;
            if (target > now) Thread.sleep((target - now) / 1_000_000);
            if (!runner.process.isAlive()) throw new IllegalStateException("the local runner's process exited during the load");
            LoadStats.WindowSnapshot s = stats.swap();
            double at = (System.nanoTime() - start) / 1e9;
            long behind = overviewBehind(d, hot, firstDay);
            LoadRunner.Memory mem = runner.sample();
            Window w = new Window(++index, at, s.ops(), s.lateOps(), s.maxLagMicros() / 1000.0, s.counts(), mem,
                    mem.gcMillis() < 0 ? -1 : mem.gcMillis() - prevGc, behind);
            if (mem.gcMillis() >= 0) prevGc = mem.gcMillis();
            windows.add(w);
            System.out.println(row(w, windowSeconds));
            System.out.flush();
            if (target >= end) break;
        }
        for (Future<?> f : workers) f.get();
        pool.shutdown();
        Report.progress("load done: " + stats.total.requests + " requests, " + stats.total.errors() + " errors; checking the books of "
                + all.size() + " accounts (waiting for the Overview to catch up with the ledger's stream) ...");

        // ---- books
        Books books = checkBooks(d, all, firstDay);
        report.meta.put("load average at end (1/5/15 min)", loadAverage());

        // ---- report
        List<List<String>> rows = new ArrayList<>();
        List<Object> wJson = new ArrayList<>();
        for (Window w : windows) {
            rows.add(cells(w, windowSeconds));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("window", w.index());
            j.put("endSeconds", w.endSeconds());
            j.put("ops", w.ops());
            j.put("lateOps", w.lateOps());
            j.put("maxScheduleLagMs", w.maxLagMs());
            j.put("requests", w.counts().requests);
            j.put("ok", w.counts().ok);
            j.put("intended4xx", w.counts().intended);
            j.put("serverErrors", w.counts().serverErrors);
            j.put("transportErrors", w.counts().transport);
            j.put("unexpected", w.counts().unexpected);
            long[] l = w.counts().lat.sorted();
            j.put("p50Ms", Report.pct(l, 50) / 1000);
            j.put("p99Ms", Report.pct(l, 99) / 1000);
            j.put("maxMs", l.length == 0 ? Double.NaN : l[l.length - 1] / 1000.0);
            j.put("rssMb", w.mem().rssMb());
            j.put("heapAfterGcMb", w.mem().heapAfterGcMb());
            j.put("heapCommittedMb", w.mem().heapCommittedMb());
            j.put("metaspaceMb", w.mem().metaspaceMb());
            j.put("threads", w.mem().threads());
            j.put("gcMillisInWindow", w.gcMillisInWindow());
            j.put("overviewBehindHotEvents", w.overviewBehind());
            wJson.add(j);
        }
        report.json.put("windows", wJson);
        report.add(new Report.Table("windows", "Windows of " + windowSeconds + " s (latency of every request; memory of the runner's JVM after a full GC at the window's end)",
                headerCells(), rows, List.of(
                        "req/s: HTTP requests answered (or failed) in the window; an op can make several (a hold is 3, a 402 is followed by a grant and the event again)",
                        "ok: 2xx the op expected; 4xx: a 402 or 409 the mix provoked and whose body justified it (see below); 5xx, transport (no answer within 30 s, reset) and unexpected (any other status, or an answer that contradicts the driver's books) are errors",
                        "late: ops that started more than 100 ms after their paced time (the driver, or the machine, fell behind; a worker more than 1 s behind starts its schedule afresh)",
                        "ovw behind: the hot account's accepted charges not yet counted by its Usage Overview at the window's end (the stream and aggregator backlog; a few are always in flight)",
                        "heap: used after System.gc() (a serial full collection) asked through JMX at the window's end; RSS: VmRSS of the runner's process; GC ms: collection time in the window, the forced one included (its pause falls into the next window's latencies)")));

        List<List<String>> kinds = new ArrayList<>();
        Map<String, Object> kJson = new LinkedHashMap<>();
        stats.byKind.entrySet().stream().sorted(Comparator.comparing(e -> -e.getValue().requests)).forEach(e -> {
            LoadStats.Counts c = e.getValue();
            long[] l = c.lat.sorted();
            kinds.add(List.of(e.getKey(), String.format("%,d", c.requests), c.statuses.toString().replaceAll("[{}]", ""),
                    Long.toString(c.errors()), Report.f(Report.pct(l, 50) / 1000, 1), Report.f(Report.pct(l, 99) / 1000, 1),
                    Report.f(l.length == 0 ? Double.NaN : l[l.length - 1] / 1000.0, 1)));
            kJson.put(e.getKey(), Map.of("requests", c.requests, "statuses", c.statuses, "errors", c.errors(),
                    "p50Ms", Report.pct(l, 50) / 1000, "p99Ms", Report.pct(l, 99) / 1000));
        });
        report.json.put("byKind", kJson);
        report.json.put("intended", stats.intendedByCode);
        List<String> kindNotes = new ArrayList<>();
        stats.intendedByCode.forEach((k, v) -> kindNotes.add("intended: " + String.format("%,d", v) + " x " + k));
        kindNotes.add("a 402 counts as intended only if its body shows the cost above balance - held - hard limit and, on an ordinary account, the driver's own books agree");
        report.add(new Report.Table("kinds", "Requests by kind, over the whole run", List.of("kind", "requests", "statuses", "errors", "p50 ms", "p99 ms", "max ms"), kinds, kindNotes));

        report.add(new Report.Table("books", "Books after the run (every account, after the Overview caught up with the stream)",
                List.of("check", "result"), books.rows, books.notes));
        report.json.put("books", books.json);

        // ---- verdict
        Trend heap = trend(windows, seconds, LoadRunner.Memory::heapAfterGcMb);
        Trend rss = trend(windows, seconds, LoadRunner.Memory::rssMb);
        long errors = stats.total.errors();
        boolean pass = errors == 0 && books.failures == 0;
        long seedErrors = stats.byKind.entrySet().stream().filter(e -> e.getKey().startsWith("seed:")).mapToLong(e -> e.getValue().errors()).sum();
        String verdict = String.format("VERDICT: %s. errors %d (5xx %d, transport %d, unexpected %d; %d of them while seeding) in %,d requests; books %d/%d accounts exact%s; "
                        + "heap after GC %.1f -> %.1f MB (%.1f-%.1f MB over the fit), trend %+.2f MB/min over %s; RSS %.0f -> %.0f MB, trend %+.2f MB/min",
                pass ? "PASS" : "FAIL", errors, stats.total.serverErrors, stats.total.transport, stats.total.unexpected, seedErrors, stats.total.requests,
                books.accounts - books.failures, books.accounts, books.uncertain > 0 ? " (" + books.uncertain + " with writes of unknown fate)" : "",
                heap.first, heap.last, heap.min, heap.max, heap.slopePerMinute, heap.span, rss.first, rss.last, rss.slopePerMinute);
        report.meta.put("result", verdict);
        report.json.put("verdict", Map.of("pass", pass, "errors", errors, "booksFailures", books.failures,
                "heapTrendMbPerMinute", heap.slopePerMinute, "rssTrendMbPerMinute", rss.slopePerMinute, "trendSpan", heap.span));
        if (!stats.firstProblems.isEmpty()) report.json.put("firstProblems", stats.firstProblems);
        write(report, out);
        for (String p : stats.firstProblems) System.out.println("  problem: " + p);
        System.out.println();
        System.out.println(verdict);
        Report.progress("wrote " + out.resolve("load-latest.md") + " and " + out.resolve("load-latest.json"));
        return pass ? 0 : 1;
    }

    /** One op of the mix. Ordinary accounts are locked for the op, so the driver's books stay exact for them. */
    private static void op(LoadDriver d, List<Acct> accounts, Acct hot, double hotShare, int batchMin, int batchMax) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        if (rnd.nextDouble() < hotShare) {
            int p = rnd.nextInt(100);
            if (p < 45) d.single(hot);
            else if (p < 75) d.batch(hot, batchMin, batchMax);
            else if (p < 85) d.replay(hot);
            else if (p < 90) d.history(hot);
            else if (p < 95) d.summary(hot);
            else d.account(hot);
            return;
        }
        Acct a = accounts.get(rnd.nextInt(accounts.size()));
        for (int tries = 0; !a.lock.tryLock(); tries++) {
            if (tries == 20) { a.lock.lock(); break; } // fewer accounts than workers: wait for one
            a = accounts.get(rnd.nextInt(accounts.size()));
        }
        try {
            int p = rnd.nextInt(100);
            if (p < 45) d.single(a);
            else if (p < 51) d.replay(a);
            else if (p < 53) d.conflict(a);
            else if (p < 65) d.hold(a);
            else if (p < 80) d.history(a);
            else if (p < 92) d.summary(a);
            else d.account(a);
        } finally {
            a.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- books

    static final class Books {
        final List<List<String>> rows = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
        final Map<String, Object> json = new LinkedHashMap<>();
        int accounts, failures, uncertain;
    }

    /**
     * For every account: balance = grants - accepted charges (as the driver counted them), nothing held, no
     * overdraft; the History lists exactly the accepted events and captures once each, no refused one, and its
     * amounts add up to the same; the Overview's totals equal the accepted charges once the aggregator has read
     * the stream (polled until they agree or 120 s pass).
     */
    private static Books checkBooks(LoadDriver d, List<Acct> all, LocalDate firstDay) {
        Books b = new Books();
        b.accounts = all.size();
        long t0 = System.nanoTime();
        String range = "?from=" + firstDay + "&to=" + LocalDate.now(ZoneOffset.UTC);
        // the Overview trails the ledger by the stream: wait until every account's totals agree (or give up)
        // (locally one thread polls the streams, 100 records a shard a poll, and the aggregator's own writes are in
        // the ledger's stream too: under load the Overview can trail by minutes; it must catch up, not stall)
        Set<Acct> pending = new HashSet<>(all);
        long deadline = System.nanoTime() + 900_000_000_000L;
        long lastMove = System.nanoTime();
        Map<Acct, String> summaryProblem = new HashMap<>();
        while (!pending.isEmpty()) {
            boolean moved = false;
            for (Acct x : new ArrayList<>(pending)) {
                Resp r = d.call("GET", "/v1/accounts/" + x.id + "/usage/summary" + range, d.adminToken, null, false);
                String problem = summaryMismatch(r, x);
                if (problem == null) { pending.remove(x); summaryProblem.remove(x); moved = true; }
                else { if (!problem.equals(summaryProblem.put(x, problem))) moved = true; }
            }
            if (moved) lastMove = System.nanoTime();
            Report.progress(String.format("Overview: %d/%d accounts agree with the driver's books, %.0f s after the load", all.size() - pending.size(),
                    all.size(), (System.nanoTime() - t0) / 1e9));
            if (pending.isEmpty()) break;
            if (System.nanoTime() > deadline || System.nanoTime() - lastMove > 60_000_000_000L) {
                Report.progress("the Overview stopped moving (or 15 minutes passed): " + pending.size() + " accounts disagree");
                break;
            }
            LoadDriver.sleep(5000);
        }
        double overviewWait = (System.nanoTime() - t0) / 1e9;
        Report.progress(String.format("Overview caught up for %d/%d accounts after %.1f s; reading every account and its whole History ...",
                all.size() - pending.size(), all.size(), overviewWait));
        int balanceOk = 0, historyOk = 0, summaryOk = all.size() - pending.size();
        long grants = 0, charges = 0, entries = 0, refused = 0, holds = 0, historyRows = 0, pages = 0;
        List<String> problems = new ArrayList<>();
        int n = 0;
        for (Acct x : all) {
            if (!x.uncertain.isEmpty()) b.uncertain++;
            grants += x.grants.get();
            charges += x.charges.get();
            entries += x.usageEntries();
            refused += x.refusedEvents.get();
            holds += x.holds.get();
            List<String> mine = new ArrayList<>();
            if (summaryProblem.containsKey(x)) mine.add("Overview: " + summaryProblem.get(x));
            Resp acct = d.call("GET", "/v1/accounts/" + x.id, d.adminToken, null, false);
            int beforeBalance = mine.size();
            if (acct.status() != 200) {
                mine.add("GET account answered " + acct.status());
            } else {
                long bal = LoadDriver.micros(acct.get("balance")), held = LoadDriver.micros(acct.get("held")),
                        avail = LoadDriver.micros(acct.get("available"));
                if (bal != x.expectedBalance()) mine.add("balance " + bal + " micros, grants - charges = " + x.expectedBalance());
                if (held != 0) mine.add("held " + held + " micros after every hold was finished or released");
                if (avail < 0 || bal < 0) mine.add("overdraft: balance " + bal + ", available " + avail);
                if (!"ACTIVE".equals(acct.get("status"))) mine.add("status " + acct.get("status"));
                if (mine.size() == beforeBalance) balanceOk++;
            }
            // the whole History, 500 a page
            int before = mine.size();
            long hGrants = 0, hCharges = 0, hSum = 0, hHolds = 0;
            Set<String> seenEntries = new HashSet<>(), charged = new HashSet<>();
            String cursor = null;
            boolean readAll = true;
            do {
                Resp r = d.call("GET", "/v1/accounts/" + x.id + "/usage?limit=500" + (cursor == null ? "" : "&cursor=" + cursor), d.adminToken, null, false);
                pages++;
                if (r.status() != 200 || !(r.get("items") instanceof List<?> items)) { mine.add("History page answered " + r.status()); readAll = false; break; }
                for (Object o : items) {
                    Map<?, ?> e = (Map<?, ?>) o;
                    historyRows++;
                    String type = String.valueOf(e.get("type"));
                    long amount = LoadDriver.micros(e.get("amount"));
                    hSum += amount;
                    if (!seenEntries.add(String.valueOf(e.get("entryId")))) mine.add("entry listed twice: " + e.get("entryId"));
                    switch (type) {
                        case "grant" -> hGrants += amount;
                        case "ai_tokens", "workload_units", "capture" -> {
                            hCharges += LoadDriver.micros(e.get("charged"));
                            String id = String.valueOf(e.get("eventId"));
                            if (!charged.add(id)) mine.add("charged twice: " + id);
                            if (!x.charged.contains(id) && !x.uncertain.contains(id)) mine.add("a charge the driver never saw accepted: " + id);
                            if (x.refused.contains(id)) mine.add("a refused event was charged: " + id);
                        }
                        case "hold" -> hHolds++;
                        case "release" -> { }
                        default -> mine.add("an entry of type " + type);
                    }
                }
                cursor = r.get("nextCursor") instanceof String c ? c : null;
            } while (cursor != null);
            if (readAll) {
                if (hGrants != x.grants.get()) mine.add("History grants " + hGrants + ", driver " + x.grants.get());
                if (hCharges != x.charges.get()) mine.add("History charges " + hCharges + ", driver " + x.charges.get());
                if (hSum != x.expectedBalance()) mine.add("History amounts add up to " + hSum + ", grants - charges = " + x.expectedBalance());
                if (charged.size() != x.charged.size()) mine.add("History lists " + charged.size() + " charges, the driver saw " + x.charged.size() + " accepted");
                if (hHolds != x.holds.get()) mine.add("History lists " + hHolds + " holds, the driver placed " + x.holds.get());
            }
            if (mine.size() == before) historyOk++;
            if (!mine.isEmpty()) {
                b.failures++;
                for (String m : mine) if (problems.size() < 20) problems.add(x.id + ": " + m);
            }
            if (++n % 50 == 0 || n == all.size()) Report.progress("books: " + n + "/" + all.size() + " accounts checked");
        }
        b.rows.add(List.of("accounts", String.format("%d (%d ordinary + 1 hot)", all.size(), all.size() - 1)));
        b.rows.add(List.of("balance = grants - accepted charges, nothing held, no overdraft", balanceOk + "/" + all.size()));
        b.rows.add(List.of("History: every accepted event and capture once, no refused one, amounts add up", historyOk + "/" + all.size()));
        b.rows.add(List.of("Overview totals (credits, events) = accepted charges", summaryOk + "/" + all.size() + String.format(" (agreed %.1f s after the load)", overviewWait)));
        b.rows.add(List.of("credits granted (seed + refills)", Report.f(grants / 1e6, 6)));
        b.rows.add(List.of("credits charged (accepted events and captures)", Report.f(charges / 1e6, 6)));
        b.rows.add(List.of("charges accepted (ledger entries)", String.format("%,d", entries)));
        b.rows.add(List.of("hot account: charges accepted, credits charged", String.format("%,d, %s", all.get(all.size() - 1).usageEntries(),
                Report.f(all.get(all.size() - 1).charges.get() / 1e6, 6))));
        b.rows.add(List.of("events refused by the hard limit (402, single or inside a batch)", String.format("%,d", refused)));
        b.rows.add(List.of("holds placed", String.format("%,d", holds)));
        b.rows.add(List.of("History rows read / pages", String.format("%,d / %,d", historyRows, pages)));
        b.rows.add(List.of("accounts with a write of unknown fate (every retry failed)", Integer.toString(b.uncertain)));
        b.notes.add("the driver prices every event with the price book on its own and compares each charge the service answers; on ordinary accounts (one op at a time per account) it also compares every balance the service reports");
        b.notes.addAll(problems);
        b.json.put("accounts", all.size());
        b.json.put("failures", b.failures);
        b.json.put("balanceOk", balanceOk);
        b.json.put("historyOk", historyOk);
        b.json.put("summaryOk", summaryOk);
        b.json.put("overviewCaughtUpSeconds", overviewWait);
        b.json.put("grantedCredits", BigDecimal.valueOf(grants, 6));
        b.json.put("chargedCredits", BigDecimal.valueOf(charges, 6));
        b.json.put("acceptedCharges", entries);
        b.json.put("refusedEvents", refused);
        b.json.put("holds", holds);
        b.json.put("problems", problems);
        return b;
    }

    /**
     * How many of the hot account's accepted charges its Overview does not count yet (the aggregator's backlog, as
     * seen from outside; a few are always in flight). It must not grow window after window.
     */
    private static long overviewBehind(LoadDriver d, Acct hot, LocalDate firstDay) {
        long accepted = hot.usageEntries();
        Resp r = d.call("GET", "/v1/accounts/" + hot.id + "/usage/summary?from=" + firstDay + "&to=" + LocalDate.now(ZoneOffset.UTC), d.adminToken, null, false);
        if (r.status() != 200 || !(r.get("totals") instanceof Map<?, ?> t)) return -1;
        long ai = ((BigDecimal) ((Map<?, ?>) t.get("aiTokens")).get("events")).longValue();
        long wu = ((BigDecimal) ((Map<?, ?>) t.get("workloadUnits")).get("events")).longValue();
        return accepted - ai - wu;
    }

    private static String summaryMismatch(Resp r, Acct x) {
        if (r.status() != 200 || !(r.get("totals") instanceof Map<?, ?> t)) return "GET summary answered " + r.status();
        long credits = LoadDriver.micros(t.get("credits"));
        long ai = ((BigDecimal) ((Map<?, ?>) t.get("aiTokens")).get("events")).longValue();
        long wu = ((BigDecimal) ((Map<?, ?>) t.get("workloadUnits")).get("events")).longValue();
        long aiExpected = x.aiEntries.get() + x.captureEntries.get(); // captures of AI holds count as AI usage
        if (credits != x.charges.get() || ai != aiExpected || wu != x.wuEntries.get()) {
            return "totals " + credits + " micros, " + ai + " AI and " + wu + " workload events; driver " + x.charges.get() + ", " + aiExpected + ", " + x.wuEntries.get();
        }
        return null;
    }

    // ---------------------------------------------------------------- figures

    record Trend(double first, double last, double slopePerMinute, String span, double min, double max) {}

    /** Least-squares slope of a memory figure against time, over the last 4 minutes (or the run after its first window). */
    static Trend trend(List<Window> windows, int seconds, java.util.function.ToDoubleFunction<LoadRunner.Memory> f) {
        double from = Math.max(windows.isEmpty() ? 0 : windows.get(0).endSeconds(), seconds - 240.0);
        List<double[]> pts = new ArrayList<>();
        for (Window w : windows) {
            double v = f.applyAsDouble(w.mem());
            if (w.endSeconds() >= from - 0.5 && !Double.isNaN(v)) pts.add(new double[]{w.endSeconds() / 60.0, v});
        }
        double first = windows.isEmpty() ? Double.NaN : f.applyAsDouble(windows.get(0).mem());
        double last = windows.isEmpty() ? Double.NaN : f.applyAsDouble(windows.get(windows.size() - 1).mem());
        if (pts.size() < 2) return new Trend(first, last, Double.NaN, "too few windows", Double.NaN, Double.NaN);
        double mx = pts.stream().mapToDouble(p -> p[0]).average().orElse(0), my = pts.stream().mapToDouble(p -> p[1]).average().orElse(0);
        double sxy = 0, sxx = 0;
        for (double[] p : pts) { sxy += (p[0] - mx) * (p[1] - my); sxx += (p[0] - mx) * (p[0] - mx); }
        return new Trend(first, last, sxy / sxx, String.format("%.0f-%.0f s (%d windows)", pts.get(0)[0] * 60, pts.get(pts.size() - 1)[0] * 60, pts.size()),
                pts.stream().mapToDouble(p -> p[1]).min().orElse(Double.NaN), pts.stream().mapToDouble(p -> p[1]).max().orElse(Double.NaN));
    }

    private static List<String> headerCells() {
        return List.of("t s", "ops/s", "late", "req/s", "ok", "4xx", "5xx", "transport", "unexpected", "p50 ms", "p99 ms", "max ms",
                "RSS MB", "heap MB", "meta MB", "threads", "GC ms", "ovw behind");
    }

    private static List<String> cells(Window w, int windowSeconds) {
        LoadStats.Counts c = w.counts();
        long[] l = c.lat.sorted();
        double span = windowSeconds;
        return List.of(String.format("%.0f", w.endSeconds()), Report.f(w.ops() / span, 1), Long.toString(w.lateOps()),
                Report.f(c.requests / span, 1), Long.toString(c.ok), Long.toString(c.intended), Long.toString(c.serverErrors),
                Long.toString(c.transport), Long.toString(c.unexpected), Report.f(Report.pct(l, 50) / 1000, 1),
                Report.f(Report.pct(l, 99) / 1000, 1), Report.f(l.length == 0 ? Double.NaN : l[l.length - 1] / 1000.0, 1),
                Report.f(w.mem().rssMb(), 0), Report.f(w.mem().heapAfterGcMb(), 1), Report.f(w.mem().metaspaceMb(), 1),
                Integer.toString(w.mem().threads()), Long.toString(w.gcMillisInWindow()), Long.toString(w.overviewBehind()));
    }

    private static String header() {
        return String.join(" | ", headerCells().stream().map(h -> String.format("%9s", h)).toList());
    }

    private static String row(Window w, int windowSeconds) {
        return String.join(" | ", cells(w, windowSeconds).stream().map(c -> String.format("%9s", c)).toList());
    }

    private static String fmt(LoadRunner.Memory m) {
        return String.format("RSS %.0f MB, heap after GC %.1f MB (committed %.0f MB), metaspace %.1f MB, %d threads",
                m.rssMb(), m.heapAfterGcMb(), m.heapCommittedMb(), m.metaspaceMb(), m.threads());
    }

    private static String loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return String.join(" / ", Arrays.copyOf(p, 3));
        } catch (Exception e) {
            return "?";
        }
    }

    private static void write(Report report, Path out) throws java.io.IOException {
        report.write(out, "load-latest", "Load run results (generated by infra/scripts/load.sh; do not edit)");
    }

}
