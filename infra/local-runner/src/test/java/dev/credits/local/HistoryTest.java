package dev.credits.local;

import dev.credits.aggregator.AggregatorHandler;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.usage.UsageHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.tests.EventLoader;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/** Usage History (cursor paging, filters, newest first) and the Usage Overview's daily totals. */
@ContractTest
class HistoryTest {

    @Test
    void pagesWalkTheWholeLedgerNewestFirstWithoutGapsOrRepeats() {
        String id = fundedAccount("pages", "100");
        for (int i = 0; i < 120; i++) {
            String body = i % 3 == 0 ? aiEvent("p" + i, "llama-3.1-8b", 1000, 1000) : unitsEvent("p" + i, 1 + i);
            assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), body).status());
        }
        // usage reaches History when the aggregator counts it, in the same transaction as the Overview's totals:
        // before the ledger stream is read, History shows the grant only, and the Overview nothing
        Resp early = call("GET", "/v1/accounts/" + id + "/usage?limit=500", owner(id), null);
        assertEquals(List.of("grant"), early.items().stream().map(m -> m.get("type")).toList(), early.raw().body());
        drain();
        List<String> seen = new ArrayList<>();
        List<String> times = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Resp page = get("/v1/accounts/" + id + "/usage?limit=50" + (cursor == null ? "" : "&cursor=" + cursor), owner(id));
            assertEquals(200, page.status(), page.raw().body());
            for (Map<String, Object> item : page.items()) {
                seen.add((String) item.get("entryId"));
                times.add((String) item.get("recordedAt"));
            }
            cursor = page.body().get("nextCursor") instanceof String s ? s : null;
            pages++;
        } while (cursor != null);
        assertEquals(3, pages);
        assertEquals(121, seen.size(), "120 charges and the grant");
        assertEquals(121, new HashSet<>(seen).size(), "no entry twice");
        for (int i = 1; i < times.size(); i++) {
            assertFalse(java.time.Instant.parse(times.get(i - 1)).isBefore(java.time.Instant.parse(times.get(i))), "newest first");
        }
        assertEquals("usage#p119", seen.get(0));

        Resp onlyAi = get("/v1/accounts/" + id + "/usage?type=ai_tokens&limit=500", owner(id));
        assertEquals(40, onlyAi.items().size());
        assertTrue(onlyAi.items().stream().allMatch(m -> m.get("type").equals("ai_tokens")));
        Resp grants = get("/v1/accounts/" + id + "/usage?type=grant,forfeit", owner(id));
        assertEquals(1, grants.items().size());
        Resp defaultPage = get("/v1/accounts/" + id + "/usage", owner(id));
        assertEquals(50, defaultPage.items().size(), "default limit");
    }

    @Test
    void fromAndToSelectByRecordedTime() {
        String id = fundedAccount("range", "10");
        Map<String, Instant> at = Map.of("d1", Instant.parse("2026-03-01T10:00:00Z"),
                "d2", Instant.parse("2026-03-02T10:00:00Z"), "d3", Instant.parse("2026-03-03T23:59:59.999Z"));
        at.forEach((event, when) -> assertEquals(201, charge(id, event, when, 10).getStatusCode()));
        drain();
        assertEquals(List.of("usage#d2"), ids(get("/v1/accounts/" + id + "/usage?from=2026-03-02&to=2026-03-02", owner(id))));
        assertEquals(List.of("usage#d3", "usage#d2"),
                ids(get("/v1/accounts/" + id + "/usage?from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00Z", owner(id))));
        assertEquals(List.of("usage#d1"), ids(get("/v1/accounts/" + id + "/usage?to=2026-03-02T10:00:00Z&type=workload_units", owner(id))));
    }

    @Test
    void overviewTotalsPerDayAndFeatureMatchTheLedgerAndSurviveRedelivery() throws Exception {
        String id = fundedAccount("overview", "100");
        // day 1: two AI calls and one units event; day 3: one units event
        charge(id, "a", Instant.parse("2026-05-01T08:00:00Z"), 0);
        charge(id, "b", Instant.parse("2026-05-01T09:00:00Z"), 0);
        charge(id, "c", Instant.parse("2026-05-01T23:59:59Z"), 7);
        charge(id, "d", Instant.parse("2026-05-03T00:00:00Z"), 5000);
        drain();
        Resp s = get("/v1/accounts/" + id + "/usage/summary?from=2026-05-01&to=2026-05-03", owner(id));
        assertEquals(200, s.status(), s.raw().body());
        List<Map<String, Object>> days = days(s);
        assertEquals(List.of("2026-05-01", "2026-05-02", "2026-05-03"), days.stream().map(d -> d.get("date")).toList());
        Map<String, Object> d1 = days.get(0);
        // gpt-4o-mini 1200 in + 350 out = 0.00039 each; 7 units x 0.0001 = 0.0007
        assertEquals(0, new BigDecimal("0.00148").compareTo((BigDecimal) d1.get("credits")));
        assertEquals(0, new BigDecimal("2400").compareTo(nested(d1, "aiTokens", "inputTokens")));
        assertEquals(0, new BigDecimal("700").compareTo(nested(d1, "aiTokens", "outputTokens")));
        assertEquals(0, new BigDecimal("2").compareTo(nested(d1, "aiTokens", "events")));
        assertEquals(0, new BigDecimal("7").compareTo(nested(d1, "workloadUnits", "units")));
        assertEquals(0, BigDecimal.ZERO.compareTo((BigDecimal) days.get(1).get("credits")));
        assertEquals(0, new BigDecimal("0.5").compareTo((BigDecimal) days.get(2).get("credits")));
        @SuppressWarnings("unchecked") Map<String, Object> totals = (Map<String, Object>) s.body().get("totals");
        assertEquals(0, new BigDecimal("0.50148").compareTo((BigDecimal) totals.get("credits")));

        // the stream delivers at least once: read the whole stream again from its start into the same handler
        var again = new StreamPoller("LedgerTable", runner().dynamo(), runner().streams(),
                new AggregatorHandler(runner().dynamo(), storeConfig()),
                List.of("{\"eventName\":[\"INSERT\"],\"dynamodb\":{\"NewImage\":{\"kind\":{\"S\":[\"entry\"]}}}}"));
        int read;
        int total = 0;
        do { read = again.pollOnce(); total += read; } while (read > 0);
        assertTrue(total > 4, "the replay did read the stream");
        Resp after = get("/v1/accounts/" + id + "/usage/summary?from=2026-05-01&to=2026-05-03", owner(id));
        assertEquals(s.raw().body(), after.raw().body(), "redelivered records are not counted twice");
        assertEquals(List.of("usage#d", "usage#c", "usage#b", "usage#a"),
                ids(get("/v1/accounts/" + id + "/usage?limit=500", owner(id))), "nor shown twice in History");

        // counting leaves the entry as the charge wrote it (no index copy on the charge's request); the entry's History
        // row, keyed by time in its own partition, is the record that it was counted, and is kept
        var acct = new dev.credits.core.domain.AccountId(id);
        var key = dev.credits.core.store.Items.entryKey(acct, "usage#d");
        var entry = runner().dynamo().getItem(g -> g.tableName(storeConfig().ledgerTable()).key(key).consistentRead(true)).item();
        assertEquals("usage#d", entry.get("sk").s());
        assertFalse(entry.containsKey("ts"), "a usage entry is not in the history index: " + entry);
        var row = runner().dynamo().getItem(g -> g.tableName(storeConfig().ledgerTable()).consistentRead(true).key(Map.of(
                "pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(dev.credits.core.store.Keys.usagePk(acct, "usage#d")),
                "sk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(
                        dev.credits.core.store.Keys.ts(Instant.parse("2026-05-03T00:00:00Z"), "usage#d"))))).item();
        assertEquals("usage#d", row.get("entrySk").s(), "the row names its entry: " + row);
        assertEquals(entry.get("amount"), row.get("amount"));
        assertFalse(row.containsKey("expiresAt") || row.containsKey("ts"), "kept, and not indexed again: " + row);
    }

    /**
     * A usage entry written before usage rows existed carries ts (it is in the history index). One whose stream record
     * is read by the new aggregator (written by the old usage function during the deploy, or behind in the stream then)
     * also gets a usage row, at the very same position: History must still list it once.
     */
    @Test
    void aUsageEntryStillInTheIndexFromBeforeUsageRowsIsListedOnce() {
        String id = fundedAccount("legacy", "10");
        var acct = new dev.credits.core.domain.AccountId(id);
        Instant at = Instant.parse("2026-06-01T12:00:00Z");
        var e = new dev.credits.core.domain.LedgerEntry(acct, "usage#old", dev.credits.core.domain.EntryType.WORKLOAD_UNITS,
                -1_000, at, null, "old", null, null, null, "unit", 10L, Map.of("perUnit", new BigDecimal("0.0001")), "v", null, "h");
        Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue> item = new HashMap<>(dev.credits.core.store.Items.entry(e));
        item.put("ts", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(dev.credits.core.store.Keys.ts(at, "usage#old")));
        runner().dynamo().putItem(b -> b.tableName(storeConfig().ledgerTable()).item(item)); // as the usage function wrote it before
        assertEquals(201, charge(id, "new", Instant.parse("2026-06-01T12:00:01Z"), 3).getStatusCode());
        drain(); // the aggregator counts both: each gets its usage row
        assertEquals(List.of("usage#new", "usage#old"), ids(get("/v1/accounts/" + id + "/usage?limit=500", owner(id))));
        assertEquals(List.of("usage#new", "usage#old"), ids(get("/v1/accounts/" + id + "/usage?type=workload_units,grant", owner(id))));
        List<String> paged = new ArrayList<>();
        String cursor = null;
        do {
            Resp page = get("/v1/accounts/" + id + "/usage?limit=1" + (cursor == null ? "" : "&cursor=" + cursor), owner(id));
            paged.addAll(ids(page));
            cursor = page.body().get("nextCursor") instanceof String s ? s : null;
        } while (cursor != null);
        assertEquals(List.of("usage#new", "usage#old"), paged, "one at a time, too");
    }

    /** Records one event through the real usage handler with its clock set to {@code when}. */
    private static com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse charge(String id, String eventId, Instant when, long units) {
        UsageHandler h = new UsageHandler(runner().dynamo(), storeConfig(), PriceBookLoader.fromClasspath(), Clock.fixed(when, ZoneOffset.UTC));
        APIGatewayV2HTTPEvent e = EventLoader.loadApiGatewayHttpEvent("events/apigw/usage-ai-tokens.json");
        Map<String, String> path = new HashMap<>(e.getPathParameters());
        path.put("id", id);
        e.setPathParameters(path);
        e.setBody(units == 0 ? e.getBody().replace("evt-7f3a", eventId) : unitsEvent(eventId, units));
        return h.handleRequest(e, null);
    }

    private static List<String> ids(Resp r) {
        assertEquals(200, r.status(), r.raw().body());
        return r.items().stream().map(m -> (String) m.get("entryId")).filter(s -> s.startsWith("usage#")).toList();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> days(Resp r) {
        return (List<Map<String, Object>>) r.body().get("days");
    }

    @SuppressWarnings("unchecked")
    private static BigDecimal nested(Map<String, Object> m, String a, String b) {
        return (BigDecimal) ((Map<String, Object>) m.get(a)).get(b);
    }
}
