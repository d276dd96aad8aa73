package dev.credits.local;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.credits.core.json.Json;
import dev.credits.core.log.Log;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The whole stack on one machine: the DynamoDB stand-in (moto, a child process), the template's tables, and an HTTP server on
 * 127.0.0.1 that turns each request into the API Gateway HTTP API 2.0 event API Gateway would build and calls the
 * same handler classes the template deploys. Stream-fed functions are driven by {@link StreamPoller}s.
 */
public final class LocalRunner implements AutoCloseable {
    /** API Gateway HTTP API's own payload limit. */
    static final int MAX_PAYLOAD = 10 * 1024 * 1024;
    private static final DateTimeFormatter REQUEST_TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH)
            .withZone(ZoneOffset.UTC);

    /**
     * @param snsEndpoint   an SNS API (moto) to create the template's topics on and publish to, or null to log alerts
     * @param stripeApiBase the Stripe API to create Checkout Sessions on (stripe-mock), or null for api.stripe.com
     * @param stripeApiKey  the Stripe secret key the top-ups function uses (a test key; stripe-mock takes any)
     * @param stripeWebhookSecret the signing secret webhooks must verify with (what `stripe listen` prints)
     * @param envOverrides  values that replace template parameters' defaults in every function's environment
     *                      (e.g. PLAN_CREDITS)
     * @param dynamoEndpoint a DynamoDB (and DynamoDB Streams) API to create the tables on and point the functions at,
     *                      e.g. LocalStack's; null for the moto stand-in the runner starts
     */
    public record Options(String host, int port, long streamPollMillis, LocalJwt jwt, String snsEndpoint,
                          String stripeApiBase, String stripeApiKey, String stripeWebhookSecret, Map<String, String> envOverrides,
                          String dynamoEndpoint) {
        public static final String LOCAL_WEBHOOK_SECRET = "whsec_local_development_only";
        public static final String LOCAL_STRIPE_KEY = "sk_test_localDevelopmentOnly";

        public Options(String host, int port, long streamPollMillis, LocalJwt jwt, String snsEndpoint,
                       String stripeApiBase, String stripeApiKey, String stripeWebhookSecret, Map<String, String> envOverrides) {
            this(host, port, streamPollMillis, jwt, snsEndpoint, stripeApiBase, stripeApiKey, stripeWebhookSecret,
                    envOverrides, null);
        }

        public Options(String host, int port, long streamPollMillis, LocalJwt jwt, String snsEndpoint) {
            this(host, port, streamPollMillis, jwt, snsEndpoint, null, LOCAL_STRIPE_KEY, LOCAL_WEBHOOK_SECRET, Map.of());
        }
    }

    private record BoundRoute(Template.Route route, Pattern pattern, List<String> params,
                              RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> handler, String function) {}

    private final LocalDynamo dynamo;
    private final DynamoDbClient client;
    private final DynamoDbStreamsClient streamsClient;
    private final HttpServer server;
    private final List<BoundRoute> routes = new ArrayList<>();
    private final List<StreamPoller> pollers = new ArrayList<>();
    /** Functions the template runs on a schedule (EventBridge); locally every 30 seconds, or by {@link #runSchedules}. */
    private record Scheduled(String function, RequestHandler<Map<String, Object>, Object> handler) {}
    private final List<Scheduled> scheduled = new ArrayList<>();
    private final ScheduledExecutorService scheduler;
    private final LocalJwt jwt;
    private final Map<String, String> functionEnv;
    private final StaticFiles console = new StaticFiles(Template.locate().getParent().resolve("console/dist"));

    private LocalRunner(Options o) throws IOException {
        this.jwt = o.jwt();
        Template template = Template.read(Template.locate());
        LocalDynamo.standInCredentials();
        this.dynamo = o.dynamoEndpoint() == null ? LocalDynamo.start() : LocalDynamo.external(o.dynamoEndpoint());
        this.client = dynamo.client();
        this.streamsClient = dynamo.streamsClient();
        dynamo.createTables(template, client);
        Map<String, String> refs = new LinkedHashMap<>(template.parameterDefaults());
        for (Template.Table t : template.tables()) refs.put(t.logicalId(), t.logicalId()); // a table is named by its logical id
        for (String topic : template.topics()) refs.put(topic, topicArn(topic, o.snsEndpoint()));
        for (String secret : template.resourcesOfType("AWS::SecretsManager::Secret")) refs.put(secret, "local-secret:" + secret);
        this.server = HttpServer.create(new InetSocketAddress(o.host(), o.port()), 256);
        String self = "http://127.0.0.1:" + server.getAddress().getPort();
        this.functionEnv = new LinkedHashMap<>();
        for (Template.Function f : template.functions()) {
            Map<String, String> env = resolveEnv(f.environment(), refs);
            env.put("AWS_REGION", "us-east-1");
            env.put(dev.credits.core.store.StoreConfig.ENDPOINT_VARIABLE, dynamo.endpoint());
            if (o.snsEndpoint() != null) env.put("SNS_ENDPOINT", o.snsEndpoint());
            // Stripe: keys straight from the runner's options (deployed they come from Secrets Manager)
            if (env.containsKey("STRIPE_API_KEY_ARN")) {
                env.put("STRIPE_API_KEY", o.stripeApiKey());
                if (o.stripeApiBase() != null) env.put("STRIPE_API_BASE", o.stripeApiBase());
                env.put("TOPUP_SUCCESS_URL", self + "/billing/topup/return?session_id={CHECKOUT_SESSION_ID}");
                env.put("TOPUP_CANCEL_URL", self + "/billing/topup/cancelled");
            }
            if (env.containsKey("STRIPE_WEBHOOK_SECRET_ARN")) env.put("STRIPE_WEBHOOK_SECRET", o.stripeWebhookSecret());
            o.envOverrides().forEach((k, val) -> { if (env.containsKey(k)) env.put(k, val); });
            env.put("AWS_LAMBDA_FUNCTION_NAME", f.logicalId());
            functionEnv.putAll(env);
            Object handler = instantiate(f.handlerClass(), env);
            for (Template.Route r : f.routes()) {
                List<String> params = new ArrayList<>();
                Matcher m = Pattern.compile("\\{([^}/]+)}").matcher(r.path());
                StringBuilder regex = new StringBuilder();
                int last = 0;
                while (m.find()) {
                    regex.append(Pattern.quote(r.path().substring(last, m.start()))).append("([^/]+)");
                    params.add(m.group(1));
                    last = m.end();
                }
                regex.append(Pattern.quote(r.path().substring(last)));
                @SuppressWarnings("unchecked")
                var h = (RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse>) handler;
                routes.add(new BoundRoute(r, Pattern.compile(regex.toString()), params, h, f.logicalId()));
            }
            if (!f.schedules().isEmpty()) {
                @SuppressWarnings("unchecked")
                var h = (RequestHandler<Map<String, Object>, Object>) handler;
                scheduled.add(new Scheduled(f.logicalId(), h));
            }
            for (Template.StreamSource s : f.streams()) {
                @SuppressWarnings("unchecked")
                var h = (RequestHandler<DynamodbEvent, StreamsEventResponse>) handler;
                pollers.add(new StreamPoller(s.tableLogicalId(), client, streamsClient, h, s.filterPatterns()));
            }
        }
        server.createContext("/", this::serve);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "stream-poller");
            t.setDaemon(true);
            return t;
        });
        if (o.streamPollMillis() > 0) {
            scheduler.scheduleWithFixedDelay(this::pollQuietly, o.streamPollMillis(), o.streamPollMillis(), TimeUnit.MILLISECONDS);
            scheduler.scheduleWithFixedDelay(this::runSchedulesQuietly, 30, 30, TimeUnit.SECONDS);
        }
    }

    public static LocalRunner start(Options options) {
        try {
            return new LocalRunner(options);
        } catch (IOException e) {
            throw new IllegalStateException("the local runner did not start", e);
        }
    }

    public int port() { return server.getAddress().getPort(); }
    public String baseUrl() { return "http://127.0.0.1:" + port(); }
    public DynamoDbClient dynamo() { return client; }
    public DynamoDbStreamsClient streams() { return streamsClient; }
    public String dynamoEndpoint() { return dynamo.endpoint(); }
    public LocalJwt jwt() { return jwt; }
    /** The environment the functions were given (table names, endpoint). */
    public Map<String, String> functionEnv() { return Map.copyOf(functionEnv); }

    /** Polls every stream until a pass reads nothing: after this, the aggregates reflect every write made before. */
    public void drainStreams() {
        drainStreams(0);
    }

    /**
     * As {@link #drainStreams()}, for a streams API that may publish a write's record a little after the write returns
     * (LocalStack, like the real service): a pass that reads nothing counts only once another pass, settleMillis
     * later, reads nothing too. The moto stand-in has the record before the write returns (settle 0).
     */
    public void drainStreams(long settleMillis) {
        for (int i = 0; i < 1000; i++) {
            int read = 0;
            for (StreamPoller p : pollers) read += p.pollOnce();
            if (read > 0) continue;
            if (settleMillis <= 0) return;
            try {
                Thread.sleep(settleMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            for (StreamPoller p : pollers) read += p.pollOnce();
            if (read == 0) return;
        }
    }

    /**
     * Like {@link #drainStreams()}, for one table's stream only: a test that checks alerts after every step (the
     * accounts stream) need not wait on the daily totals each time; the next full drain catches those up.
     */
    public void drainStreams(String table) {
        for (int i = 0; i < 1000; i++) {
            int read = 0;
            for (StreamPoller p : pollers) if (p.table().equals(table)) read += p.pollOnce();
            if (read == 0) return;
        }
    }

    /** Runs every scheduled function once, now (as EventBridge would on its next tick). */
    public void runSchedules() {
        for (Scheduled s : scheduled) {
            s.handler().handleRequest(Map.of("source", "aws.scheduler", "detail-type", "Scheduled Event"), new LocalContext(s.function()));
        }
    }

    private void runSchedulesQuietly() {
        try {
            runSchedules();
        } catch (RuntimeException e) {
            Log.warn("schedule_failed", "-", "cause", e.getClass().getName());
        }
    }

    private void pollQuietly() {
        try {
            for (StreamPoller p : pollers) p.pollOnce();
        } catch (RuntimeException e) {
            Log.warn("stream_poll_failed", "-", "cause", e.getClass().getName(), "message", String.valueOf(e.getMessage()));
        }
    }

    private static Map<String, String> resolveEnv(Map<String, Object> raw, Map<String, String> refs) {
        Map<String, String> env = new LinkedHashMap<>();
        raw.forEach((k, v) -> {
            if (v instanceof String s) {
                if (!k.equals("JAVA_TOOL_OPTIONS")) env.put(k, s);
            } else if (v instanceof Map<?, ?> m && m.get("Ref") instanceof String ref && refs.containsKey(ref)) {
                env.put(k, refs.get(ref));
            }
        });
        return env;
    }

    /** Creates the topic on the SNS endpoint (idempotent), or names the log-only stand-in when there is none. */
    private static String topicArn(String logicalId, String snsEndpoint) {
        if (snsEndpoint == null) return "local-log:" + logicalId;
        try (var sns = dev.credits.alerts.AlertHandler.sns(Map.of("SNS_ENDPOINT", snsEndpoint, "AWS_REGION", "us-east-1"))) {
            return sns.createTopic(b -> b.name(logicalId)).topicArn();
        }
    }

    static Object instantiate(String className, Map<String, String> env) {
        try {
            return Class.forName(className).getConstructor(Map.class).newInstance(env);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build handler " + className + " (it needs a public constructor taking the environment map)", e);
        }
    }

    // ---------------------------------------------------------------- HTTP

    private void serve(HttpExchange x) throws IOException {
        long start = System.nanoTime();
        String requestId = UUID.randomUUID().toString();
        String method = x.getRequestMethod().toUpperCase(Locale.ROOT);
        String rawPath = x.getRequestURI().getRawPath();
        int status;
        try {
            byte[] body = readBody(x.getRequestBody());
            if (body == null) {
                status = answer(x, 413, error("payload_too_large", "The request body is larger than " + MAX_PAYLOAD + " bytes."));
                logLocal(requestId, method, rawPath, status, start);
                return;
            }
            if (rawPath.startsWith("/local/")) {
                status = localEndpoint(x, method, rawPath, body);
                logLocal(requestId, method, rawPath, status, start);
                return;
            }
            if (method.equals("GET") && rawPath.equals("/openapi.yaml")) {
                byte[] doc = java.nio.file.Files.readAllBytes(Template.locate().getParent().resolve("docs/openapi.yaml"));
                x.getResponseHeaders().add("content-type", "application/yaml");
                x.sendResponseHeaders(200, doc.length);
                try (OutputStream os = x.getResponseBody()) { os.write(doc); }
                logLocal(requestId, method, rawPath, 200, start);
                return;
            }
            if ((method.equals("GET") || method.equals("HEAD")) && !rawPath.startsWith("/v1/")) {
                status = console.serve(x, rawPath, method.equals("HEAD"));
                logLocal(requestId, method, rawPath, status, start);
                return;
            }
            BoundRoute route = null;
            Matcher match = null;
            for (BoundRoute r : routes) {
                Matcher m = r.pattern().matcher(rawPath);
                if (m.matches() && r.route().method().equals(method)) { route = r; match = m; break; }
            }
            if (route == null) {
                status = answer(x, 404, error("not_found", "No route " + method + " " + rawPath + "."));
                logLocal(requestId, method, rawPath, status, start);
                return;
            }
            LocalJwt.Claims claims = null;
            if (route.route().authorized()) {
                String auth = x.getRequestHeaders().getFirst("Authorization");
                String token = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : null;
                claims = jwt.verify(token).orElse(null);
                if (claims == null) {
                    status = answer(x, 401, error("unauthenticated", "A valid bearer token is required (make token ROLE=... ACCOUNT=...)."));
                    logLocal(requestId, method, rawPath, status, start);
                    return;
                }
            }
            APIGatewayV2HTTPEvent event;
            try {
                event = event(x, route, match, body, claims, requestId, method, rawPath);
            } catch (IllegalArgumentException badEscape) {
                // API Gateway refuses a malformed percent-encoding before any function runs
                status = answer(x, 400, error("invalid_request", "The path or query string has a malformed %-escape."));
                logLocal(requestId, method, rawPath, status, start);
                return;
            }
            APIGatewayV2HTTPResponse response;
            try {
                response = route.handler().handleRequest(event, new LocalContext(route.function(), requestId));
            } catch (RuntimeException e) {
                Log.error("handler_threw", requestId, "function", route.function(), "cause", e.getClass().getName());
                response = APIGatewayV2HTTPResponse.builder().withStatusCode(500)
                        .withHeaders(Map.of("content-type", "application/json"))
                        .withBody(error("internal", "Something went wrong on our side; it has been logged.")).build();
            }
            write(x, response);
        } catch (IOException | RuntimeException e) {
            Log.error("local_runner_failed", requestId, "cause", e.getClass().getName());
            try {
                answer(x, 500, error("internal", "The local runner failed to serve this request."));
            } catch (IOException ignored) {
                // the client went away
            }
        } finally {
            x.close();
        }
    }

    /**
     * Endpoints that exist only in the local runner, for the console's local sign-in: {@code GET /local/accounts}
     * (the account ids, by a Scan: never on a deployed path) and {@code POST /local/token} (a token as
     * {@code make token} prints it).
     */
    private int localEndpoint(HttpExchange x, String method, String path, byte[] body) throws IOException {
        if (method.equals("GET") && path.equals("/local/accounts")) {
            List<Object> ids = new ArrayList<>();
            client.scanPaginator(b -> b.tableName("AccountsTable").projectionExpression("accountId, #s").expressionAttributeNames(Map.of("#s", "status")))
                    .items().forEach(i -> ids.add(Map.of("accountId", i.get("accountId").s(), "status", i.get("status").s())));
            return answer(x, 200, Json.write(Map.of("accounts", ids)));
        }
        if (method.equals("POST") && path.equals("/local/token")) {
            Map<String, Object> req;
            try {
                req = Json.parseObject(new String(body, java.nio.charset.StandardCharsets.UTF_8));
            } catch (Json.MalformedJsonException e) {
                return answer(x, 400, error("invalid_request", "Send {\"role\": \"owner|metering|admin\", \"accountId\": \"...\"}."));
            }
            String role = String.valueOf(req.get("role"));
            Object acct = req.get("accountId");
            String token = switch (role) {
                case "owner" -> acct instanceof String a && dev.credits.core.domain.AccountId.isValid(a)
                        ? jwt.issue("owner-of-" + a, a, List.of(), 12 * 3600) : null;
                case "admin" -> jwt.issue("platform-admin", null, List.of("credits/admin"), 12 * 3600);
                case "metering" -> jwt.issue("metering-service", null, List.of("credits/metering"), 12 * 3600);
                default -> null;
            };
            if (token == null) return answer(x, 400, error("invalid_request", "role must be owner (with a valid accountId), metering or admin."));
            return answer(x, 200, Json.write(Map.of("token", token, "role", role)));
        }
        return answer(x, 404, error("not_found", "No local endpoint " + method + " " + path + "."));
    }

    private APIGatewayV2HTTPEvent event(HttpExchange x, BoundRoute route, Matcher match, byte[] body,
                                        LocalJwt.Claims claims, String requestId, String method, String rawPath) {
        Map<String, String> headers = new LinkedHashMap<>();
        List<String> cookies = new ArrayList<>();
        x.getRequestHeaders().forEach((k, v) -> {
            String name = k.toLowerCase(Locale.ROOT);
            if (name.equals("cookie")) {
                for (String c : v) for (String part : c.split(";")) if (!part.isBlank()) cookies.add(part.trim());
            } else {
                headers.put(name, String.join(",", v));
            }
        });
        Map<String, String> pathParams = new LinkedHashMap<>();
        for (int i = 0; i < route.params().size(); i++) {
            pathParams.put(route.params().get(i), URLDecoder.decode(match.group(i + 1), StandardCharsets.UTF_8));
        }
        String rawQuery = x.getRequestURI().getRawQuery();
        Map<String, String> query = new LinkedHashMap<>();
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) continue;
                int eq = pair.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                query.merge(k, v, (a, b) -> a + "," + b);
            }
        }
        String contentType = headers.getOrDefault("content-type", "").toLowerCase(Locale.ROOT);
        boolean text = contentType.isEmpty() || contentType.startsWith("text/") || contentType.contains("json")
                || contentType.contains("xml") || contentType.contains("x-www-form-urlencoded") || contentType.contains("javascript");
        long now = System.currentTimeMillis();
        var http = APIGatewayV2HTTPEvent.RequestContext.Http.builder()
                .withMethod(method).withPath(rawPath).withProtocol("HTTP/1.1")
                .withSourceIp(x.getRemoteAddress().getAddress().getHostAddress())
                .withUserAgent(headers.getOrDefault("user-agent", "")).build();
        var rc = APIGatewayV2HTTPEvent.RequestContext.builder()
                .withAccountId("000000000000").withApiId("local").withDomainName("127.0.0.1").withDomainPrefix("local")
                .withHttp(http).withRequestId(requestId).withRouteKey(route.route().routeKey()).withStage("$default")
                .withTime(REQUEST_TIME.format(Instant.ofEpochMilli(now))).withTimeEpoch(now);
        if (claims != null) {
            var jwtDesc = APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                    .withClaims(claims.claims()).withScopes(claims.scopes().isEmpty() ? null : claims.scopes()).build();
            rc.withAuthorizer(APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder().withJwt(jwtDesc).build());
        }
        return APIGatewayV2HTTPEvent.builder()
                .withVersion("2.0")
                .withRouteKey(route.route().routeKey())
                .withRawPath(rawPath)
                .withRawQueryString(rawQuery == null ? "" : rawQuery)
                .withCookies(cookies.isEmpty() ? null : cookies)
                .withHeaders(headers)
                .withQueryStringParameters(query.isEmpty() ? null : query)
                .withPathParameters(pathParams.isEmpty() ? null : pathParams)
                .withRequestContext(rc.build())
                .withBody(body.length == 0 ? null : text ? new String(body, StandardCharsets.UTF_8) : Base64.getEncoder().encodeToString(body))
                .withIsBase64Encoded(body.length > 0 && !text)
                .build();
    }

    private static byte[] readBody(InputStream in) throws IOException {
        byte[] data = in.readNBytes(MAX_PAYLOAD + 1);
        return data.length > MAX_PAYLOAD ? null : data;
    }

    private static void write(HttpExchange x, APIGatewayV2HTTPResponse r) throws IOException {
        if (r.getHeaders() != null) r.getHeaders().forEach((k, v) -> x.getResponseHeaders().add(k, v));
        byte[] body = r.getBody() == null ? new byte[0]
                : r.getIsBase64Encoded() ? Base64.getDecoder().decode(r.getBody()) : r.getBody().getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(r.getStatusCode(), body.length == 0 ? -1 : body.length);
        if (body.length > 0) try (OutputStream os = x.getResponseBody()) { os.write(body); }
    }

    static int answer(HttpExchange x, int status, String json) throws IOException {
        x.getResponseHeaders().add("content-type", "application/json");
        if (x.getRequestMethod().equalsIgnoreCase("HEAD")) {
            x.sendResponseHeaders(status, -1);
            return status;
        }
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, b.length);
        try (OutputStream os = x.getResponseBody()) { os.write(b); }
        return status;
    }

    static String error(String code, String message) {
        return Json.write(Map.of("error", Map.of("code", code, "message", message)));
    }

    /** One line for a request the runner answered itself; handlers log their own requests. */
    private static void logLocal(String requestId, String method, String path, int status, long start) {
        Log.info("request", requestId, "route", method + " " + path, "status", status, "answeredBy", "local-runner",
                "durationMs", (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        server.stop(0);
        client.close();
        streamsClient.close();
        dynamo.close();
    }
}
