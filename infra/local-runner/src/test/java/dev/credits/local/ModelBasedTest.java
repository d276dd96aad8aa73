package dev.credits.local;

import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.json.Json;
import dev.credits.core.store.Items;
import dev.credits.core.store.StreamImages;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import dev.credits.local.CreditsModel.Answer;
import dev.credits.local.CreditsModel.Observed;
import dev.credits.local.ModelOps.*;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.math.BigDecimal;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Model-based randomized test (issue 6): a seeded, reproducible sequence of operations (usage of both types, replays
 * and conflicting retries, grants and their replays, limit changes, closes, and signed Stripe webhooks: top-ups paid
 * at once or later, refunds, disputes created and closed, each in any order and delivered any number of times) runs
 * in steps against the real handlers through the local runner over HTTP, on the DynamoDB stand-in (moto, serialized). A step is up to
 * {@value ModelOps#MAX_GROUP} operations on up to {@value ModelOps#SLOTS} accounts, sent concurrently. After every step the stream
 * consumers run (the alert function among them) and each account the step touched is checked against
 * {@link CreditsModel}: every answer, the balance and limits (GET account), no charge beyond the hard limit and no
 * refusal of one that fits (some serial order explains every 201 and 402), the ledger entries the step added,
 * conservation (the balance is the sum of the account's ledger entries), and the alerts that reached SNS.
 *
 * <p>Seed and length: {@code -Dmodel.seed} / {@code MODEL_SEED} (default: random, printed), {@code -Dmodel.ops} /
 * {@code MODEL_OPS} (default 3,000: the stand-in answers one request at a time, about 40 ms an operation here; the
 * assertions are the same at any length, and longer runs are a command away). A failure prints the seed and a shrunk sequence: the failing account's
 * operations replayed one at a time (serially: a race cannot be replayed deterministically), reduced by delta
 * debugging to a minimal failing subsequence.
 */
class ModelBasedTest {
    /**
     * Operations when none are asked for. 10,000 on DynamoDB Local took about 2 minutes; on moto, whose requests run
     * one at a time, they took 434 s (2 cores), so the suite runs fewer and prints the number it ran.
     */
    static final int DEFAULT_OPS = 3_000;
    private static final ModelOps.Prices PRICES = new ModelOps.Prices();
    private static final AtomicInteger RUNS = new AtomicInteger();

    private static SqsClient sqs;
    private static String queueUrl;
    private static ExecutorService pool;
    private static LedgerFeed ledgerFeed;
    private static String adminToken, meteringToken;

    private static java.io.PrintStream serviceLog;

    @BeforeAll
    static void start() throws java.io.IOException {
        runner();
        // tens of thousands of request lines would bury the test output: the run's service log goes to a file
        java.nio.file.Path log = java.nio.file.Path.of("target", "model-based-test.log");
        serviceLog = new java.io.PrintStream(java.nio.file.Files.newOutputStream(log), false, java.nio.charset.StandardCharsets.UTF_8);
        dev.credits.core.log.Log.redirect(serviceLog);
        System.out.println("model-based test: the service's log lines go to " + log.toAbsolutePath());
        adminToken = admin();
        meteringToken = metering();
        pool = Executors.newFixedThreadPool(ModelOps.MAX_GROUP);
        ledgerFeed = new LedgerFeed();
        if (messagingEndpoint() != null) {
            // one queue on the alerts topic, unfiltered: the test sorts what arrives by the accountId attribute
            var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"));
            sqs = SqsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                    .endpointOverride(URI.create(messagingEndpoint())).credentialsProvider(creds).build();
            try (SnsClient sns = SnsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                    .endpointOverride(URI.create(messagingEndpoint())).credentialsProvider(creds).build()) {
                queueUrl = sqs.createQueue(b -> b.queueName("model-" + UUID.randomUUID())).queueUrl();
                String arn = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                        .attributes().get(QueueAttributeName.QUEUE_ARN);
                String topic = runner().functionEnv().get("ALERTS_TOPIC_ARN");
                sns.subscribe(b -> b.topicArn(topic).protocol("sqs").endpoint(arn));
            }
        }
    }

    @AfterAll
    static void stop() {
        if (pool != null) pool.shutdownNow();
        dev.credits.core.log.Log.redirect(System.out);
        if (serviceLog != null) serviceLog.close();
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) v = System.getenv(env);
        return v == null || v.isBlank() ? null : v.trim();
    }

    @Test
    void randomSequencesAgreeWithTheModelAfterEveryStep() {
        String seedText = setting("model.seed", "MODEL_SEED");
        long seed = seedText != null ? Long.parseLong(seedText) : new java.security.SecureRandom().nextLong();
        String opsText = setting("model.ops", "MODEL_OPS");
        int ops = opsText != null ? Integer.parseInt(opsText) : DEFAULT_OPS;
        System.out.println("model-based test: seed " + seed + ", " + ops + " operations (reproduce with -Dmodel.seed=" + seed
                + " -Dmodel.ops=" + ops + ", or MODEL_SEED/MODEL_OPS)");
        long t0 = System.nanoTime();
        long cpu0 = processCpuNanos();
        Plan plan = ModelOps.generate(seed, ops, PRICES);
        Run run = new Run(plan, false, true);
        Failure f = run.execute(plan.steps());
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (f != null) fail(report(seed, ops, plan, f, false, run.checkAlerts));
        // the run must have reached the interesting places, or it proves little
        assertTrue(run.stats.getOrDefault("status.402", 0) > 0, "some charges met the hard limit");
        assertTrue(run.stats.getOrDefault("status.403", 0) > 0, "some operations met a closed account");
        assertTrue(run.stats.getOrDefault("entry.clawback", 0) > 0, "some refunds or disputes clawed back");
        System.out.println(summary(seed, plan, run, seconds, (processCpuNanos() - cpu0) / 1e9));
    }

    /**
     * The failure path itself: a model that prices one model 1 micro-credit too high must be caught, and the report
     * must carry the seed and a sequence shrunk to the few operations that show it.
     */
    @Test
    void aWrongModelIsCaughtAndShrunkToAFewOperations() {
        long seed = 42;
        Plan plan = ModelOps.generate(seed, 300, PRICES);
        Run run = new Run(plan, true, false);
        Failure f = run.execute(plan.steps());
        assertNotNull(f, "a model with a wrong price must disagree with the service");
        String report = report(seed, 300, plan, f, true, false);
        System.out.println("model-based test, the shrinker's own check (a deliberately wrong model: this failure report is expected):"
                + report.replace("\n", "\n  | "));
        assertTrue(report.contains("seed " + seed), report);
        assertNotNull(lastShrunk, report);
        assertTrue(lastShrunk.size() <= 3, "shrunk to at most a grant, a charge and a replay: " + lastShrunk);
        assertTrue(lastShrunk.stream().anyMatch(o -> o instanceof Usage u && "gpt-4o-mini".equals(u.model())), lastShrunk.toString());
    }

    // ------------------------------------------------------------------ one execution of a sequence

    record Failure(int step, String account, String reason, List<Op> ops, List<Answer> answers, int opIndex) {}

    /** One execution of a plan's operations, on fresh accounts and fresh Stripe ids. */
    private static final class Run {
        final Plan plan;
        final boolean mutant;
        final boolean checkAlerts;
        final String tag = "m" + Integer.toString(RUNS.incrementAndGet(), 36) + UUID.randomUUID().toString().substring(0, 6);
        final Map<String, CreditsModel> models = new HashMap<>();
        final Map<String, Long> ledgerSum = new HashMap<>();
        final Map<String, Set<String>> seenEntries = new HashMap<>();
        final Map<String, Integer> stats = new TreeMap<>();
        int opsDone;

        Run(Plan plan, boolean mutant, boolean checkAlerts) {
            this.plan = plan;
            this.mutant = mutant;
            this.checkAlerts = checkAlerts && sqs != null;
            if (queueUrl != null) drainQueue(); // alerts of earlier runs are not this run's
        }

        String real(String logical) { return tag + "-" + logical; }

        String stripeId(String prefix, String id) { return prefix + "_" + tag + "_" + id.replace("-", "_"); }

        synchronized void count(String k) { stats.merge(k, 1, Integer::sum); }

        Failure execute(List<List<Op>> steps) {
            int total = steps.stream().mapToInt(List::size).sum();
            int nextProgress = 1000;
            for (int k = 0; k < steps.size(); k++) {
                List<Op> step = steps.get(k);
                Failure f = step(k, step);
                opsDone += step.size();
                if (f != null) return f;
                if (steps.size() > 50 && opsDone >= nextProgress) {
                    System.out.println("model-based test: " + opsDone + "/" + total + " operations, " + (k + 1) + " steps, all agreeing");
                    nextProgress += 1000;
                }
            }
            drain();
            for (String name : models.keySet()) {
                String problem = fullLedgerCheck(name);
                if (problem != null) return new Failure(steps.size() - 1, name, problem, List.of(), List.of(), -1);
            }
            return null;
        }

        Failure step(int k, List<Op> step) {
            for (Op op : step) {
                if (!models.containsKey(op.account())) open(op.account());
            }
            long t0 = System.nanoTime();
            List<Answer> answers = new ArrayList<>();
            if (step.size() == 1) {
                answers.add(send(step.get(0)));
            } else {
                List<Future<Answer>> fs = new ArrayList<>();
                for (Op op : step) fs.add(pool.submit(() -> send(op)));
                for (Future<Answer> f : fs) {
                    try {
                        answers.add(f.get());
                    } catch (Exception e) {
                        throw new AssertionError("an operation failed to run", e);
                    }
                }
            }
            long t1 = System.nanoTime();
            // the alert function reads the accounts stream now; the daily totals catch up every 100 steps
            runner().drainStreams("AccountsTable");
            if (k % 100 == 99) drain();
            ledgerFeed.poll();
            long t2 = System.nanoTime();
            Map<String, int[]> alerts = checkAlerts ? readAlerts() : Map.of();
            long t3 = System.nanoTime();
            time("send", t1 - t0); time("drain", t2 - t1); time("sqs", t3 - t2);
            Map<String, List<Integer>> byAccount = new LinkedHashMap<>();
            for (int i = 0; i < step.size(); i++) byAccount.computeIfAbsent(step.get(i).account(), x -> new ArrayList<>()).add(i);
            for (String name : alerts.keySet()) {
                if (!byAccount.containsKey(name)) return new Failure(k, name, "an alert for an account this step did not touch: "
                        + java.util.Arrays.toString(alerts.get(name)), step, answers, -1);
            }
            for (var e : byAccount.entrySet()) {
                String name = e.getKey();
                List<Op> ops = new ArrayList<>();
                List<Answer> ans = new ArrayList<>();
                for (int i : e.getValue()) { ops.add(step.get(i)); ans.add(answers.get(i)); }
                int[] al = alerts.getOrDefault(name, new int[2]);
                long t4 = System.nanoTime();
                Observed seen = observe(name, al);
                long t5 = System.nanoTime();
                time("observe", t5 - t4);
                if (seen == null) return new Failure(k, name, "the account could not be read", step, answers, e.getValue().get(0));
                String why = models.get(name).explain(ops, ans, seen, checkAlerts);
                time("explain", System.nanoTime() - t5);
                if (why != null) return new Failure(k, name, why, step, answers, e.getValue().get(e.getValue().size() - 1));
                // conservation: the balance is the sum of every ledger entry the account has
                if (ledgerSum.get(name) != seen.balance()) {
                    return new Failure(k, name, "conservation: ledger entries sum to " + ModelOps.credits(ledgerSum.get(name))
                            + ", balance is " + ModelOps.credits(seen.balance()), step, answers, -1);
                }
                count("alerts.soft_limit", al[0]);
                count("alerts.hard_limit", al[1]);
                // steps where one account crossed its soft limit downward more than once before the stream was read
                if (al[0] > 1) count("alerts.soft_limit_several_in_one_step", 1);
            }
            return null;
        }

        final Map<String, Long> nanos = new TreeMap<>();
        synchronized void time(String k, long n) { nanos.merge(k, n, Long::sum); }

        synchronized void count(String k, int n) { if (n > 0) stats.merge(k, n, Integer::sum); }

        void open(String name) {
            long soft = plan.initialSoft().get(name);
            Resp r = post("/v1/accounts", adminToken, "{\"accountId\":\"" + real(name) + "\",\"softLimit\":" + ModelOps.credits(soft) + "}");
            assertEquals(201, r.status(), r.raw().body());
            models.put(name, new CreditsModel(new CreditsModel.Account(name, soft), mutant));
            ledgerSum.put(name, 0L);
            seenEntries.put(name, new HashSet<>());
        }

        /** Sends one operation as its client would: a 503 is retried with the same request (the API says it is safe). */
        Answer send(Op op) {
            boolean unsure = false;
            for (int attempt = 1; ; attempt++) {
                Resp r = call(op);
                if (r.status() == 503 && attempt < 30) {
                    unsure = true;
                    count("retried_503");
                    try { Thread.sleep(10L * attempt); } catch (InterruptedException e) { throw new AssertionError(e); }
                    continue;
                }
                count("op." + op.kind());
                count("status." + r.status());
                Long charged = r.body().get("charged") instanceof BigDecimal b ? micros(b) : null;
                Long forfeited = r.body().get("forfeited") instanceof BigDecimal b ? micros(b) : null;
                return new Answer(r.status(), charged, forfeited, unsure);
            }
        }

        Resp call(Op op) {
            String base = "/v1/accounts/" + real(op.account());
            return switch (op) {
                // the metering service's fast form: the answer has the charge, not the balance (one DynamoDB request)
                case Usage u -> callWithHeaders("POST", base + "/usage", u.body(), "application/json",
                        Map.of("Authorization", "Bearer " + meteringToken, "Prefer", "return=minimal"));
                case Grant g -> post(base + "/grants", adminToken, g.body());
                case Limits l -> put(base + "/limits", adminToken, l.body());
                case Close c -> post(base + "/close", adminToken, null);
                case Session s -> StripeEvents.deliver(StripeEvents.session(s.type(), real(s.account()), stripeId("cs", s.session()),
                        stripeId("pi", s.pi()), s.credits(), s.amountMinor(), s.paid() ? "paid" : "unpaid"));
                case Refund r -> StripeEvents.deliver(StripeEvents.refund(stripeId("pi", r.pi()), stripeId("ch", r.pi()),
                        r.amountMinor(), r.refundedMinor()));
                case Dispute d -> StripeEvents.deliver(StripeEvents.dispute(stripeId("pi", d.pi()), stripeId("ch", d.pi()),
                        stripeId("dp", d.dispute()), d.amountMinor()));
                case DisputeClosed d -> StripeEvents.deliver(StripeEvents.dispute(stripeId("pi", d.pi()), stripeId("ch", d.pi()),
                                stripeId("dp", d.dispute()), d.amountMinor())
                        .replace("\"type\": \"charge.dispute.created\"", "\"type\": \"charge.dispute.closed\"")
                        .replace("\"status\": \"needs_response\"", "\"status\": \"" + d.status() + "\""));
            };
        }

        /** The account through the API, its "usage stopped" state on the item, and the ledger entries the step added. */
        Observed observe(String name, int[] alerts) {
            String id = real(name);
            Resp acct = get("/v1/accounts/" + id, adminToken);
            if (acct.status() != 200) return null;
            Map<String, AttributeValue> item = runner().dynamo().getItem(b -> b.tableName(storeConfig().accountsTable())
                    .key(Map.of("accountId", AttributeValue.fromS(id))).consistentRead(true)).item();
            String stop = item.containsKey("stopAlert") ? item.get("stopAlert").s() : "armed";
            List<String> fresh = new ArrayList<>();
            for (LedgerEntry e : ledgerFeed.take(id)) {
                if (!seenEntries.get(name).add(e.entryId())) continue;
                fresh.add(e.type().wire() + " " + e.amount());
                ledgerSum.merge(name, e.amount(), Long::sum);
                count("entry." + e.type().wire());
            }
            return new Observed("CLOSED".equals(acct.body().get("status")), micros(acct.num("balance")), micros(acct.num("held")),
                    micros(acct.num("hardLimit")), acct.num("softLimit") == null ? null : micros(acct.num("softLimit")), fresh,
                    CreditsModel.Stop.valueOf(stop.toUpperCase()), alerts[0], alerts[1]);
        }

        /** Every entry of the account, listed from the start: the same count and sum as those seen step by step. */
        String fullLedgerCheck(String name) {
            long sum = 0;
            int n = 0;
            String cursor = null;
            do {
                Resp page = get("/v1/accounts/" + real(name) + "/usage?limit=500" + (cursor == null ? "" : "&cursor=" + cursor), adminToken);
                for (Map<String, Object> e : page.items()) { sum += micros((BigDecimal) e.get("amount")); n++; }
                cursor = page.body().get("nextCursor") instanceof String s ? s : null;
            } while (cursor != null);
            long balance = micros(balance(real(name)));
            if (n != seenEntries.get(name).size() || sum != balance || balance != models.get(name).account().balance) {
                return "full ledger: " + n + " entries summing to " + ModelOps.credits(sum) + ", " + seenEntries.get(name).size()
                        + " seen step by step, balance " + ModelOps.credits(balance) + ", model " + ModelOps.credits(models.get(name).account().balance);
            }
            return null;
        }

        /** Alerts SNS delivered since the last read, per logical account of this run: {soft_limit, hard_limit}. */
        Map<String, int[]> readAlerts() {
            Map<String, int[]> out = new HashMap<>();
            for (Map<String, Object> m : drainQueue()) {
                String account = attribute(m, "accountId");
                if (account == null || !account.startsWith(tag + "-")) continue;
                int[] c = out.computeIfAbsent(account.substring(tag.length() + 1), x -> new int[2]);
                c["soft_limit".equals(attribute(m, "alertType")) ? 0 : 1]++;
            }
            return out;
        }
    }

    /**
     * Every ledger entry written, as the ledger table's stream shows it (a second reader of the stream, like a second
     * Lambda subscription): a balance change anywhere has its entry here, expected or not. One stream read per step
     * instead of sixteen shard queries per account; the run ends by listing each account's ledger through the History
     * API and comparing.
     */
    private static final class LedgerFeed {
        private final Map<String, List<LedgerEntry>> byAccount = new HashMap<>();
        private final StreamPoller poller = new StreamPoller("LedgerTable", runner().dynamo(), runner().streams(), (event, ctx) -> {
            for (var r : event.getRecords()) {
                if (!"INSERT".equals(r.getEventName()) || r.getDynamodb().getNewImage() == null) continue;
                Map<String, AttributeValue> image = StreamImages.toSdk(r.getDynamodb().getNewImage());
                if (!"entry".equals(Items.str(image, "kind"))) continue;
                LedgerEntry e = Items.entry(image);
                synchronized (this) { byAccount.computeIfAbsent(e.accountId().value(), x -> new ArrayList<>()).add(e); }
            }
            return new StreamsEventResponse(List.of());
        }, List.of());

        void poll() {
            while (poller.pollOnce() > 0) { /* until a pass reads nothing */ }
        }

        synchronized List<LedgerEntry> take(String account) {
            List<LedgerEntry> out = byAccount.remove(account);
            return out == null ? List.of() : out;
        }
    }

    private static List<Map<String, Object>> drainQueue() {
        List<Map<String, Object>> out = new ArrayList<>();
        while (true) {
            List<Message> msgs = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(0)).messages();
            if (msgs.isEmpty()) return out;
            for (Message m : msgs) {
                try {
                    out.add(Json.parseObject(m.body()));
                } catch (Json.MalformedJsonException e) {
                    throw new AssertionError("not an SNS envelope: " + m.body(), e);
                }
                sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static String attribute(Map<String, Object> envelope, String name) {
        Object attrs = envelope.get("MessageAttributes");
        if (!(attrs instanceof Map<?, ?> a) || !(a.get(name) instanceof Map<?, ?> v)) return null;
        return (String) ((Map<String, Object>) v).get("Value");
    }

    private static long micros(BigDecimal credits) {
        return credits.movePointRight(6).longValueExact();
    }

    // ------------------------------------------------------------------ failure report and shrinking

    private static volatile List<Op> lastShrunk;
    private static final long SHRINK_BUDGET_NANOS = 180_000_000_000L;

    private static String report(long seed, int ops, Plan plan, Failure f, boolean mutant, boolean alerts) {
        StringBuilder b = new StringBuilder();
        b.append("\nmodel-based test FAILED: seed ").append(seed).append(", ").append(ops).append(" operations")
                .append("\n  reproduce: mvn -B -ntp -pl infra/local-runner -am verify -Dtest=ModelBasedTest -Dsurefire.failIfNoSpecifiedTests=false")
                .append(" -Dmodel.seed=").append(seed).append(" -Dmodel.ops=").append(ops)
                .append("\n  at step ").append(f.step()).append(", account ").append(f.account()).append(": ").append(f.reason());
        if (!f.ops().isEmpty()) {
            b.append("\n  the step (sent concurrently):");
            for (int i = 0; i < f.ops().size(); i++) b.append("\n    ").append(f.ops().get(i).describe()).append("  => ").append(f.answers().get(i));
        }
        // shrink: only the failing account's operations matter (accounts share nothing), replayed one at a time
        List<Op> candidate = new ArrayList<>();
        for (int k = 0; k <= f.step() && k < plan.steps().size(); k++) {
            for (Op op : plan.steps().get(k)) if (op.account().equals(f.account())) candidate.add(op);
        }
        long deadline = System.nanoTime() + SHRINK_BUDGET_NANOS;
        Shrinker s = new Shrinker(plan, mutant, alerts, deadline);
        List<Op> shrunk = s.shrink(candidate);
        lastShrunk = shrunk;
        if (shrunk == null) {
            b.append("\n  shrinking: the account's ").append(candidate.size())
                    .append(" operations replayed one at a time do not fail: the failure needs the concurrency of the step above")
                    .append("\n  the account's operations, in the order their steps ran:");
            for (Op op : candidate) b.append("\n    ").append(op.describe());
        } else {
            b.append("\n  shrunk (replayed serially, ").append(s.runs).append(" replays").append(s.timedOut ? ", budget reached" : "")
                    .append("): ").append(candidate.size()).append(" -> ").append(shrunk.size()).append(" operations, failing with: ").append(s.lastReason);
            for (Op op : shrunk) b.append("\n    ").append(op.describe());
        }
        return b.toString();
    }

    /** Delta debugging (ddmin) over a failing account's operations, each candidate replayed serially on fresh accounts. */
    private static final class Shrinker {
        final Plan plan;
        final boolean mutant;
        final boolean alerts;
        final long deadline;
        int runs;
        boolean timedOut;
        String lastReason;

        Shrinker(Plan plan, boolean mutant, boolean alerts, long deadline) {
            this.plan = plan; this.mutant = mutant; this.alerts = alerts; this.deadline = deadline;
        }

        /** The failing index of a serial replay, or -1 if it passes. */
        int failsAt(List<Op> ops) {
            runs++;
            List<List<Op>> steps = new ArrayList<>();
            for (Op op : ops) steps.add(List.of(op));
            Run run = new Run(plan, mutant, alerts);
            Failure f = run.execute(steps);
            if (f == null) return -1;
            lastReason = f.reason();
            return Math.min(f.step(), ops.size() - 1);
        }

        List<Op> shrink(List<Op> candidate) {
            int at = failsAt(candidate);
            if (at < 0) return null;
            List<Op> cur = new ArrayList<>(candidate.subList(0, at + 1)); // the minimal failing prefix
            int n = 2;
            while (cur.size() >= 2) {
                if (System.nanoTime() > deadline) { timedOut = true; break; }
                int chunk = (int) Math.ceil(cur.size() / (double) n);
                boolean reduced = false;
                for (int start = 0; start < cur.size() && !reduced; start += chunk) {
                    List<Op> complement = new ArrayList<>(cur.subList(0, start));
                    complement.addAll(cur.subList(Math.min(cur.size(), start + chunk), cur.size()));
                    int c = complement.isEmpty() ? -1 : failsAt(complement);
                    if (c >= 0) { cur = new ArrayList<>(complement.subList(0, c + 1)); n = Math.max(n - 1, 2); reduced = true; }
                }
                if (!reduced) {
                    if (n >= cur.size()) break;
                    n = Math.min(cur.size(), n * 2);
                }
            }
            // a final failing replay, so the reason printed is the shrunk sequence's own
            failsAt(cur);
            return cur;
        }
    }

    // ------------------------------------------------------------------ summary

    /** CPU time of this JVM (the whole stack but the stand-ins' own processes: the handlers, the runner, the test): the machine's load does not change it. */
    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private static String summary(long seed, Plan plan, Run run, double seconds, double cpuSeconds) {
        Map<String, Object> ops = new TreeMap<>(), statuses = new TreeMap<>(), entries = new TreeMap<>(), alerts = new TreeMap<>();
        run.stats.forEach((k, v) -> {
            if (k.startsWith("op.")) ops.put(k.substring(3), v);
            else if (k.startsWith("status.")) statuses.put(k.substring(7), v);
            else if (k.startsWith("entry.")) entries.put(k.substring(6), v);
            else if (k.startsWith("alerts.")) alerts.put(k.substring(7), v);
        });
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "model_based_test");
        line.put("seed", seed);
        line.put("operations", plan.ops());
        line.put("steps", plan.steps().size());
        line.put("accounts", plan.initialSoft().size());
        line.put("byKind", ops);
        line.put("statuses", statuses);
        line.put("ledgerEntries", entries);
        line.put("alerts", sqs == null ? "not checked (no MOTO_ENDPOINT)" : alerts);
        line.put("retried503", run.stats.getOrDefault("retried_503", 0));
        Map<String, Object> phases = new TreeMap<>();
        run.nanos.forEach((k, v) -> phases.put(k, v / 1_000_000));
        line.put("phaseMillis", phases);
        line.put("seconds", BigDecimal.valueOf(seconds).setScale(1, java.math.RoundingMode.HALF_UP));
        line.put("cpuSeconds", BigDecimal.valueOf(cpuSeconds).setScale(1, java.math.RoundingMode.HALF_UP));
        return Json.write(line);
    }
}
