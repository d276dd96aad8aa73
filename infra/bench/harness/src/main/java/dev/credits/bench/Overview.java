package dev.credits.bench;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.json.Json;
import dev.credits.core.store.Items;
import dev.credits.core.store.Keys;
import dev.credits.history.HistoryHandler;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Item 7: the Usage Overview (31 days) and one page of Usage History for an account with 100,000 usage events in
 * one month. Seeded fast and directly: ledger entries and their History rows built by the store's own mapping
 * ({@code Items.entry}, {@code Items.usageRow}, keys and shards from {@code Keys}), written by BatchWriteItem, and the
 * 31 daily-total items the aggregator would have made, computed from the same entries.
 */
final class Overview {
    private Overview() {}

    static final String ACCOUNT = "overview-100k";
    static final LocalDate FIRST = LocalDate.of(2026, 10, 1);
    static final LocalDate LAST = LocalDate.of(2026, 10, 31);

    static void run(Fixture fx, Report report, int events, int repeats) throws Exception {
        fx.account(ACCOUNT, 0, null);
        Report.progress("overview: seeding " + String.format("%,d", events) + " usage events in October 2026 (BatchWriteItem, 8 writers)");
        long t0 = System.nanoTime();
        long[] expected = seed(fx.client, events);
        double seedSecs = (System.nanoTime() - t0) / 1e9;
        Report.progress(String.format("overview: seeded in %.1f s; timing the handler", seedSecs));

        Capacity cap = new Capacity();
        DynamoDbClient client = CostPerEvent.instrumented(fx.endpoint(), cap);
        HistoryHandler history = new HistoryHandler(client, fx.config, Clock.systemUTC());
        Events.Who owner = Events.Who.owner(ACCOUNT);
        Map<String, Events.Http> queries = new LinkedHashMap<>();
        queries.put("Usage Overview, 31 days (GET .../usage/summary?from=2026-10-01&to=2026-10-31)",
                Events.get("/v1/accounts/{id}/usage/summary", "/v1/accounts/" + ACCOUNT + "/usage/summary", ACCOUNT,
                        Map.of("from", FIRST.toString(), "to", LAST.toString()), owner));
        queries.put("Usage History, first page, limit 50",
                Events.get("/v1/accounts/{id}/usage", "/v1/accounts/" + ACCOUNT + "/usage", ACCOUNT, Map.of("limit", "50"), owner));
        queries.put("Usage History, first page, limit 500",
                Events.get("/v1/accounts/{id}/usage", "/v1/accounts/" + ACCOUNT + "/usage", ACCOUNT, Map.of("limit", "500"), owner));
        queries.put("Usage History, limit 50, one day (from=2026-10-15&to=2026-10-15)",
                Events.get("/v1/accounts/{id}/usage", "/v1/accounts/" + ACCOUNT + "/usage", ACCOUNT,
                        Map.of("limit", "50", "from", "2026-10-15", "to", "2026-10-15"), owner));

        // correctness first: the overview must add up to what was seeded
        APIGatewayV2HTTPResponse summary = history.handleRequest(Events.object(queries.values().iterator().next()), null);
        Map<String, Object> body = Json.parseObject(summary.getBody());
        @SuppressWarnings("unchecked") Map<String, Object> totals = (Map<String, Object>) body.get("totals");
        @SuppressWarnings("unchecked") Map<String, Object> ai = (Map<String, Object>) totals.get("aiTokens");
        long seenEvents = ((Number) ai.get("events")).longValue();
        BigDecimal seenCredits = new BigDecimal(totals.get("credits").toString());
        BigDecimal expectedCredits = BigDecimal.valueOf(expected[0]).movePointLeft(6);
        boolean adds = seenEvents == events && seenCredits.compareTo(expectedCredits) == 0;

        List<List<String>> rows = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        for (Map.Entry<String, Events.Http> q : queries.entrySet()) {
            for (int i = 0; i < 3; i++) history.handleRequest(Events.object(q.getValue()), null); // warm-up
            List<Double> ms = new ArrayList<>();
            int status = 0, items = -1;
            List<Capacity.Call> calls = List.of();
            for (int i = 0; i < repeats; i++) {
                cap.reset();
                long s = System.nanoTime();
                APIGatewayV2HTTPResponse r = history.handleRequest(Events.object(q.getValue()), null);
                ms.add((System.nanoTime() - s) / 1e6);
                status = r.getStatusCode();
                calls = cap.calls();
                Object list = Json.parseObject(r.getBody()).get(q.getKey().startsWith("Usage Overview") ? "days" : "items");
                items = list instanceof List<?> l ? l.size() : -1;
            }
            double reads = calls.stream().mapToDouble(Capacity.Call::billedRead).sum();
            rows.add(List.of(q.getKey(), Integer.toString(status), Integer.toString(items), Integer.toString(calls.size()),
                    Report.f(reads, 1), Report.f(Report.median(ms), 1), Report.f(Report.min(ms), 1), Report.f(Report.max(ms), 1)));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("status", status);
            j.put("items", items);
            j.put("requests", calls.size());
            j.put("readUnits", reads);
            j.put("ms", Report.mmmJson(ms));
            json.put(q.getKey(), j);
        }
        json.put("seededEvents", events);
        json.put("seedSeconds", seedSecs);
        json.put("overviewAddsUp", adds);
        report.json.put("overview", json);
        report.add(new Report.Table("overview", "Usage Overview and History: one account, " + String.format("%,d", events)
                + " usage events in October 2026 (in-process HistoryHandler, the moto stand-in)",
                List.of("query", "HTTP", "rows", "requests", "read units (billed)", "median ms", "min ms", "max ms"), rows,
                List.of("seeded directly (not through CreditsStore.post and the aggregator): ledger entries and their History rows "
                                + "from Items.entry/usageRow/Keys, by BatchWriteItem, plus the 31 daily-total items computed from the same entries; seeding took " + Report.f(seedSecs, 1) + " s",
                        "check: the Overview's totals " + (adds ? "equal" : "DO NOT equal") + " the seeded events (" + String.format("%,d", seenEvents)
                                + " events, " + seenCredits.toPlainString() + " credits; expected " + String.format("%,d", events) + " and " + expectedCredits.toPlainString() + ")",
                        "each figure: " + repeats + " calls after 3 warm-up calls in a warm JVM; requests and read units: of the last call; read units computed from the bytes each Query returned (4 KB per unit, half for eventually consistent reads), as DynamoDB bills them")));
    }

    /** Writes the entries and daily totals; returns {total micro-credits charged}. */
    static long[] seed(DynamoDbClient client, int events) throws Exception {
        AccountId account = new AccountId(ACCOUNT);
        long seconds = 31L * 86_400;
        Instant start = FIRST.atStartOfDay(ZoneOffset.UTC).toInstant();
        Map<LocalDate, long[]> days = new HashMap<>(); // aiC, aiIn, aiOut, aiN
        List<Map<String, AttributeValue>> items = new ArrayList<>(events);
        long total = 0;
        for (int i = 0; i < events; i++) {
            Instant at = start.plusMillis((long) ((double) i / events * seconds * 1000));
            long in = 500 + (i % 2000), out = 100 + (i % 700);
            long cost = (in * 150_000 + out * 600_000 + 999_999) / 1_000_000; // gpt-4o-mini's rates, one ceiling
            LedgerEntry e = new LedgerEntry(account, "usage#seed-" + i, EntryType.AI_TOKENS, -cost, at, null, "seed-" + i,
                    "gpt-4o-mini", in, out, null, null, Map.of("inputPer1M", new BigDecimal("0.15"), "outputPer1M", new BigDecimal("0.60")),
                    "bench", null, "h" + i);
            items.add(new HashMap<>(Items.entry(e)));
            items.add(new HashMap<>(Items.usageRow(e))); // what the aggregator puts when it counts the entry: History reads these
            long[] d = days.computeIfAbsent(LocalDate.ofInstant(at, ZoneOffset.UTC), k -> new long[4]);
            d[0] += cost; d[1] += in; d[2] += out; d[3]++;
            total += cost;
        }
        days.forEach((day, d) -> {
            Map<String, AttributeValue> m = new HashMap<>();
            m.put("pk", s(Keys.dayPk(account)));
            m.put("sk", s(day.toString()));
            m.put("kind", s("day"));
            m.put("account", s(ACCOUNT));
            m.put("aiCredits", n(d[0])); m.put("aiInputTokens", n(d[1])); m.put("aiOutputTokens", n(d[2])); m.put("aiEvents", n(d[3]));
            m.put("wuCredits", n(0)); m.put("wuUnits", n(0)); m.put("wuEvents", n(0));
            items.add(m);
        });
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicLong written = new AtomicLong();
        List<Future<?>> futures = new ArrayList<>();
        for (int from = 0; from < items.size(); from += 25) {
            List<Map<String, AttributeValue>> chunk = items.subList(from, Math.min(items.size(), from + 25));
            futures.add(pool.submit(() -> {
                List<WriteRequest> writes = chunk.stream().map(it -> WriteRequest.builder().putRequest(PutRequest.builder().item(it).build()).build()).toList();
                Map<String, List<WriteRequest>> pending = Map.of(Fixture.LEDGER, writes);
                while (!pending.isEmpty()) {
                    Map<String, List<WriteRequest>> now = pending;
                    BatchWriteItemResponse r = client.batchWriteItem(b -> b.requestItems(now));
                    pending = r.hasUnprocessedItems() && !r.unprocessedItems().isEmpty() ? r.unprocessedItems() : Map.of();
                }
                long w = written.addAndGet(chunk.size());
                if (w % 20_000 < 25) Report.progress(String.format("overview: %,d items written", w));
                return null;
            }));
        }
        for (Future<?> f : futures) f.get();
        pool.shutdown();
        return new long[]{total};
    }

    private static AttributeValue s(String v) { return AttributeValue.builder().s(v).build(); }
    private static AttributeValue n(long v) { return AttributeValue.builder().n(Long.toString(v)).build(); }
}
