package dev.credits.bench;

import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.json.Json;
import dev.credits.core.store.Items;
import dev.credits.webhook.StripeSignature;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;

/**
 * Item 2: each function's deployment package, unzipped, started in a fresh JVM by the Lambda Runtime Interface
 * Emulator with the runtime interface client as the runtime, then invoked once. Init is read from the emulator's own
 * log: from its {@code exec} of the JVM to {@code INIT RTDONE} (the runtime asking for its first event); the first
 * invocation is its {@code INVOKE RTDONE} duration; peak RSS is the JVM's VmHWM just after the invocation.
 */
final class ColdStart {
    private ColdStart() {}

    record Fn(String name, Path zip, String handler, IntFunction<String> event) {}

    record Run(double initMs, double invokeMs, double wallMs, double rssMb, String status) {}

    static final List<String> JVM_FLAGS = List.of(
            "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
            "-XX:MaxHeapSize=870m", // 85% of a 1024 MB function
            "-Djava.net.preferIPv4Stack=true", "--enable-native-access=ALL-UNNAMED");

    static void run(Fixture fx, Report report, Path repo, Path rie, Path java, String runtimeCp, int runs,
                    String stripeApiBase) throws Exception {
        String cold = "cold-start";
        fx.account(cold, 1_000_000, null);
        List<Fn> fns = new ArrayList<>();
        Path floorZip = repo.resolve("infra/bench/floor/target/lambda.zip");
        fns.add(new Fn("FLOOR (bench)", floorZip, "dev.credits.bench.floor.FloorHandler::handleRequest",
                r -> Events.json(Events.usage(cold, "cold-floor-" + r + "-" + System.nanoTime()))));
        fns.add(new Fn("usage", fnZip(repo, "usage"), "dev.credits.usage.UsageHandler::handleRequest",
                r -> Events.json(Events.usage(cold, "cold-usage-" + r + "-" + System.nanoTime()))));
        fns.add(new Fn("accounts", fnZip(repo, "accounts"), "dev.credits.accounts.AccountsHandler::handleRequest",
                r -> Events.json(Events.get("/v1/accounts/{id}", "/v1/accounts/" + cold, cold, Map.of(), Events.Who.admin()))));
        fns.add(new Fn("history", fnZip(repo, "history"), "dev.credits.history.HistoryHandler::handleRequest",
                r -> Events.json(Events.get("/v1/accounts/{id}/usage", "/v1/accounts/" + cold + "/usage", cold, Map.of("limit", "50"), Events.Who.owner(cold)))));
        fns.add(new Fn("aggregator", fnZip(repo, "aggregator"), "dev.credits.aggregator.AggregatorHandler::handleRequest",
                r -> aggregatorEvent(fx, cold, r)));
        fns.add(new Fn("alerts", fnZip(repo, "alerts"), "dev.credits.alerts.AlertHandler::handleRequest",
                r -> alertEvent(fx, r)));
        fns.add(new Fn("topups", fnZip(repo, "topups"), "dev.credits.topups.TopupsHandler::handleRequest",
                r -> Events.json(new Events.Http("POST", "/v1/accounts/{id}/topups", "/v1/accounts/" + cold + "/topups", Map.of("id", cold),
                        Map.of(), Map.of(), "{\"credits\":25,\"topupId\":\"cold-" + r + "-" + System.nanoTime() + "\"}", Events.Who.owner(cold)))));
        fns.add(new Fn("webhook", fnZip(repo, "webhook"), "dev.credits.webhook.StripeWebhookHandler::handleRequest",
                r -> webhookEvent(cold, r)));

        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("LANG", "en_US.UTF-8");
        env.put("TZ", ":UTC");
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024");
        env.put("AWS_LAMBDA_FUNCTION_TIMEOUT", "30");
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_DEFAULT_REGION", "us-east-1");
        env.put("AWS_ACCESS_KEY_ID", "local");
        env.put("AWS_SECRET_ACCESS_KEY", "local");
        env.put("ACCOUNTS_TABLE", Fixture.ACCOUNTS);
        env.put("LEDGER_TABLE", Fixture.LEDGER);
        env.put("AWS_ENDPOINT_URL_DYNAMODB", fx.endpoint());
        env.put("ALERTS_TOPIC_ARN", "local-log:AlertsTopic");
        env.put("STRIPE_API_KEY", "sk_test_x");
        env.put("STRIPE_WEBHOOK_SECRET", "whsec_x");
        if (stripeApiBase != null && !stripeApiBase.isBlank()) env.put("STRIPE_API_BASE", stripeApiBase);
        env.put("TOPUP_SUCCESS_URL", "https://example.com/billing/topup/return?session_id={CHECKOUT_SESSION_ID}");
        env.put("TOPUP_CANCEL_URL", "https://example.com/billing/topup/cancelled");

        Path work = Files.createTempDirectory("credits-bench-cold");
        Map<String, Path> tasks = new LinkedHashMap<>();
        Map<String, long[]> sizes = new LinkedHashMap<>();
        for (Fn f : fns) {
            Path dir = work.resolve(f.name().replaceAll("[^a-z]", ""));
            sizes.put(f.name(), unzip(f.zip(), dir));
            tasks.put(f.name(), dir);
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        Map<String, List<Run>> results = new LinkedHashMap<>();
        for (int r = 0; r < runs; r++) {
            for (Fn f : fns) {
                Report.progress("cold start, run " + (r + 1) + "/" + runs + ": " + f.name());
                Run one = once(f, tasks.get(f.name()), env, rie, java, runtimeCp, http, f.event().apply(r), work);
                results.computeIfAbsent(f.name(), k -> new ArrayList<>()).add(one);
            }
        }

        List<Run> floor = results.get("FLOOR (bench)");
        List<List<String>> rows = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        for (Fn f : fns) {
            List<Run> rs = results.get(f.name());
            List<Double> init = rs.stream().map(Run::initMs).toList();
            List<Double> inv = rs.stream().map(Run::invokeMs).toList();
            List<Double> both = rs.stream().map(x -> x.initMs() + x.invokeMs()).toList();
            List<Double> wall = rs.stream().map(Run::wallMs).toList();
            List<Double> rss = rs.stream().map(Run::rssMb).toList();
            List<Double> ratio = new ArrayList<>();
            for (int i = 0; i < rs.size(); i++) ratio.add(both.get(i) / (floor.get(i).initMs() + floor.get(i).invokeMs()));
            long[] sz = sizes.get(f.name());
            String statuses = String.join(",", rs.stream().map(Run::status).distinct().toList());
            rows.add(List.of(f.name(), Report.mmm(init, 0), Report.mmm(inv, 0), Report.mmm(both, 0), Report.f(Report.median(ratio), 2) + "x",
                    Report.mmm(wall, 0), Report.f(Report.median(rss), 0), Report.f(sz[0] / 1e6, 2), Report.f(sz[1] / 1e6, 1), Long.toString(sz[2]), statuses));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("handler", f.handler());
            j.put("initMs", Report.mmmJson(init));
            j.put("firstInvocationMs", Report.mmmJson(inv));
            j.put("initPlusFirstMs", Report.mmmJson(both));
            j.put("ratioToFloor", Report.mmmJson(ratio));
            j.put("coldRequestWallMs", Report.mmmJson(wall));
            j.put("peakRssMb", Report.mmmJson(rss));
            j.put("zipBytes", sz[0]);
            j.put("unzippedBytes", sz[1]);
            j.put("jars", sz[2]);
            j.put("statuses", statuses);
            json.put(f.name(), j);
        }
        report.json.put("coldStart", json);
        report.add(new Report.Table("cold", "Cold start per function: fresh JVM under the Lambda Runtime Interface Emulator, median (min-max) of "
                + runs + " runs", List.of("function", "init ms", "first invocation ms", "init + first ms", "vs floor", "cold request wall ms",
                "peak RSS MB", "zip MB", "unzipped MB", "jars", "answer"), rows,
                List.of("init: the emulator's exec of the JVM until the runtime asks for the first event (INIT RTDONE), from the emulator's log (ms resolution)",
                        "first invocation: the emulator's INVOKE RTDONE duration; vs floor: init + first of the function over the floor's in the same round, median of the rounds",
                        "cold request wall: the invoke request as the harness saw it (process start, init and invocation, and the emulator's own work)",
                        "peak RSS: VmHWM of the function's JVM after its first invocation; answer: statusCode of the HTTP functions' response, 'ok' for stream batches without failures",
                        "JVM: " + String.join(" ", JVM_FLAGS))));
        deleteTree(work);
    }

    private static Path fnZip(Path repo, String module) {
        return repo.resolve("functions/" + module + "/target/lambda.zip");
    }

    static Run once(Fn f, Path task, Map<String, String> env, Path rie, Path java, String runtimeCp, HttpClient http,
                    String event, Path work) throws Exception {
        int apiPort = freePort(), riePort = freePort();
        List<String> cmd = new ArrayList<>(List.of(rie.toString(),
                "--runtime-interface-emulator-address", "127.0.0.1:" + riePort,
                "--runtime-api-address", "127.0.0.1:" + apiPort, java.toString()));
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(List.of("-cp", runtimeCp, "com.amazonaws.services.lambda.runtime.api.client.AWSLambda", f.handler()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(task.toFile()).redirectErrorStream(true);
        Path log = work.resolve("rie-" + System.nanoTime() + ".log");
        pb.redirectOutput(log.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.environment().put("LAMBDA_TASK_ROOT", task.toString());
        pb.environment().put("AWS_LAMBDA_FUNCTION_NAME", f.name().replaceAll("[^A-Za-z]", ""));
        pb.environment().put("_HANDLER", f.handler());
        Process p = pb.start();
        try {
            waitForPort(riePort, p);
            long t0 = System.nanoTime();
            HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + riePort + "/2015-03-31/functions/function/invocations"))
                    .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(event)).build(), HttpResponse.BodyHandlers.ofString());
            double wall = (System.nanoTime() - t0) / 1e6;
            double rss = peakRssMb(p);
            String text = waitForLog(log, "INVOKE RTDONE");
            double init = between(text, "\\(rapid\\) exec '", "INIT RTDONE");
            double invoke = invokeDuration(text);
            String status = status(resp.body());
            if (!status.matches("2\\d\\d|ok")) Report.progress("  " + f.name() + " answered " + abbreviate(resp.body()));
            return new Run(init, invoke, wall, rss, status);
        } finally {
            List<ProcessHandle> kids = p.descendants().toList();
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
            for (ProcessHandle k : kids) if (k.isAlive()) k.destroyForcibly();
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    private static String status(String body) {
        try {
            Map<String, Object> m = Json.parseObject(body);
            if (m.containsKey("statusCode")) return m.get("statusCode").toString();
            if (m.containsKey("batchItemFailures")) return m.get("batchItemFailures") instanceof List<?> l && l.isEmpty() ? "ok" : "failures";
            if (m.containsKey("errorType")) return "error " + m.get("errorType");
        } catch (Exception e) {
            // fall through
        }
        return "?";
    }

    private static final DateTimeFormatter RAPID = DateTimeFormatter.ofPattern("dd MMM yyyy HH:mm:ss,SSS", Locale.ENGLISH);
    private static final Pattern STAMP = Pattern.compile("^(\\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2},\\d{3})");

    /** Milliseconds between the first log line matching {@code from} and the first matching {@code to}. */
    static double between(String log, String from, String to) {
        LocalDateTime a = null, b = null;
        Pattern pf = Pattern.compile(from), pt = Pattern.compile(to);
        for (String line : log.split("\n")) {
            Matcher m = STAMP.matcher(line);
            if (!m.find()) continue;
            if (a == null && pf.matcher(line).find()) a = LocalDateTime.parse(m.group(1), RAPID);
            else if (a != null && b == null && pt.matcher(line).find()) b = LocalDateTime.parse(m.group(1), RAPID);
        }
        return a == null || b == null ? Double.NaN : ChronoUnit.MICROS.between(a, b) / 1000.0;
    }

    static double invokeDuration(String log) {
        Matcher m = Pattern.compile("INVOKE RTDONE\\(status: \\w+, produced bytes: \\d+, duration: ([0-9.]+)ms\\)").matcher(log);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static String waitForLog(Path log, String marker) throws Exception {
        for (int i = 0; i < 100; i++) {
            String s = Files.readString(log);
            if (s.contains(marker)) return s;
            Thread.sleep(20);
        }
        return Files.readString(log);
    }

    private static double peakRssMb(Process rie) throws IOException {
        for (ProcessHandle h : rie.descendants().toList()) {
            String cmd = h.info().command().orElse("");
            if (cmd.endsWith("/java")) {
                for (String line : Files.readAllLines(Path.of("/proc/" + h.pid() + "/status"))) {
                    if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        }
        return Double.NaN;
    }

    private static void waitForPort(int port, Process p) throws Exception {
        for (int i = 0; i < 500; i++) {
            if (!p.isAlive()) throw new IllegalStateException("the emulator exited with " + p.exitValue());
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(10);
            }
        }
        throw new IllegalStateException("the emulator did not listen on " + port);
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Unzips; returns {zip bytes, unzipped bytes, jars in lib/}. */
    static long[] unzip(Path zip, Path dir) throws IOException {
        long total = 0, jars = 0;
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (var e : java.util.Collections.list(z.entries())) {
                Path out = dir.resolve(e.getName()).normalize();
                if (!out.startsWith(dir)) throw new IOException("bad entry " + e.getName());
                if (e.isDirectory()) { Files.createDirectories(out); continue; }
                Files.createDirectories(out.getParent());
                try (var in = z.getInputStream(e)) { total += Files.copy(in, out); }
                if (e.getName().startsWith("lib/") && e.getName().endsWith(".jar")) jars++;
            }
        }
        return new long[]{Files.size(zip), total, jars};
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    // ---------------------------------------------------------------- stream and webhook events

    private static String aggregatorEvent(Fixture fx, String account, int run) {
        String id = "cold-agg-" + run + "-" + System.nanoTime();
        LedgerEntry e = new LedgerEntry(new AccountId(account), "usage#" + id, EntryType.AI_TOKENS, -300,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), null, id, "gpt-4o-mini", 1200L, 350L, null, null, Map.of(), "bench", null, "h-" + id);
        fx.store.post(e);
        Map<String, AttributeValue> key = Items.entryKey(e.accountId(), e.entryId());
        Map<String, AttributeValue> item = fx.client.getItem(b -> b.tableName(Fixture.LEDGER).key(key).consistentRead(true)).item();
        return Events.stream("INSERT", "NEW_IMAGE", key, null, item, Fixture.LEDGER);
    }

    /** An account pushed below its soft limit by a charge: the MODIFY record the alert function's filter lets through. */
    private static String alertEvent(Fixture fx, int run) {
        String account = "cold-alert-" + run + "-" + (System.nanoTime() % 100000);
        fx.account(account, 1, 1L); // balance 1, soft limit 1 ... then charge 0.5
        Map<String, AttributeValue> key = Map.of("accountId", AttributeValue.builder().s(account).build());
        Map<String, AttributeValue> before = fx.client.getItem(b -> b.tableName(Fixture.ACCOUNTS).key(key).consistentRead(true)).item();
        fx.store.post(new LedgerEntry(new AccountId(account), "usage#drop", EntryType.AI_TOKENS, -500_000,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), null, "drop", "gpt-4o-mini", 1000L, 1000L, null, null, Map.of(), "bench", null, "h-drop"));
        Map<String, AttributeValue> after = fx.client.getItem(b -> b.tableName(Fixture.ACCOUNTS).key(key).consistentRead(true)).item();
        return Events.stream("MODIFY", "NEW_AND_OLD_IMAGES", key, before, after, Fixture.ACCOUNTS);
    }

    private static String webhookEvent(String account, int run) {
        String session = "cs_test_cold_" + run + "_" + System.nanoTime();
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("id", session);
        object.put("object", "checkout.session");
        object.put("amount_subtotal", 500L);
        object.put("amount_total", 500L);
        object.put("client_reference_id", account);
        object.put("currency", "usd");
        object.put("livemode", false);
        object.put("metadata", Map.of("accountId", account, "credits", "5"));
        object.put("mode", "payment");
        object.put("payment_intent", "pi_cold_" + run + "_" + System.nanoTime());
        object.put("payment_status", "paid");
        object.put("status", "complete");
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("id", "evt_cold_" + run + "_" + System.nanoTime());
        event.put("object", "event");
        event.put("api_version", "2026-07-29.dahlia");
        event.put("created", Instant.now().getEpochSecond());
        event.put("data", Map.of("object", object));
        event.put("livemode", false);
        event.put("type", "checkout.session.completed");
        String body = Json.write(event);
        String signature = new StripeSignature("whsec_x", StripeSignature.DEFAULT_TOLERANCE_SECONDS, Clock.systemUTC()).header(body);
        return Events.json(new Events.Http("POST", "/v1/stripe/webhook", "/v1/stripe/webhook", Map.of(), Map.of(),
                Map.of("stripe-signature", signature, "user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"), body, Events.Who.none()));
    }
}
