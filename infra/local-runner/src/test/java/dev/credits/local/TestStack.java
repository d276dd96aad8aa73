package dev.credits.local;

import dev.credits.core.json.Json;
import dev.credits.core.store.StoreConfig;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One local stack per test JVM (the DynamoDB stand-in, moto with requests serialized, the template's tables, the HTTP
 * runner on a free port), shared by every test class; each test uses fresh account ids, so tests do not see each
 * other's data. Streams are not polled in the background: a test calls {@link #drain()} when it wants the aggregates
 * current. With -Dcontract.backend=localstack the runner's SNS and SQS are LocalStack's ({@link StackBackend}), and
 * the same test classes run against it; DynamoDB stays moto there too (LocalStack's DynamoDB is DynamoDB Local).
 */
public final class TestStack {
    private static LocalRunner runner;

    private TestStack() {}

    public static synchronized LocalRunner runner() {
        if (runner == null) {
            runner = LocalRunner.start(new LocalRunner.Options("127.0.0.1", 0, 0,
                    new LocalJwt(LocalJwt.DEFAULT_SECRET, java.time.Clock.systemUTC()), messagingEndpoint(),
                    stripeMock(), LocalRunner.Options.LOCAL_STRIPE_KEY, WEBHOOK_SECRET,
                    Map.of("PLAN_CREDITS", "price_test_starter=1000,price_test_pro=5000.5"), null));
            Runtime.getRuntime().addShutdownHook(new Thread(runner::close));
        }
        return runner;
    }

    public static final String WEBHOOK_SECRET = "whsec_test_secret_for_the_suite";

    /** stripe-mock, started by the test command, or null when tests run without it. */
    public static String stripeMock() {
        String e = System.getenv("STRIPE_MOCK_URL");
        return e == null || e.isBlank() ? null : e;
    }

    /**
     * The SNS/SQS API: LocalStack's on that backend, else the moto server the test command starts (MOTO_ENDPOINT), or
     * null when tests run without it.
     */
    public static String messagingEndpoint() {
        if (StackBackend.localstack()) return StackBackend.endpoint();
        String e = System.getenv("MOTO_ENDPOINT");
        return e == null || e.isBlank() ? null : e;
    }

    /**
     * How long an SQS receive waits for a message the SNS API may still be delivering: moto delivers before Publish
     * returns; LocalStack, like SNS itself, delivers a moment later.
     */
    public static int deliveryWaitSeconds() {
        return StackBackend.localstack() ? 1 : 0;
    }

    public static StoreConfig storeConfig() {
        return StoreConfig.fromEnv(runner().functionEnv());
    }

    /** moto has a write's stream record before the write returns (the real service publishes it a little later). */
    public static void drain() {
        runner().drainStreams(0);
    }

    public static String newAccountId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 12);
    }

    public static String admin() {
        return runner().jwt().issue("test-admin", null, List.of("credits/admin"), 3600);
    }

    public static String metering() {
        return runner().jwt().issue("test-metering", null, List.of("credits/metering"), 3600);
    }

    public static String owner(String account) {
        return runner().jwt().issue("owner-" + account, account, List.of(), 3600);
    }

    /** A response: status, parsed JSON body (or empty), headers. */
    public record Resp(int status, Map<String, Object> body, HttpResponse<String> raw) {
        @SuppressWarnings("unchecked")
        public Map<String, Object> error() { return (Map<String, Object>) body.get("error"); }
        public String code() { return error() == null ? null : (String) error().get("code"); }
        public BigDecimal num(String field) { return (BigDecimal) body.get(field); }
        @SuppressWarnings("unchecked")
        public List<Map<String, Object>> items() { return (List<Map<String, Object>>) body.get("items"); }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public static Resp call(String method, String path, String token, String body) {
        return call(method, path, token, body, "application/json");
    }

    public static Resp call(String method, String path, String token, String body, String contentType) {
        return callWithHeaders(method, path, body, body == null ? null : contentType,
                token == null ? Map.of() : Map.of("Authorization", "Bearer " + token));
    }

    /** A request with these headers (a bearer token among them, or a Stripe signature). */
    public static Resp callWithHeaders(String method, String path, String body, String contentType, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(runner().baseUrl() + path)).timeout(Duration.ofSeconds(30));
        if (contentType != null) b.header("Content-Type", contentType);
        headers.forEach(b::header);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            Map<String, Object> parsed = r.body() == null || r.body().isBlank() ? Map.of() : Json.parseObject(r.body());
            return new Resp(r.statusCode(), parsed, r);
        } catch (IOException | InterruptedException | Json.MalformedJsonException e) {
            throw new AssertionError("request failed: " + method + " " + path, e);
        }
    }

    /**
     * What a client does with a 503 (which says: the outcome is unknown, retry): sends the same request again, after
     * the Retry-After the answer must carry. For racing tests on a loaded machine, where the DynamoDB stand-in can time out;
     * every retried request is idempotent by its id, so the books must come out the same.
     */
    public static Resp retrying(java.util.function.Supplier<Resp> request) {
        Resp r = request.get();
        for (int attempt = 1; r.status() == 503 && attempt < 10; attempt++) {
            String after = r.raw().headers().firstValue("Retry-After").orElse(null);
            if (after == null) throw new AssertionError("a 503 without Retry-After: " + r.raw().body());
            try {
                Thread.sleep(50L * attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            r = request.get();
        }
        return r;
    }

    /**
     * A GET. Usage reaches History when the aggregator counts it from the ledger stream, so a GET of History first
     * lets the stream be read, as a user would see it a moment after the charge. A test of what is visible before that,
     * or of a stream consumer of its own (the fault tests), uses {@link #call} directly; the Overview's tests drain
     * explicitly, as before.
     */
    public static Resp get(String path, String token) {
        if (HISTORY.matcher(path).lookingAt()) drain();
        return call("GET", path, token, null);
    }

    private static final java.util.regex.Pattern HISTORY = java.util.regex.Pattern.compile("/v1/accounts/[^/?]+/usage(\\?|$)");
    public static Resp post(String path, String token, String body) { return call("POST", path, token, body); }
    public static Resp put(String path, String token, String body) { return call("PUT", path, token, body); }

    /** Creates an account and grants it credits; returns its id. */
    public static String fundedAccount(String prefix, String credits) {
        String id = newAccountId(prefix);
        Resp c = post("/v1/accounts", admin(), "{\"accountId\":\"" + id + "\"}");
        // 200: the same create seen again (the SDK retried after a slow answer, which a loaded machine produces)
        if (c.status() != 201 && c.status() != 200) throw new AssertionError("create failed: " + c.raw().body());
        if (credits != null) {
            Resp g = post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":" + credits + ",\"reason\":\"test funds\"}");
            if (g.status() != 201) throw new AssertionError("grant failed: " + g.raw().body());
        }
        return id;
    }

    public static BigDecimal balance(String account) {
        return get("/v1/accounts/" + account, admin()).num("balance");
    }

    public static String aiEvent(String eventId, String model, long in, long out) {
        return "{\"eventId\":\"" + eventId + "\",\"type\":\"ai_tokens\",\"model\":\"" + model
                + "\",\"inputTokens\":" + in + ",\"outputTokens\":" + out + "}";
    }

    public static String unitsEvent(String eventId, long units) {
        return "{\"eventId\":\"" + eventId + "\",\"type\":\"workload_units\",\"units\":" + units + "}";
    }
}
