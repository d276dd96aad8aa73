package dev.credits.bench;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.accounts.AccountsHandler;
import dev.credits.accounts.AlertSubscriptions;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.core.store.CreditsStore;
import dev.credits.usage.UsageHandler;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Item 4: DynamoDB requests and consumed capacity per usage event, through the real handlers with a client whose
 * interceptor asks for ReturnConsumedCapacity and adds it up.
 */
final class CostPerEvent {
    /** On-demand prices used for the dollar figures (us-east-1, standard table class, as published in 2025). */
    static final double USD_PER_MILLION_WRU = 0.625;
    static final double USD_PER_MILLION_RRU = 0.125;

    private CostPerEvent() {}

    /** The functions' client configuration ({@code Clients.dynamo}), plus the counting interceptor. */
    static DynamoDbClient instrumented(String endpoint, Capacity capacity) {
        return DynamoDbClient.builder()
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(2)).socketTimeout(Duration.ofSeconds(5)).build())
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create(endpoint))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallAttemptTimeout(Duration.ofSeconds(3)).apiCallTimeout(Duration.ofSeconds(8))
                        .addExecutionInterceptor(capacity).build())
                .build();
    }

    record Row(String scenario, String status, List<Capacity.Call> calls, int perEvents) {}

    static void run(Fixture fx, Report report) {
        Report.progress("cost per event: counting requests and consumed capacity through the real handlers");
        Capacity cap = new Capacity();
        DynamoDbClient client = instrumented(fx.endpoint(), cap);
        UsageHandler usage = new UsageHandler(client, fx.config, PriceBookLoader.fromClasspath(), Clock.systemUTC());
        AccountsHandler accounts = new AccountsHandler(client, fx.config, new AlertSubscriptions.LogOnly(), Clock.systemUTC());
        CreditsStore aggregating = new CreditsStore(client, fx.config, Clock.systemUTC());
        String rich = "cost-rich", poor = "cost-poor";
        fx.account(rich, 1_000_000, 10L);
        fx.account(poor, 0, null);

        List<Row> rows = new ArrayList<>();
        Supplier<Events.Http> first = () -> Events.usage(rich, "cost-evt-1");
        rows.add(measure(cap, "usage: first event (ai_tokens)", 1, () -> usage.handleRequest(Events.object(first.get()), null)));
        rows.add(measure(cap, "usage: replay (same eventId, same body)", 1, () -> usage.handleRequest(Events.object(first.get()), null)));
        rows.add(measure(cap, "usage: first event, Prefer: return=minimal", 1,
                () -> usage.handleRequest(Events.object(Events.usageMinimal(rich, "cost-min-1")), null)));
        rows.add(measure(cap, "usage: replay, Prefer: return=minimal", 1,
                () -> usage.handleRequest(Events.object(Events.usageMinimal(rich, "cost-min-1")), null)));
        Events.Http conflict = new Events.Http("POST", "/v1/accounts/{id}/usage", "/v1/accounts/" + rich + "/usage", Map.of("id", rich),
                Map.of(), Map.of(), "{\"eventId\":\"cost-evt-1\",\"type\":\"ai_tokens\",\"model\":\"gpt-4o-mini\",\"inputTokens\":1,\"outputTokens\":1}",
                Events.Who.metering());
        rows.add(measure(cap, "usage: conflict (same eventId, other body)", 1, () -> usage.handleRequest(Events.object(conflict), null)));
        Events.Http wu = new Events.Http("POST", "/v1/accounts/{id}/usage", "/v1/accounts/" + rich + "/usage", Map.of("id", rich),
                Map.of(), Map.of(), "{\"eventId\":\"cost-wu-1\",\"type\":\"workload_units\",\"units\":3}", Events.Who.metering());
        rows.add(measure(cap, "usage: first event (workload_units)", 1, () -> usage.handleRequest(Events.object(wu), null)));
        rows.add(measure(cap, "usage: refusal 402, first of an episode", 1, () -> usage.handleRequest(Events.object(Events.usage(poor, "cost-refused-1")), null)));
        rows.add(measure(cap, "usage: refusal 402, later in the episode", 1, () -> usage.handleRequest(Events.object(Events.usage(poor, "cost-refused-2")), null)));
        Events.Http grant = new Events.Http("POST", "/v1/accounts/{id}/grants", "/v1/accounts/" + rich + "/grants", Map.of("id", rich),
                Map.of(), Map.of(), "{\"credits\":1,\"reason\":\"benchmark\",\"grantId\":\"cost-grant-1\"}", Events.Who.admin());
        rows.add(measure(cap, "grant (accounts function)", 1, () -> accounts.handleRequest(Events.object(grant), null)));
        StringBuilder batch = new StringBuilder("{\"events\":[");
        for (int i = 0; i < 99; i++) {
            batch.append(i == 0 ? "" : ",").append("{\"eventId\":\"cost-batch-").append(i)
                    .append("\",\"type\":\"ai_tokens\",\"model\":\"gpt-4o-mini\",\"inputTokens\":1200,\"outputTokens\":350}");
        }
        batch.append("]}");
        Events.Http batchReq = new Events.Http("POST", "/v1/accounts/{id}/usage/batch", "/v1/accounts/" + rich + "/usage/batch",
                Map.of("id", rich), Map.of(), Map.of(), batch.toString(), Events.Who.metering());
        rows.add(measure(cap, "usage batch of 99, per event", 99, () -> usage.handleRequest(Events.object(batchReq), null)));

        // holds (issue 9): place, capture part, capture the rest (final), and release another
        dev.credits.usage.HoldsHandler holds = new dev.credits.usage.HoldsHandler(client, fx.config, PriceBookLoader.fromClasspath(), Clock.systemUTC());
        java.util.function.BiFunction<String, String, Events.Http> holdCall = (path, body) -> new Events.Http("POST",
                "/v1/accounts/{id}/holds" + path.replaceAll("/[^/]+/(capture|release)$", "/{holdId}/$1"),
                "/v1/accounts/" + rich + "/holds" + path,
                path.isEmpty() ? Map.of("id", rich) : Map.of("id", rich, "holdId", path.split("/")[1]), Map.of(), Map.of(), body, Events.Who.metering());
        String placeBody = "{\"holdId\":\"%s\",\"model\":\"gpt-4o\",\"inputTokens\":20000,\"maxOutputTokens\":40000}";
        rows.add(measure(cap, "hold: place", 1, () -> holds.handleRequest(Events.object(holdCall.apply("", placeBody.formatted("cost-hold-1"))), null)));
        rows.add(measure(cap, "hold: place again (replay)", 1, () -> holds.handleRequest(Events.object(holdCall.apply("", placeBody.formatted("cost-hold-1"))), null)));
        rows.add(measure(cap, "hold: capture (part)", 1, () -> holds.handleRequest(Events.object(holdCall.apply("/cost-hold-1/capture",
                "{\"captureId\":\"c1\",\"inputTokens\":20000,\"outputTokens\":10000}")), null)));
        rows.add(measure(cap, "hold: capture (final, rest released)", 1, () -> holds.handleRequest(Events.object(holdCall.apply("/cost-hold-1/capture",
                "{\"captureId\":\"c2\",\"inputTokens\":0,\"outputTokens\":5000,\"final\":true}")), null)));
        holds.handleRequest(Events.object(holdCall.apply("", placeBody.formatted("cost-hold-2"))), null);
        rows.add(measure(cap, "hold: release", 1, () -> holds.handleRequest(Events.object(holdCall.apply("/cost-hold-2/release", null)), null)));

        // the stream side: what the aggregator spends per usage event, later (off the hot path)
        List<LedgerEntry> one = postEntries(fx, rich, "cost-agg1-", 1);
        rows.add(measure(cap, "aggregator, stream batch of 1, per event", 1, () -> { aggregating.aggregate(one); return null; }));
        List<LedgerEntry> many = postEntries(fx, rich, "cost-agg98-", 98);
        rows.add(measure(cap, "aggregator, stream batch of 98, per event", 98, () -> { aggregating.aggregate(many); return null; }));

        List<List<String>> table = new ArrayList<>();
        List<Object> jsonRows = new ArrayList<>();
        Row firstRow = rows.get(0);
        double firstTableWrite = sum(firstRow.calls(), true) - firstRow.calls().stream().mapToDouble(c -> Double.isNaN(c.indexWrite()) ? 0 : c.indexWrite()).sum();
        for (Row r : rows) {
            double w = sum(r.calls(), true) / r.perEvents();
            double rd = sum(r.calls(), false) / r.perEvents();
            double idx = r.calls().stream().mapToDouble(c -> Double.isNaN(c.indexWrite()) ? 0 : c.indexWrite()).sum() / r.perEvents();
            long failed = r.calls().stream().filter(c -> !c.ok()).count();
            String ops = describe(r.calls());
            double bw = r.calls().stream().mapToDouble(Capacity.Call::billedWrite).sum() / r.perEvents();
            double br = r.calls().stream().mapToDouble(Capacity.Call::billedRead).sum() / r.perEvents();
            double usd = bw * USD_PER_MILLION_WRU + br * USD_PER_MILLION_RRU;
            String unreported = failed == 0 ? "" : " (+" + failed + " failed: none reported)";
            table.add(List.of(r.scenario(), r.status(), Report.f((double) r.calls().size() / r.perEvents(), r.perEvents() > 1 ? 3 : 0),
                    ops, Report.f(w, 2) + "/" + Report.f(rd, 2) + unreported, Report.f(bw, 2), Report.f(idx2(r), 2), Report.f(br, 2), "$" + Report.f(usd, 3)));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("scenario", r.scenario());
            j.put("status", r.status());
            j.put("eventsInCall", r.perEvents());
            j.put("requestsPerEvent", (double) r.calls().size() / r.perEvents());
            j.put("writeUnitsPerEvent", w);
            j.put("indexWriteUnitsPerEvent", idx);
            j.put("readUnitsPerEvent", rd);
            j.put("failedRequests", failed);
            j.put("billedWriteUnitsPerEvent", bw);
            j.put("billedReadUnitsPerEvent", br);
            j.put("usdPerMillionEvents", usd);
            List<Object> calls = new ArrayList<>();
            for (Capacity.Call c : r.calls()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("operation", c.operation()); m.put("ok", c.ok()); m.put("error", c.error());
                m.put("localRead", c.read()); m.put("localWrite", c.write()); m.put("localIndexWrite", c.indexWrite());
                m.put("attempts", c.attempts()); m.put("billedWrite", c.billedWrite()); m.put("billedRead", c.billedRead());
                m.put("billedIndexWrite", c.billedIndex());
                calls.add(m);
            }
            j.put("calls", calls);
            jsonRows.add(j);
        }
        // what one usage event costs in all: its charge plus its share of the aggregator's work (History row, day total)
        List<double[]> allIn = new ArrayList<>();
        for (String[] pair : new String[][]{{"usage: first event, Prefer: return=minimal", "aggregator, stream batch of 98, per event"},
                {"usage batch of 99, per event", "aggregator, stream batch of 98, per event"}}) {
            double bw = 0, br = 0;
            for (Row r : rows) {
                if (!r.scenario().equals(pair[0]) && !r.scenario().equals(pair[1])) continue;
                bw += r.calls().stream().mapToDouble(Capacity.Call::billedWrite).sum() / r.perEvents();
                br += r.calls().stream().mapToDouble(Capacity.Call::billedRead).sum() / r.perEvents();
            }
            double usd = bw * USD_PER_MILLION_WRU + br * USD_PER_MILLION_RRU;
            table.add(List.of("all in: " + pair[0].replace("usage: ", "") + " + " + pair[1].replace(", per event", ""), "-", "-",
                    "(sum of the two rows)", "-", Report.f(bw, 2), "-", Report.f(br, 2), "$" + Report.f(usd, 3)));
            allIn.add(new double[]{bw, br, usd});
        }
        report.json.put("costAllInPerUsageEvent", Map.of("singleReturnMinimal", allIn.get(0), "batchOf99", allIn.get(1)));
        report.json.put("costPerEvent", Map.of("rows", jsonRows, "usdPerMillionWriteUnits", USD_PER_MILLION_WRU,
                "usdPerMillionReadUnits", USD_PER_MILLION_RRU, "estimatedTableWriteUnitsOfAFailedCharge", firstTableWrite));
        report.add(new Report.Table("cost", "Cost per event: DynamoDB requests and consumed capacity (the moto stand-in, ReturnConsumedCapacity=INDEXES)",
                List.of("scenario", "HTTP", "requests", "calls", "stand-in reported WRU/RRU", "billed WRU", "of which index", "billed RRU", "$ per 1M events"),
                table, List.of(
                        "per event; 'stand-in reported': ConsumedCapacity as the stand-in (moto) returned it (ReturnConsumedCapacity=INDEXES, set by an SDK interceptor: "
                                + "the handlers do not ask for it). moto reports a fixed figure per request whatever the items' size (0.5 for a GetItem), "
                                + "none for a transaction, and nothing for a failed request: not usable for cost",
                        "'billed': computed from each request's items by DynamoDB's published rules (transactional write 2 WRU per KB per item, standard write 1, "
                                + "each item with the index key ts (ledger entries that are not usage) also written to the sparse history index (projection ALL) 1 per KB, strongly consistent read 1 RRU per 4 KB; "
                                + "a failed conditional write billed like the write, without the index: an assumption, check it against your bill)",
                        "the 201 answer reads the account back after the charge (a strongly consistent GetItem, 1 RRU): the charge itself is the one TransactWriteItems",
                        "$ = write units x $" + USD_PER_MILLION_WRU + " per million WRU + read units x $" + USD_PER_MILLION_RRU
                                + " per million RRU (DynamoDB on-demand, us-east-1, standard table class, as published in 2025; prices change: check the AWS pricing page)",
                        "not included: storage, streams (reads by a Lambda trigger are free), Lambda and API Gateway charges")));
    }

    private static double idx2(Row r) {
        return r.calls().stream().mapToDouble(Capacity.Call::billedIndex).sum() / r.perEvents();
    }

    private static List<LedgerEntry> postEntries(Fixture fx, String account, String prefix, int n) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<LedgerEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new LedgerEntry(new AccountId(account), "usage#" + prefix + i, EntryType.AI_TOKENS, -300, now, null,
                    prefix + i, "gpt-4o-mini", 1200L, 350L, null, null, Map.of(), "bench", null, "h-" + prefix + i));
        }
        fx.store.postBatch(new AccountId(account), out);
        return out;
    }

    private static Row measure(Capacity cap, String scenario, int perEvents, Supplier<Object> call) {
        cap.reset();
        Object r = call.get();
        String status = r instanceof APIGatewayV2HTTPResponse resp ? Integer.toString(resp.getStatusCode()) : "-";
        return new Row(scenario, status, cap.calls(), perEvents);
    }

    private static double sum(List<Capacity.Call> calls, boolean write) {
        return calls.stream().mapToDouble(c -> write ? c.write() : c.read()).filter(d -> !Double.isNaN(d)).sum();
    }

    private static String describe(List<Capacity.Call> calls) {
        List<String> parts = new ArrayList<>();
        for (Capacity.Call c : calls) parts.add(c.operation() + (c.ok() ? "" : " (" + (c.error().startsWith("TransactionCanceled") ? "cancelled" : c.error()) + ")"));
        return String.join(" + ", parts);
    }
}
