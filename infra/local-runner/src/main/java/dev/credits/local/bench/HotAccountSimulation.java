package dev.credits.local.bench;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.aggregator.AggregatorHandler;
import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.domain.Outcomes;
import dev.credits.core.json.Json;
import dev.credits.core.money.Credits;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.StoreConfig;
import dev.credits.local.LocalDynamo;
import dev.credits.local.StreamPoller;
import dev.credits.local.Template;
import dev.credits.usage.UsageHandler;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The hot-account simulation of issue 5: one account, many metering callers, DynamoDB's per-partition write limit
 * enforced over DynamoDB Local ({@link ThrottledDynamo}), the real usage handler in-process. Reports accepted events
 * per second for the batch form and for single events, then proves the books: no overdraft (a second phase runs the
 * account into its hard limit), balance = funds - accepted charges, the Usage History lists every accepted event,
 * and the Overview's totals (after the aggregator read the stream) match.
 *
 * <p>Run: {@code make bench-hot} (or the class with args: seconds callers).
 */
public final class HotAccountSimulation {
    private static final long UNIT_COST_MICROS = 100; // one "standard" workload unit at 0.0001 credits

    private record Phase(String name, long events, long accepted, long refused, double seconds, long throttles) {
        double perSecond() { return accepted / seconds; }
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int callers = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        dev.credits.core.log.Log.redirect(new PrintStream(java.io.OutputStream.nullOutputStream()));
        System.out.println("hot-account simulation: " + seconds + " s per phase, " + callers + " callers, per-partition limit "
                + ThrottledDynamo.PARTITION_WCU_PER_SECOND + " WCU/s");
        try (LocalDynamo ddb = LocalDynamo.start(null)) {
            var client = ddb.client();
            Template template = Template.read(Template.locate());
            ddb.createTables(template, client);
            StoreConfig cfg = new StoreConfig("AccountsTable", "LedgerTable", "us-east-1", ddb.endpoint());
            CreditsStore store = new CreditsStore(client, cfg, Clock.systemUTC());
            List<Phase> phases = new ArrayList<>();

            // phase 1: batches, plenty of funds: throughput
            ThrottledDynamo throttled = new ThrottledDynamo(client);
            UsageHandler handler = new UsageHandler(throttled, cfg, PriceBookLoader.fromClasspath(), Clock.systemUTC());
            fundMicros(store, "hot-batch", 1_000_000 * Credits.MICROS_PER_CREDIT);
            phases.add(run("batch of 99, funds to spare", handler, throttled, "hot-batch", callers, seconds, 99));

            // phase 2: single events on another account: the ceiling the batch form lifts
            ThrottledDynamo throttled2 = new ThrottledDynamo(client);
            UsageHandler single = new UsageHandler(throttled2, cfg, PriceBookLoader.fromClasspath(), Clock.systemUTC());
            fundMicros(store, "hot-single", 1_000_000 * Credits.MICROS_PER_CREDIT);
            phases.add(run("single events, funds to spare", single, throttled2, "hot-single", callers, Math.max(3, seconds / 2), 1));

            // phase 3: batches into the hard limit: 0.3 credits = 3,000 units, far fewer than are sent
            ThrottledDynamo throttled3 = new ThrottledDynamo(client);
            UsageHandler limited = new UsageHandler(throttled3, cfg, PriceBookLoader.fromClasspath(), Clock.systemUTC());
            fundMicros(store, "hot-limit", 300_000);
            phases.add(run("batch of 99 into the hard limit", limited, throttled3, "hot-limit", callers, Math.max(3, seconds / 2), 99));

            System.out.println("\nchecking the books (history pages, then the stream into the aggregator for the Overview) ...");
            List<String> checks = new ArrayList<>();
            checks.add(verifyMicros(store, "hot-batch", 1_000_000 * Credits.MICROS_PER_CREDIT, phases.get(0).accepted()));
            checks.add(verifyMicros(store, "hot-single", 1_000_000 * Credits.MICROS_PER_CREDIT, phases.get(1).accepted()));
            checks.add(verifyMicros(store, "hot-limit", 300_000, phases.get(2).accepted()));
            StreamPoller poller = new StreamPoller("LedgerTable", client, ddb.streamsClient(), new AggregatorHandler(client, cfg), List.of());
            for (int n; (n = poller.pollOnce()) > 0; ) { System.out.print("."); System.out.flush(); }
            System.out.println();
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            for (int i = 0; i < 3; i++) {
                String acct = List.of("hot-batch", "hot-single", "hot-limit").get(i);
                long credits = store.dailyTotals(new AccountId(acct), today.minusDays(1), today).values().stream()
                        .mapToLong(Outcomes.DayTotals::credits).sum();
                long expected = phases.get(i).accepted() * UNIT_COST_MICROS;
                checks.add(acct + ": Overview credits " + Credits.format(credits) + (credits == expected ? " = " : " != ")
                        + "accepted charges " + Credits.format(expected));
            }
            String report = report(phases, checks, seconds, callers);
            System.out.println(report);
            Path out = Path.of("infra/bench/results");
            Files.createDirectories(out);
            Files.writeString(out.resolve("hot-account.md"), report);
            System.out.println("written to " + out.resolve("hot-account.md"));
            boolean ok = checks.stream().noneMatch(c -> c.contains("!=") || c.contains("OVERDRAFT"));
            System.exit(ok ? 0 : 1);
        }
    }

    private static void fundMicros(CreditsStore store, String id, long micros) {
        AccountId a = new AccountId(id);
        var now = java.time.Instant.now();
        store.create(new Account(a, AccountStatus.ACTIVE, 0, 0, 0, null, null, null, now, now, null));
        store.post(new LedgerEntry(a, "grant#funds", EntryType.GRANT, micros, now, null, "funds",
                null, null, null, null, null, Map.of(), null, "simulation funds", "grant|funds"));
    }

    private static Phase run(String name, UsageHandler handler, ThrottledDynamo dynamo, String account, int callers,
                             int seconds, int batch) throws Exception {
        System.out.println("\n" + name + " ...");
        AtomicLong accepted = new AtomicLong(), refused = new AtomicLong(), sent = new AtomicLong(), seq = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                fs.add(pool.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        StringBuilder body = new StringBuilder(batch == 1 ? "" : "{\"events\":[");
                        for (int i = 0; i < batch; i++) {
                            if (i > 0) body.append(',');
                            body.append("{\"eventId\":\"e").append(seq.incrementAndGet()).append("\",\"type\":\"workload_units\",\"units\":1}");
                        }
                        if (batch > 1) body.append("]}");
                        APIGatewayV2HTTPEvent ev = event(account, batch > 1, body.toString());
                        for (int attempt = 0; ; attempt++) {
                            APIGatewayV2HTTPResponse r = handler.handleRequest(ev, null);
                            if (r.getStatusCode() == 503 && System.nanoTime() < deadline + 5_000_000_000L) {
                                Thread.sleep(ThreadLocalRandom.current().nextLong(5, 25L << Math.min(attempt, 4)));
                                continue; // a metering client retries the same request: safe, it is idempotent
                            }
                            sent.addAndGet(batch);
                            count(r, batch, accepted, refused);
                            break;
                        }
                    }
                    return null;
                }));
            }
            long lastPrint = System.nanoTime();
            while (fs.stream().anyMatch(f -> !f.isDone())) {
                Thread.sleep(200);
                if (System.nanoTime() - lastPrint > 1_000_000_000L) {
                    lastPrint = System.nanoTime();
                    double t = (lastPrint - start) / 1e9;
                    System.out.printf("  %4.1f s: %,d accepted (%,.0f/s), %,d refused, %,d throttled requests%n",
                            t, accepted.get(), accepted.get() / t, refused.get(), dynamo.throttled());
                }
            }
            for (Future<?> f : fs) f.get();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Phase(name, sent.get(), accepted.get(), refused.get(), elapsed, dynamo.throttled());
    }

    @SuppressWarnings("unchecked")
    private static void count(APIGatewayV2HTTPResponse r, int batch, AtomicLong accepted, AtomicLong refused) {
        try {
            if (batch == 1) {
                if (r.getStatusCode() == 201) accepted.incrementAndGet();
                else if (r.getStatusCode() == 402) refused.incrementAndGet();
                return;
            }
            if (r.getStatusCode() != 200) return;
            for (Object o : (List<Object>) Json.parseObject(r.getBody()).get("results")) {
                int s = ((BigDecimal) ((Map<String, Object>) o).get("status")).intValue();
                if (s == 201) accepted.incrementAndGet();
                else if (s == 402) refused.incrementAndGet();
            }
        } catch (Json.MalformedJsonException e) {
            throw new IllegalStateException(e);
        }
    }

    private static APIGatewayV2HTTPEvent event(String account, boolean batch, String body) {
        var jwt = APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                .withClaims(Map.of("sub", "metering", "scope", "credits/metering")).withScopes(List.of("credits/metering")).build();
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0")
                .withRouteKey(batch ? "POST /v1/accounts/{id}/usage/batch" : "POST /v1/accounts/{id}/usage")
                .withHeaders(Map.of("content-type", "application/json")).withPathParameters(Map.of("id", account)).withBody(body)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withRequestId("sim")
                        .withAuthorizer(APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder().withJwt(jwt).build()).build())
                .build();
    }

    private static String verifyMicros(CreditsStore store, String id, long fundsMicros, long accepted) {
        AccountId a = new AccountId(id);
        Account acct = store.get(a).orElseThrow();
        long expected = fundsMicros - accepted * UNIT_COST_MICROS;
        long listed = 0;
        String before = null;
        do {
            Outcomes.HistoryPage p = store.history(a, null, null, java.util.Set.of(EntryType.WORKLOAD_UNITS), 500, before);
            listed += p.items().size();
            before = p.nextBefore();
        } while (before != null);
        return id + ": balance " + Credits.format(acct.balance()) + (acct.balance() == expected ? " = " : " != ")
                + "funds - accepted charges; " + (acct.balance() < acct.hardLimit() ? "OVERDRAFT" : "no overdraft")
                + "; history lists " + listed + (listed == accepted ? " = " : " != ") + accepted + " accepted events";
    }

    private static String report(List<Phase> phases, List<String> checks, int seconds, int callers) {
        StringBuilder b = new StringBuilder();
        b.append("# Hot account: one account, DynamoDB's per-partition write limit simulated\n\n");
        b.append("Command: `make bench-hot` (").append(seconds).append(" s phases, ").append(callers)
                .append(" callers, in-process usage handler, DynamoDB Local with a ")
                .append(ThrottledDynamo.PARTITION_WCU_PER_SECOND).append(" WCU/s limit per partition key and per index partition).\n");
        b.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores; JDK ")
                .append(System.getProperty("java.version")).append("; date ").append(java.time.LocalDate.now()).append(".\n\n");
        b.append("| phase | events sent | accepted | refused (402) | seconds | accepted events/s | throttled requests |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (Phase p : phases) {
            b.append(String.format("| %s | %,d | %,d | %,d | %.1f | %,.0f | %,d |%n", p.name(), p.events(), p.accepted(), p.refused(),
                    p.seconds(), p.perSecond(), p.throttles()));
        }
        b.append("\nBooks:\n\n");
        for (String c : checks) b.append("- ").append(c).append('\n');
        return b.toString();
    }
}
