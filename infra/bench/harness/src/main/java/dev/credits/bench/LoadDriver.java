package dev.credits.bench;

import dev.credits.bench.LoadStats.Outcome;
import dev.credits.core.domain.UsageEvent;
import dev.credits.core.json.Json;
import dev.credits.core.pricing.PriceBook;
import dev.credits.core.pricing.PriceBookLoader;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The load mix, over HTTP against a running local runner, and the driver's own books: for every account the
 * credits granted and every charge the service accepted (priced independently from the price book and compared
 * with what the service answered), so that the end of the run can compare them with the balance, the Usage History
 * and the Usage Overview.
 *
 * <p>Every op on an ordinary account holds that account's lock, so the driver knows its balance exactly at every
 * answer and checks each balance the service reports. The hot account is driven by every worker at once (single
 * events and batches); its books are checked at the end only.
 */
final class LoadDriver {
    static final long MICROS = 1_000_000L;
    private static final String[] MODELS = {"gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4", "llama-3.1-8b"};

    /** An accepted single event, kept to be replayed (same body) or contradicted (same eventId, other body). */
    record Sent(String eventId, String body, String conflictingBody, long chargedMicros) {}

    static final class Acct {
        final String id;
        final boolean hot;
        final long refillMicros;
        String ownerToken;
        final ReentrantLock lock = new ReentrantLock();
        final AtomicLong grants = new AtomicLong();
        final AtomicLong grantCount = new AtomicLong();
        final AtomicLong charges = new AtomicLong();
        final AtomicLong aiEntries = new AtomicLong();
        final AtomicLong wuEntries = new AtomicLong();
        final AtomicLong captureEntries = new AtomicLong();
        final AtomicLong holds = new AtomicLong();
        final AtomicLong refusedEvents = new AtomicLong();
        /** eventIds (usage) and captureIds (captures) that charged once. */
        final Set<String> charged = ConcurrentHashMap.newKeySet();
        /** eventIds refused by the hard limit and never sent again: the ledger must not know them. */
        final Set<String> refused = ConcurrentHashMap.newKeySet();
        /** Writes whose fate the driver could not learn (every retry failed): their account's books are not exact. */
        final Set<String> uncertain = ConcurrentHashMap.newKeySet();
        final List<Sent> recent = new ArrayList<>();
        final AtomicBoolean refilling = new AtomicBoolean();

        Acct(String id, boolean hot, long refillMicros) {
            this.id = id;
            this.hot = hot;
            this.refillMicros = refillMicros;
        }

        long expectedBalance() { return grants.get() - charges.get(); }
        long usageEntries() { return aiEntries.get() + wuEntries.get() + captureEntries.get(); }

        void accepted(String eventId, long micros, String kind) {
            if (!charged.add(eventId)) return; // counted once, whatever the driver saw twice
            charges.addAndGet(micros);
            (kind.equals("ai_tokens") ? aiEntries : kind.equals("capture") ? captureEntries : wuEntries).incrementAndGet();
            refused.remove(eventId);
        }

        void remember(Sent s) {
            synchronized (recent) {
                if (recent.size() >= 32) recent.remove(ThreadLocalRandom.current().nextInt(recent.size()));
                recent.add(s);
            }
        }

        Sent anyRecent() {
            synchronized (recent) {
                return recent.isEmpty() ? null : recent.get(ThreadLocalRandom.current().nextInt(recent.size()));
            }
        }
    }

    record Resp(int status, Map<String, Object> body, String raw, long micros) {
        boolean failed() { return status < 0 || status >= 500; }
        Object get(String k) { return body == null ? null : body.get(k); }
        String code() {
            return body != null && body.get("error") instanceof Map<?, ?> e && e.get("code") instanceof String c ? c : null;
        }
    }

    final String base;
    final LoadStats stats;
    final PriceBook book = PriceBookLoader.fromClasspath();
    final String adminToken;
    final String meterToken;
    final String runId;
    private final HttpClient http;
    private final AtomicLong seq = new AtomicLong();

    LoadDriver(String base, LoadStats stats, String adminToken, String meterToken, String runId, int connections) {
        this.base = base;
        this.stats = stats;
        this.adminToken = adminToken;
        this.meterToken = meterToken;
        this.runId = runId;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .executor(java.util.concurrent.Executors.newFixedThreadPool(Math.max(2, connections / 2), r -> {
                    Thread t = new Thread(r, "load-http");
                    t.setDaemon(true);
                    return t;
                })).build();
    }

    String nextId(String prefix) { return prefix + "-" + runId + "-" + seq.incrementAndGet(); }

    // ---------------------------------------------------------------- HTTP

    Resp call(String method, String path, String token, String body, boolean minimal) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token);
        if (minimal) b.header("Prefer", "return=minimal");
        if (body != null) b.header("content-type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        else b.method(method, HttpRequest.BodyPublishers.noBody());
        long t0 = System.nanoTime();
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            long micros = (System.nanoTime() - t0) / 1000;
            Map<String, Object> parsed = null;
            try {
                if (!r.body().isEmpty()) parsed = Json.parseObject(r.body());
            } catch (Json.MalformedJsonException e) {
                // left null: the op calls it unexpected
            }
            return new Resp(r.statusCode(), parsed, r.body(), micros);
        } catch (IOException e) {
            return new Resp(-1, null, e.getClass().getSimpleName() + ": " + e.getMessage(), (System.nanoTime() - t0) / 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Resp(-1, null, "interrupted", (System.nanoTime() - t0) / 1000);
        }
    }

    /**
     * A write that is safe to repeat (it carries its idempotency key): a 5xx or a transport failure is recorded as
     * an error and the same request is sent again, up to 4 times in all. The answer returned is the first that is
     * not a failure (or the last failure).
     */
    Resp idempotent(String kind, String method, String path, String token, String body, boolean minimal, boolean[] retried) {
        Resp r = null;
        for (int attempt = 1; attempt <= 4; attempt++) {
            r = call(method, path, token, body, minimal);
            if (!r.failed()) return r;
            fail(kind, method + " " + path, r);
            retried[0] = true;
            sleep(100L * attempt);
        }
        return r;
    }

    void fail(String kind, String route, Resp r) {
        stats.record(kind, r.status, r.micros, r.status < 0 ? Outcome.TRANSPORT : Outcome.SERVER_ERROR);
        stats.problem(kind + ": " + route + " -> " + (r.status < 0 ? "transport error " : r.status + " ") + abbreviate(r.raw));
    }

    void ok(String kind, Resp r) { stats.record(kind, r.status, r.micros, Outcome.OK); }

    void intended(String kind, Resp r, String code) {
        stats.record(kind, r.status, r.micros, Outcome.INTENDED);
        stats.intended(r.status + " " + code + " (" + kind + ")");
    }

    /** An answer the op did not expect, or one that contradicts the books. */
    void unexpected(String kind, String what, Resp r) {
        if (r != null) {
            if (r.failed()) { fail(kind, what, r); return; }
            stats.record(kind, r.status, r.micros, Outcome.UNEXPECTED);
        }
        stats.problem(kind + ": " + what + (r == null ? "" : " -> " + r.status + " " + abbreviate(r.raw)));
    }

    /** A contradiction found in an answer already recorded as fine. */
    void contradiction(String kind, String what) {
        stats.record(kind + " (check)", 0, 0, Outcome.UNEXPECTED);
        stats.problem(kind + ": " + what);
    }

    static String abbreviate(String s) {
        if (s == null) return "";
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    static long micros(Object credits) {
        if (!(credits instanceof BigDecimal d)) return Long.MIN_VALUE;
        return d.movePointRight(6).longValueExact();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- seeding

    boolean createAccount(Acct a, long grantMicros, boolean softLimit) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accountId", a.id);
        body.put("plan", a.hot ? "pro" : "starter");
        if (softLimit) body.put("softLimit", BigDecimal.valueOf(grantMicros / 2, 6));
        boolean[] retried = {false};
        Resp r = idempotent("seed: create account", "POST", "/v1/accounts", adminToken, Json.write(body), false, retried);
        if (r.status == 201 || (retried[0] && r.status == 409 && "account_exists".equals(r.code()))) ok("seed: create account", r);
        else { unexpected("seed: create account", "POST /v1/accounts " + a.id, r); return false; }
        return grant(a, grantMicros, "seed: grant", "welcome credit");
    }

    boolean grant(Acct a, long creditsMicros, String kind, String reason) {
        String grantId = nextId("g");
        String body = Json.write(Map.of("credits", BigDecimal.valueOf(creditsMicros, 6), "reason", reason, "grantId", grantId));
        boolean[] retried = {false};
        Resp r = idempotent(kind, "POST", "/v1/accounts/" + a.id + "/grants", adminToken, body, false, retried);
        if (r.status == 201 || (retried[0] && r.status == 200)) {
            ok(kind, r);
            a.grants.addAndGet(creditsMicros);
            a.grantCount.incrementAndGet();
            return true;
        }
        if (r.failed()) a.uncertain.add(grantId);
        else unexpected(kind, "POST grants " + a.id, r);
        return false;
    }

    // ---------------------------------------------------------------- events

    record Event(UsageEvent event, String body, String conflictingBody, long costMicros) {}

    Event event(boolean hot) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        String id = nextId("e");
        String occurred = rnd.nextInt(4) == 0 ? Instant.now().truncatedTo(ChronoUnit.SECONDS).toString() : null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eventId", id);
        UsageEvent ev;
        Map<String, Object> other;
        if (rnd.nextInt(100) < (hot ? 40 : 60)) {
            String model = hot ? (rnd.nextBoolean() ? "gpt-4o-mini" : "llama-3.1-8b") : MODELS[rnd.nextInt(MODELS.length)];
            long in = hot ? rnd.nextLong(100, 2_000) : rnd.nextLong(100, 20_000);
            long out = hot ? rnd.nextLong(20, 500) : rnd.nextLong(20, 5_000);
            m.put("type", "ai_tokens");
            m.put("model", model);
            m.put("inputTokens", in);
            m.put("outputTokens", out);
            ev = new UsageEvent.AiTokens(id, model, in, out, null);
            other = new LinkedHashMap<>(m);
            other.put("outputTokens", out + 1);
        } else {
            boolean gpu = !hot && rnd.nextInt(5) == 0;
            long units = gpu ? rnd.nextLong(1, 10) : rnd.nextLong(1, hot ? 20 : 100);
            m.put("type", "workload_units");
            m.put("units", units);
            if (gpu || rnd.nextBoolean()) m.put("unit", gpu ? "gpu" : "standard");
            ev = new UsageEvent.WorkloadUnits(id, gpu ? "gpu" : "standard", units, null);
            other = new LinkedHashMap<>(m);
            other.put("units", units + 1);
        }
        if (occurred != null) { m.put("occurredAt", occurred); other.put("occurredAt", occurred); }
        return new Event(ev, Json.write(m), Json.write(other), price(ev));
    }

    long price(UsageEvent ev) {
        if (book.price(ev) instanceof PriceBook.Quote.Priced p) return p.costMicros();
        throw new IllegalStateException("the price book does not price " + ev);
    }

    /** A 402's body must justify it: the cost does not fit above the hard limit. */
    boolean justified402(Resp r, long cost) {
        if (!"hard_limit_reached".equals(r.code()) || !(r.get("error") instanceof Map<?, ?> e)) return false;
        long c = micros(e.get("cost")), bal = micros(e.get("balance")), held = micros(e.get("held")), hard = micros(e.get("hardLimit"));
        return c == cost && bal - held - hard < cost && bal != Long.MIN_VALUE && held != Long.MIN_VALUE && hard != Long.MIN_VALUE;
    }

    /** One usage event (single form). On an ordinary account a 402 is answered by a grant and the event sent again. */
    void single(Acct a) {
        Event e = event(a.hot);
        String kind = a.hot ? "usage (hot account)" : "usage";
        boolean minimal = ThreadLocalRandom.current().nextInt(3) == 0;
        for (int round = 0; round < 2; round++) {
            boolean[] retried = {false};
            Resp r = idempotent(kind, "POST", "/v1/accounts/" + a.id + "/usage", meterToken, e.body, minimal, retried);
            if (r.status == 201 || (retried[0] && r.status == 200 && Boolean.TRUE.equals(r.get("replayed")))) {
                ok(kind, r);
                long charged = micros(r.get("charged"));
                if (charged != e.costMicros) contradiction(kind, "charged " + charged + " micros, the price book says " + e.costMicros + " (" + e.body + ")");
                a.accepted(e.event.eventId(), e.costMicros, e.event.type().wire());
                checkBalance(a, kind, r, minimal);
                a.remember(new Sent(e.event.eventId(), e.body, e.conflictingBody, e.costMicros));
                return;
            }
            if (r.status == 402) {
                if (!justified402(r, e.costMicros)) { unexpected(kind, "402 not justified by its own body", r); return; }
                if (!a.hot && round == 0 && a.expectedBalance() >= e.costMicros) { unexpected(kind, "402 although the driver's books say " + a.expectedBalance() + " micros", r); return; }
                intended(kind, r, "hard_limit_reached");
                a.refused.add(e.event.eventId());
                a.refusedEvents.incrementAndGet();
                if (a.hot) { refillHot(a); return; }
                if (round == 1) { unexpected(kind, "402 again after a refill", r); return; }
                if (!grant(a, Math.max(a.refillMicros, e.costMicros), "grant (refill after 402)", "refill after hard limit")) return;
                continue; // a refused event leaves no trace: the same event again
            }
            if (r.failed()) { a.uncertain.add(e.event.eventId()); return; }
            unexpected(kind, "POST usage " + a.id, r);
            return;
        }
    }

    private void refillHot(Acct a) {
        if (a.refilling.compareAndSet(false, true)) {
            try {
                grant(a, a.refillMicros, "grant (refill after 402)", "refill after hard limit");
            } finally {
                a.refilling.set(false);
            }
        }
    }

    private void checkBalance(Acct a, String kind, Resp r, boolean minimal) {
        Object bal = r.get("balance");
        if (minimal) {
            if (bal != null) contradiction(kind, "Prefer: return=minimal answered with a balance");
            return;
        }
        if (bal == null) { contradiction(kind, "no balance in a 201 without Prefer: return=minimal"); return; }
        long b = micros(bal);
        if (r.get("available") != null && micros(r.get("available")) < 0) contradiction(kind, "available below the hard limit 0: " + r.raw);
        if (!a.hot && b != a.expectedBalance()) contradiction(kind, a.id + " balance " + b + " micros, the driver's books say " + a.expectedBalance());
        if (b < 0) contradiction(kind, a.id + " overdraft: balance " + b);
    }

    /** Resends an accepted event with the same body: 200, replayed, the same charge, nothing charged again. */
    void replay(Acct a) {
        Sent s = a.anyRecent();
        if (s == null) { single(a); return; }
        String kind = a.hot ? "replay (hot account)" : "replay";
        Resp r = call("POST", "/v1/accounts/" + a.id + "/usage", meterToken, s.body, false);
        if (r.status == 200 && Boolean.TRUE.equals(r.get("replayed"))) {
            ok(kind, r);
            if (micros(r.get("charged")) != s.chargedMicros) contradiction(kind, "replay charged " + r.get("charged") + ", first " + s.chargedMicros);
            if (!a.hot && r.get("balance") != null && micros(r.get("balance")) != a.expectedBalance()) {
                contradiction(kind, a.id + " replay balance " + r.get("balance") + ", the driver's books say " + a.expectedBalance());
            }
        } else if (r.failed()) {
            fail(kind, "POST usage (replay)", r);
        } else {
            unexpected(kind, "replay of " + s.eventId, r);
        }
    }

    /** The same eventId with another body: 409 idempotency_conflict, nothing charged. */
    void conflict(Acct a) {
        Sent s = a.anyRecent();
        if (s == null) { single(a); return; }
        Resp r = call("POST", "/v1/accounts/" + a.id + "/usage", meterToken, s.conflictingBody, false);
        if (r.status == 409 && "idempotency_conflict".equals(r.code())) intended("conflict probe", r, "idempotency_conflict");
        else if (r.failed()) fail("conflict probe", "POST usage (conflict)", r);
        else unexpected("conflict probe", "conflicting body for " + s.eventId, r);
    }

    /**
     * A batch to the hot account: new events, plus now and then an accepted one again (a replay inside the batch).
     * The hard limit charges the longest prefix that fits, so no new event may be charged after one was refused.
     */
    void batch(Acct a, int minEvents, int maxEvents) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int n = rnd.nextInt(minEvents, maxEvents + 1);
        List<Object> events = new ArrayList<>();
        List<Event> news = new ArrayList<>();
        List<Sent> olds = new ArrayList<>();
        List<Object> slots = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Sent old = i > 0 && rnd.nextInt(20) == 0 ? a.anyRecent() : null;
            if (old != null && olds.stream().noneMatch(o -> o.eventId().equals(old.eventId()))) {
                olds.add(old);
                slots.add(old);
                events.add(parse(old.body()));
            } else {
                Event e = event(true);
                news.add(e);
                slots.add(e);
                events.add(parse(e.body));
            }
        }
        String kind = "usage batch (hot account)";
        boolean[] retried = {false};
        Resp r = idempotent(kind, "POST", "/v1/accounts/" + a.id + "/usage/batch", meterToken, Json.write(Map.of("events", events)), false, retried);
        if (r.failed()) { for (Event e : news) a.uncertain.add(e.event.eventId()); return; }
        if (r.status != 200 || !(r.get("results") instanceof List<?> results) || results.size() != n) {
            unexpected(kind, "POST usage/batch", r);
            return;
        }
        ok(kind, r);
        boolean refusedOne = false, problem = false;
        long chargedSum = 0;
        for (int i = 0; i < n; i++) {
            Map<?, ?> res = (Map<?, ?>) results.get(i);
            int st = ((BigDecimal) res.get("status")).intValue();
            if (slots.get(i) instanceof Sent old) {
                if (st != 200 || !Boolean.TRUE.equals(res.get("replayed")) || micros(res.get("charged")) != old.chargedMicros()) {
                    contradiction(kind, "a replay inside a batch answered " + Json.write(res));
                    problem = true;
                }
                continue;
            }
            Event e = (Event) slots.get(i);
            boolean charged = st == 201 || (retried[0] && st == 200 && Boolean.TRUE.equals(res.get("replayed")));
            if (charged) {
                if (refusedOne && st == 201) { contradiction(kind, "an event charged after one was refused (not a prefix)"); problem = true; }
                if (micros(res.get("charged")) != e.costMicros) { contradiction(kind, "charged " + res.get("charged") + ", the price book says " + e.costMicros); problem = true; }
                a.accepted(e.event.eventId(), e.costMicros, e.event.type().wire());
                if (st == 201) chargedSum += e.costMicros;
                if (rnd.nextInt(8) == 0) a.remember(new Sent(e.event.eventId(), e.body, e.conflictingBody, e.costMicros));
            } else if (st == 402) {
                refusedOne = true;
                a.refused.add(e.event.eventId());
                a.refusedEvents.incrementAndGet();
            } else {
                contradiction(kind, "a new event in a batch answered " + Json.write(res));
                problem = true;
            }
        }
        if (!retried[0] && micros(r.get("charged")) != chargedSum) contradiction(kind, "batch charged " + r.get("charged") + ", its results add up to " + chargedSum);
        if (refusedOne && !problem) {
            stats.intended("402 hard_limit_reached (events refused inside a hot-account batch)");
            refillHot(a);
        }
    }

    private static Object parse(String body) {
        try {
            return Json.parseObject(body);
        } catch (Json.MalformedJsonException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A hold for an AI call (the worst case), a first capture, then a final capture (what is left is released) or
     * a release. The captures' sum stays below the hold, so no 409 exceeds_hold is meant to happen.
     */
    void hold(Acct a) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        String model = MODELS[rnd.nextInt(MODELS.length)];
        long in = rnd.nextLong(100, 10_000), maxOut = rnd.nextLong(300, 8_000);
        String holdId = nextId("h");
        long worst = price(new UsageEvent.AiTokens(holdId, model, in, maxOut, null));
        String body = Json.write(Map.of("holdId", holdId, "model", model, "inputTokens", in, "maxOutputTokens", maxOut, "ttlSeconds", 900));
        String path = "/v1/accounts/" + a.id + "/holds";
        Resp r = null;
        for (int round = 0; round < 2; round++) {
            boolean[] retried = {false};
            r = idempotent("hold", "POST", path, meterToken, body, false, retried);
            if (r.status == 201 || (retried[0] && r.status == 200)) break;
            if (r.status == 402) {
                if (!justified402(r, worst) || a.expectedBalance() >= worst) { unexpected("hold", "402 not justified", r); return; }
                intended("hold", r, "hard_limit_reached");
                if (round == 1 || !grant(a, Math.max(a.refillMicros, worst), "grant (refill after 402)", "refill after hard limit")) return;
                continue;
            }
            if (r.failed()) a.uncertain.add(holdId);
            else unexpected("hold", "POST holds", r);
            return;
        }
        ok("hold", r);
        a.holds.incrementAndGet();
        if (micros(r.get("held")) != worst) contradiction("hold", "held " + r.get("held") + ", the price book says " + worst);
        if (r.get("balance") != null && micros(r.get("balance")) != a.expectedBalance()) contradiction("hold", a.id + " balance " + r.get("balance") + " after a hold, books " + a.expectedBalance());
        if (r.get("available") != null && micros(r.get("available")) != a.expectedBalance() - worst) contradiction("hold", a.id + " available " + r.get("available") + " after a hold of " + worst + ", books " + a.expectedBalance());
        long part = maxOut / 3;
        if (!capture(a, holdId, model, "c1", in, part, false)) return;
        if (rnd.nextInt(3) > 0) {
            capture(a, holdId, model, "c2", 0, part, true);
        } else {
            boolean[] retried = {false};
            Resp rel = idempotent("hold release", "POST", path + "/" + holdId + "/release", meterToken, null, false, retried);
            if (rel.status == 200 && "RELEASED".equals(rel.get("status"))) ok("hold release", rel);
            else if (rel.failed()) a.uncertain.add(holdId);
            else unexpected("hold release", "release " + holdId, rel);
        }
    }

    private boolean capture(Acct a, String holdId, String model, String suffix, long in, long out, boolean last) {
        String captureId = holdId + "-" + suffix;
        long cost = price(new UsageEvent.AiTokens(captureId, model, in, out, null));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("captureId", captureId);
        m.put("inputTokens", in);
        m.put("outputTokens", out);
        if (last) m.put("final", true);
        boolean[] retried = {false};
        Resp r = idempotent("hold capture", "POST", "/v1/accounts/" + a.id + "/holds/" + holdId + "/capture", meterToken, Json.write(m), false, retried);
        if (r.status == 201 || (retried[0] && r.status == 200)) {
            ok("hold capture", r);
            if (micros(r.get("charged")) != cost) contradiction("hold capture", "charged " + r.get("charged") + ", the price book says " + cost);
            a.accepted(captureId, cost, "capture");
            if (r.get("balance") != null && micros(r.get("balance")) != a.expectedBalance()) {
                contradiction("hold capture", a.id + " balance " + r.get("balance") + " after a capture, books " + a.expectedBalance());
            }
            if (last && !"FINISHED".equals(r.get("holdStatus"))) contradiction("hold capture", "a final capture left the hold " + r.get("holdStatus"));
            return true;
        }
        if (r.failed()) a.uncertain.add(captureId);
        else unexpected("hold capture", "capture " + captureId, r);
        return false;
    }

    // ---------------------------------------------------------------- reads

    void history(Acct a) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        String q = switch (rnd.nextInt(4)) {
            case 0 -> "?limit=20&type=ai_tokens,capture";
            case 1 -> "?limit=100";
            default -> "";
        };
        Resp r = call("GET", "/v1/accounts/" + a.id + "/usage" + q, a.ownerToken, null, false);
        String kind = a.hot ? "history (hot account)" : "history";
        if (r.status != 200 || !(r.get("items") instanceof List<?> items)) {
            if (r.failed()) fail(kind, "GET usage", r); else unexpected(kind, "GET usage " + a.id, r);
            return;
        }
        ok(kind, r);
        String prev = null;
        for (Object o : items) {
            String at = String.valueOf(((Map<?, ?>) o).get("recordedAt"));
            if (prev != null && at.compareTo(prev) > 0) { contradiction(kind, "history not newest first: " + at + " after " + prev); break; }
            prev = at;
        }
        // a second page now and then, by the cursor
        if (r.get("nextCursor") instanceof String cursor && rnd.nextInt(4) == 0) {
            Resp p2 = call("GET", "/v1/accounts/" + a.id + "/usage?cursor=" + cursor, a.ownerToken, null, false);
            if (p2.status == 200) ok(kind, p2);
            else if (p2.failed()) fail(kind, "GET usage (page 2)", p2);
            else unexpected(kind, "GET usage page 2 " + a.id, p2);
        }
    }

    void summary(Acct a) {
        Resp r = call("GET", "/v1/accounts/" + a.id + "/usage/summary", a.ownerToken, null, false);
        String kind = a.hot ? "summary (hot account)" : "summary";
        if (r.status == 200 && r.get("totals") instanceof Map<?, ?>) ok(kind, r);
        else if (r.failed()) fail(kind, "GET summary", r);
        else unexpected(kind, "GET summary " + a.id, r);
    }

    void account(Acct a) {
        Resp r = call("GET", "/v1/accounts/" + a.id, a.ownerToken, null, false);
        String kind = a.hot ? "account (hot account)" : "account";
        if (r.status != 200) {
            if (r.failed()) fail(kind, "GET account", r); else unexpected(kind, "GET account " + a.id, r);
            return;
        }
        ok(kind, r);
        if (micros(r.get("available")) < 0) contradiction(kind, a.id + " available below the hard limit: " + r.raw);
        if (!a.hot && (micros(r.get("balance")) != a.expectedBalance() || micros(r.get("held")) != 0)) {
            contradiction(kind, a.id + " balance " + r.get("balance") + " held " + r.get("held") + ", books " + a.expectedBalance() + " and 0");
        }
    }
}
