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
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * The hot-account simulation of issue 5: one account, many metering callers, DynamoDB's per-partition write limit
 * enforced over the DynamoDB stand-in, moto ({@link ThrottledDynamo}), the real usage handler and the real aggregator
 * in-process.
 *
 * <p><b>Virtual time.</b> The stand-in on a small machine runs about a hundred transactions a second, one at a time,
 * far below what DynamoDB's partitions allow, so a wall-clock run measures the emulator, not the design (the partition
 * limit never binds). Here every request really runs against the stand-in, in order, one at a time (conditions,
 * transactions, idempotency and the hard limit are the stand-in's, exactly), but time is a simulated clock: each
 * caller and each aggregator invocation is an actor whose next step is scheduled after a modelled request latency,
 * and the partition budgets (1,000 write units per partition key per second) follow that clock. Throttled requests
 * answer 503 and the caller retries the same request after a seeded, jittered backoff, as a metering client would.
 * The figure reported is accepted events per simulated second; it is bounded by the partition budgets, not by the
 * emulator's speed, which only sets how long the run takes.
 *
 * <p>Run: {@code make bench-hot} (or the class with args: simulated-seconds callers seed).
 */
public final class HotAccountSimulation {
    private static final long UNIT_COST_MICROS = 100; // one "standard" workload unit at 0.0001 credits

    /** Modelled latency of a request that DynamoDB accepted: a base plus a cost per item written, microseconds. */
    static final long BASE_MICROS = 8_000, PER_ITEM_MICROS = 250;
    /** Modelled latency of a throttled request (refused before any write). */
    static final long THROTTLED_MICROS = 4_000;
    /** How often an idle stream consumer polls (Lambda polls each stream shard about four times a second). */
    static final long POLL_IDLE_MICROS = 250_000;
    /** Concurrent aggregator invocations per stream shard: the template's ParallelizationFactor. */
    static final int AGGREGATORS = 4;

    private record Phase(String name, long sent, long accepted, long acceptedInWindow, long refused, double seconds, long throttles,
                         long peakUnits, String peakPartition, double overviewLagSeconds) {
        /** Events accepted by requests sent within the simulated window (retries after it only count in the books). */
        double perSecond() { return acceptedInWindow / seconds; }
    }

    /** The simulated clock, in microseconds. */
    static final class VirtualClock {
        long micros = 1_000_000_000L; // start on a whole second
        long millis() { return micros / 1000; }
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int callers = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : System.nanoTime();
        dev.credits.core.log.Log.redirect(new PrintStream(java.io.OutputStream.nullOutputStream()));
        System.out.println("hot-account simulation: " + seconds + " simulated s per phase, " + callers
                + " callers, per-partition limit " + ThrottledDynamo.PARTITION_WCU_PER_SECOND + " WCU/s, seed " + seed);
        System.out.println("(every request runs on the DynamoDB stand-in (moto); the clock is simulated: see the class comment)");
        try (LocalDynamo ddb = LocalDynamo.start()) {
            var client = ddb.client();
            Template template = Template.read(Template.locate());
            ddb.createTables(template, client);
            StoreConfig cfg = new StoreConfig("AccountsTable", "LedgerTable", "us-east-1", ddb.endpoint());
            CreditsStore store = new CreditsStore(client, cfg, Clock.systemUTC());
            Random random = new Random(seed);
            List<Phase> phases = new ArrayList<>();
            // the aggregator reads the ledger stream from its start, so the first phase's consumer is created first
            VirtualClock clock = new VirtualClock();

            // phase 1: batches, plenty of funds, the aggregator sharing the partitions' budgets
            ThrottledDynamo t1 = new ThrottledDynamo(client, clock::millis);
            StreamPoller aggregator = new StreamPoller("LedgerTable", client, ddb.streamsClient(), new AggregatorHandler(t1, cfg),
                    List.of("{\"eventName\":[\"INSERT\"],\"dynamodb\":{\"NewImage\":{\"kind\":{\"S\":[\"entry\"]}}}}"));
            fundMicros(store, "hot-batch", 1_000_000 * Credits.MICROS_PER_CREDIT);
            phases.add(run("batch of 99, funds to spare, aggregator on", handler(t1, cfg), t1, aggregator, "hot-batch",
                    callers, seconds, 99, clock, random));

            // phase 2: single events on another account: the ceiling the batch form lifts (the account item's 1,000 WCU/s)
            VirtualClock clock2 = new VirtualClock();
            ThrottledDynamo t2 = new ThrottledDynamo(client, clock2::millis);
            fundMicros(store, "hot-single", 1_000_000 * Credits.MICROS_PER_CREDIT);
            phases.add(run("single events, funds to spare", handler(t2, cfg), t2, null, "hot-single", callers,
                    Math.max(2, seconds / 2), 1, clock2, random));

            // phase 3: batches into the hard limit: 0.3 credits = exactly 3,000 units, far fewer than are sent
            VirtualClock clock3 = new VirtualClock();
            ThrottledDynamo t3 = new ThrottledDynamo(client, clock3::millis);
            fundMicros(store, "hot-limit", 300_000);
            phases.add(run("batch of 99 into the hard limit", handler(t3, cfg), t3, null, "hot-limit", callers,
                    Math.max(2, seconds / 2), 99, clock3, random));

            System.out.println("\nchecking the books (history pages; the stream into the aggregator for the Overview) ...");
            List<String> checks = new ArrayList<>();
            checks.add("hot-limit: " + phases.get(2).accepted() + (phases.get(2).accepted() == 3_000 ? " = " : " != ")
                    + "3,000 accepted events: every credit above the hard limit was spent, none past it");
            // the other phases' entries reach the Overview and History through the same aggregator, unthrottled now
            StreamPoller rest = new StreamPoller("LedgerTable", client, ddb.streamsClient(), new AggregatorHandler(client, cfg),
                    List.of("{\"eventName\":[\"INSERT\"],\"dynamodb\":{\"NewImage\":{\"kind\":{\"S\":[\"entry\"]}}}}"));
            for (int n; (n = rest.pollOnce()) > 0; ) { System.out.print("."); System.out.flush(); }
            System.out.println();
            // History lists a usage entry once the aggregator has counted it (its row), so the books are read after
            // the stream is drained
            checks.add(verifyMicros(store, "hot-batch", 1_000_000 * Credits.MICROS_PER_CREDIT, phases.get(0).accepted()));
            checks.add(verifyMicros(store, "hot-single", 1_000_000 * Credits.MICROS_PER_CREDIT, phases.get(1).accepted()));
            checks.add(verifyMicros(store, "hot-limit", 300_000, phases.get(2).accepted()));
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            for (int i = 0; i < 3; i++) {
                String acct = List.of("hot-batch", "hot-single", "hot-limit").get(i);
                long credits = store.dailyTotals(new AccountId(acct), today.minusDays(1), today.plusDays(1)).values().stream()
                        .mapToLong(Outcomes.DayTotals::credits).sum();
                long expected = phases.get(i).accepted() * UNIT_COST_MICROS;
                checks.add(acct + ": Overview credits " + Credits.format(credits) + (credits == expected ? " = " : " != ")
                        + "accepted charges " + Credits.format(expected));
            }
            String report = report(phases, checks, seconds, callers, seed);
            System.out.println(report);
            Path out = Path.of("infra/bench/results");
            Files.createDirectories(out);
            Files.writeString(out.resolve("hot-account.md"), report);
            System.out.println("written to " + out.resolve("hot-account.md"));
            boolean ok = checks.stream().noneMatch(c -> c.contains("!=") || c.contains("OVERDRAFT"));
            System.exit(ok ? 0 : 1);
        }
    }

    private static UsageHandler handler(ThrottledDynamo dynamo, StoreConfig cfg) {
        return new UsageHandler(dynamo, cfg, PriceBookLoader.fromClasspath(), Clock.systemUTC());
    }

    private static void fundMicros(CreditsStore store, String id, long micros) {
        AccountId a = new AccountId(id);
        var now = Instant.now();
        store.create(new Account(a, AccountStatus.ACTIVE, 0, 0, 0, null, null, null, now, now, null));
        store.post(new LedgerEntry(a, "grant#funds", EntryType.GRANT, micros, now, null, "funds",
                null, null, null, null, null, Map.of(), null, "simulation funds", "grant|funds"));
    }

    /** A caller's request in flight: the same body is sent again after a 503, as a metering client retries. */
    private static final class Caller {
        String body;
        int attempt;
        long sentEvents;
    }

    private static Phase run(String name, UsageHandler handler, ThrottledDynamo dynamo, StreamPoller aggregator, String account,
                             int callers, int seconds, int batch, VirtualClock clock, Random random) {
        System.out.println("\n" + name + " ...");
        long accepted = 0, acceptedInWindow = 0, refused = 0, sent = 0, seq = 0;
        long start = clock.micros, end = start + seconds * 1_000_000L;
        // actors: 0..callers-1 are callers, the next AGGREGATORS are aggregator invocations; the queue holds {time, actor}
        PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        Caller[] state = new Caller[callers];
        for (int c = 0; c < callers; c++) {
            state[c] = new Caller();
            queue.add(new long[]{start + random.nextInt(10_000), c});
        }
        if (aggregator != null) for (int k = 0; k < AGGREGATORS; k++) queue.add(new long[]{start + k * (POLL_IDLE_MICROS / AGGREGATORS), callers + k});
        int callersLeft = callers;
        long lastAccepted = start, drainedAt = -1, nextPrint = start + 1_000_000;
        long wallStart = System.nanoTime();
        while (!queue.isEmpty()) {
            long[] next = queue.poll();
            clock.micros = next[0];
            int actor = (int) next[1];
            if (clock.micros >= nextPrint) {
                nextPrint += 1_000_000;
                System.out.printf("  simulated %4.1f s (wall %5.1f s): %,d accepted (%,.0f/s), %,d refused, %,d throttled requests%n",
                        (clock.micros - start) / 1e6, (System.nanoTime() - wallStart) / 1e9, accepted,
                        accepted / ((clock.micros - start) / 1e6), refused, dynamo.throttled());
            }
            if (actor >= callers) {
                // an aggregator invocation: one batch per poll; AGGREGATORS of them overlap in simulated time
                int read = aggregator.pollOnce();
                if (read == 0 && callersLeft == 0) { drainedAt = Math.max(drainedAt, clock.micros); continue; }
                long took = read == 0 ? POLL_IDLE_MICROS : BASE_MICROS + PER_ITEM_MICROS * (read + (read + 97) / 98);
                queue.add(new long[]{clock.micros + took, actor});
                continue;
            }
            Caller me = state[actor];
            if (me.body == null) {
                if (clock.micros >= end) { callersLeft--; continue; } // no new request after the phase's end
                StringBuilder body = new StringBuilder(batch == 1 ? "" : "{\"events\":[");
                for (int i = 0; i < batch; i++) {
                    if (i > 0) body.append(',');
                    body.append("{\"eventId\":\"e").append(++seq).append("\",\"type\":\"workload_units\",\"units\":1}");
                }
                if (batch > 1) body.append("]}");
                me.body = body.toString();
                me.attempt = 0;
            }
            long throttledBefore = dynamo.throttled();
            APIGatewayV2HTTPResponse r = handler.handleRequest(event(account, batch > 1, me.body), null);
            if (r.getStatusCode() == 503) {
                if (dynamo.throttled() == throttledBefore) throw new IllegalStateException("a 503 that was not a throttle: " + r.getBody());
                me.attempt++;
                long backoff = 1_000L * (5 + random.nextInt((int) Math.min(400, 25L << Math.min(me.attempt, 4))));
                queue.add(new long[]{clock.micros + THROTTLED_MICROS + backoff, actor});
                continue;
            }
            long[] counted = count(r, batch);
            accepted += counted[0];
            if (clock.micros < end) acceptedInWindow += counted[0];
            refused += counted[1];
            sent += batch;
            if (counted[0] > 0) lastAccepted = clock.micros;
            me.body = null;
            queue.add(new long[]{clock.micros + BASE_MICROS + PER_ITEM_MICROS * (batch + 1), actor});
        }
        double simulated = (end - start) / 1e6;
        double lag = drainedAt < 0 ? Double.NaN : Math.max(0, (drainedAt - Math.max(lastAccepted, end)) / 1e6);
        System.out.printf("  done: %,d accepted by requests sent in %.0f simulated s (%,.0f/s), %,d in all; wall time %.0f s%n",
                acceptedInWindow, simulated, acceptedInWindow / simulated, accepted, (System.nanoTime() - wallStart) / 1e9);
        return new Phase(name, sent, accepted, acceptedInWindow, refused, simulated, dynamo.throttled(), dynamo.peakUnits(), dynamo.peakPartition(), lag);
    }

    /** {accepted, refused} events of one answer. */
    @SuppressWarnings("unchecked")
    private static long[] count(APIGatewayV2HTTPResponse r, int batch) {
        try {
            if (batch == 1) {
                if (r.getStatusCode() == 201) return new long[]{1, 0};
                if (r.getStatusCode() == 402) return new long[]{0, 1};
                throw new IllegalStateException("unexpected answer " + r.getStatusCode() + ": " + r.getBody());
            }
            if (r.getStatusCode() != 200) throw new IllegalStateException("unexpected answer " + r.getStatusCode() + ": " + r.getBody());
            long a = 0, f = 0;
            for (Object o : (List<Object>) Json.parseObject(r.getBody()).get("results")) {
                int s = ((BigDecimal) ((Map<String, Object>) o).get("status")).intValue();
                if (s == 201) a++;
                else if (s == 402) f++;
                else throw new IllegalStateException("unexpected event result " + s + ": " + o);
            }
            return new long[]{a, f};
        } catch (Json.MalformedJsonException e) {
            throw new IllegalStateException(e);
        }
    }

    private static APIGatewayV2HTTPEvent event(String account, boolean batch, String body) {
        var jwt = APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                .withClaims(Map.of("sub", "metering", "scope", "credits/metering")).withScopes(List.of("credits/metering")).build();
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0")
                .withRouteKey(batch ? "POST /v1/accounts/{id}/usage/batch" : "POST /v1/accounts/{id}/usage")
                .withHeaders(Map.of("content-type", "application/json", "prefer", "return=minimal"))
                .withPathParameters(Map.of("id", account)).withBody(body)
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

    private static String report(List<Phase> phases, List<String> checks, int seconds, int callers, long seed) {
        StringBuilder b = new StringBuilder();
        b.append("# Hot account: one account, DynamoDB's per-partition write limit simulated\n\n");
        b.append("Command: `make bench-hot` (").append(seconds).append(" simulated s for the first phase, ").append(callers)
                .append(" callers, seed ").append(seed).append("; in-process usage handler and aggregator; every request on the DynamoDB stand-in (moto), ")
                .append("a limit of ").append(ThrottledDynamo.PARTITION_WCU_PER_SECOND)
                .append(" WCU per partition key per simulated second, for the table and the history index).\n");
        b.append("Modelled latency: ").append(BASE_MICROS / 1000.0).append(" ms + ").append(PER_ITEM_MICROS / 1000.0)
                .append(" ms per item written for an accepted request, ").append(THROTTLED_MICROS / 1000.0)
                .append(" ms for a throttled one, then a jittered backoff of 5 to 25*2^attempt ms (at most 405 ms); ")
                .append(AGGREGATORS).append(" concurrent aggregator invocations (the template's ParallelizationFactor), ")
                .append("each taking up to 100 stream records (its BatchSize), an idle one polling every ").append(POLL_IDLE_MICROS / 1000).append(" ms.\n");
        b.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores; JDK ")
                .append(System.getProperty("java.version")).append("; date ").append(LocalDate.now()).append(".\n\n");
        b.append("accepted events/s: events accepted by requests sent within the simulated window, over its length; 'accepted' ")
                .append("also counts the retries still in flight at its end (all of them are in the books).\n\n");
        b.append("| phase | events sent | accepted | refused (402) | simulated s | accepted events/s | throttled requests | busiest partition-second | Overview caught up |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for (Phase p : phases) {
            b.append(String.format("| %s | %,d | %,d | %,d | %.0f | %,.0f | %,d | %,d WCU (%s) | %s |%n", p.name(), p.sent(), p.accepted(),
                    p.refused(), p.seconds(), p.perSecond(), p.throttles(), p.peakUnits(), p.peakPartition(),
                    Double.isNaN(p.overviewLagSeconds()) ? "after the run" : String.format("%.2f s after", p.overviewLagSeconds())));
        }
        b.append("\nBooks:\n\n");
        for (String c : checks) b.append("- ").append(c).append('\n');
        return b.toString();
    }
}
