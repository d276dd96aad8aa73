package dev.credits.bench;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import dev.credits.core.json.Json;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Realistic events: API Gateway HTTP API 2.0 (with the JWT authorizer's claims) and DynamoDB stream records. */
final class Events {
    private Events() {}

    /** Who calls: JWT claims as API Gateway's JWT authorizer passes them, and the token's scopes. */
    record Who(Map<String, String> claims, List<String> scopes) {
        static Who metering() { return new Who(Map.of("sub", "metering-service", "scope", "credits/metering", "aud", "credits-api"), List.of("credits/metering")); }
        static Who admin() { return new Who(Map.of("sub", "platform-admin", "scope", "credits/admin", "aud", "credits-api"), List.of("credits/admin")); }
        static Who owner(String account) { return new Who(Map.of("sub", "owner-" + account, "account_id", account, "aud", "credits-api"), List.of()); }
        static Who none() { return new Who(Map.of(), List.of()); }
    }

    record Http(String method, String route, String path, Map<String, String> pathParams, Map<String, String> query,
                Map<String, String> headers, String body, Who who) {
        String routeKey() { return method + " " + route; }
    }

    /** The same event with {@code Prefer: return=minimal}: the answer leaves out the balance, the charge is one request. */
    static Http usageMinimal(String account, String eventId) {
        Http h = usage(account, eventId);
        return new Http(h.method(), h.route(), h.path(), h.pathParams(), h.query(), Map.of("prefer", "return=minimal"), h.body(), h.who());
    }

    static Http usage(String account, String eventId) {
        return new Http("POST", "/v1/accounts/{id}/usage", "/v1/accounts/" + account + "/usage", Map.of("id", account), Map.of(),
                Map.of(), "{\"eventId\":\"" + eventId + "\",\"type\":\"ai_tokens\",\"model\":\"gpt-4o-mini\",\"inputTokens\":1200,"
                + "\"outputTokens\":350,\"occurredAt\":\"2026-11-24T10:00:00Z\"}", Who.metering());
    }

    static Http get(String route, String path, String account, Map<String, String> query, Who who) {
        return new Http("GET", route, path, Map.of("id", account), query, Map.of(), null, who);
    }

    /** The event as the HTTP API sends it to Lambda (payload format 2.0), as JSON. */
    static String json(Http h) {
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("accept", "*/*");
        if (h.who().claims().containsKey("sub")) headers.put("authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.redacted.redacted");
        if (h.body() != null) {
            headers.put("content-length", Integer.toString(h.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length));
            headers.put("content-type", "application/json");
        }
        headers.put("host", "abc123.execute-api.us-east-1.amazonaws.com");
        headers.put("user-agent", "bench/1.0");
        headers.put("x-amzn-trace-id", "Root=1-6743a1b2-0123456789abcdef01234567");
        headers.put("x-forwarded-for", "203.0.113.10");
        headers.put("x-forwarded-port", "443");
        headers.put("x-forwarded-proto", "https");
        headers.putAll(h.headers());
        String raw = query(h.query());
        Map<String, Object> http = new LinkedHashMap<>();
        http.put("method", h.method());
        http.put("path", h.path());
        http.put("protocol", "HTTP/1.1");
        http.put("sourceIp", "203.0.113.10");
        http.put("userAgent", "bench/1.0");
        Map<String, Object> rc = new LinkedHashMap<>();
        rc.put("accountId", "123456789012");
        rc.put("apiId", "abc123");
        if (!h.who().claims().isEmpty()) {
            rc.put("authorizer", Map.of("jwt", Map.of("claims", new LinkedHashMap<>(h.who().claims()),
                    "scopes", new ArrayList<>(h.who().scopes()))));
        }
        rc.put("domainName", "abc123.execute-api.us-east-1.amazonaws.com");
        rc.put("domainPrefix", "abc123");
        rc.put("http", http);
        rc.put("requestId", "bench-" + System.nanoTime());
        rc.put("routeKey", h.routeKey());
        rc.put("stage", "$default");
        rc.put("time", "24/Nov/2026:10:00:00 +0000");
        rc.put("timeEpoch", System.currentTimeMillis());
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("version", "2.0");
        e.put("routeKey", h.routeKey());
        e.put("rawPath", h.path());
        e.put("rawQueryString", raw);
        e.put("headers", headers);
        if (!h.query().isEmpty()) e.put("queryStringParameters", new LinkedHashMap<>(h.query()));
        e.put("requestContext", rc);
        e.put("pathParameters", new LinkedHashMap<>(h.pathParams()));
        if (h.body() != null) e.put("body", h.body());
        e.put("isBase64Encoded", false);
        return Json.write(e);
    }

    /** The same event as the Lambda events library's object, for in-process calls. */
    static APIGatewayV2HTTPEvent object(Http h) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (h.body() != null) headers.put("content-type", "application/json");
        headers.putAll(h.headers());
        var jwt = APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                .withClaims(h.who().claims()).withScopes(h.who().scopes()).build();
        var rc = APIGatewayV2HTTPEvent.RequestContext.builder()
                .withRouteKey(h.routeKey()).withRequestId("bench-" + System.nanoTime())
                .withAuthorizer(h.who().claims().isEmpty() ? null : APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder().withJwt(jwt).build())
                .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod(h.method()).withPath(h.path()).build())
                .build();
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey(h.routeKey()).withRawPath(h.path())
                .withRawQueryString(query(h.query())).withHeaders(headers)
                .withQueryStringParameters(h.query().isEmpty() ? null : h.query())
                .withPathParameters(h.pathParams()).withBody(h.body()).withIsBase64Encoded(false)
                .withRequestContext(rc).build();
    }

    private static String query(Map<String, String> q) {
        StringBuilder b = new StringBuilder();
        q.forEach((k, v) -> b.append(b.isEmpty() ? "" : "&").append(k).append('=').append(v));
        return b.toString();
    }

    /** A DynamoDB stream event of one record, as Lambda's event source mapping delivers it. */
    static String stream(String eventName, String viewType, Map<String, AttributeValue> keys,
                         Map<String, AttributeValue> oldImage, Map<String, AttributeValue> newImage, String table) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("ApproximateCreationDateTime", System.currentTimeMillis() / 1000);
        d.put("Keys", ddbJson(keys));
        if (newImage != null) d.put("NewImage", ddbJson(newImage));
        if (oldImage != null) d.put("OldImage", ddbJson(oldImage));
        d.put("SequenceNumber", Long.toString(100000000000L + System.nanoTime() % 1000000000L));
        d.put("SizeBytes", 512);
        d.put("StreamViewType", viewType);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("eventID", "bench-" + System.nanoTime());
        r.put("eventName", eventName);
        r.put("eventVersion", "1.1");
        r.put("eventSource", "aws:dynamodb");
        r.put("awsRegion", "us-east-1");
        r.put("dynamodb", d);
        r.put("eventSourceARN", "arn:aws:dynamodb:us-east-1:123456789012:table/" + table + "/stream/2026-11-24T00:00:00.000");
        return Json.write(Map.of("Records", List.of(r)));
    }

    static Map<String, Object> ddbJson(Map<String, AttributeValue> item) {
        Map<String, Object> out = new LinkedHashMap<>();
        item.forEach((k, v) -> out.put(k, ddbJson(v)));
        return out;
    }

    private static Object ddbJson(AttributeValue v) {
        if (v.s() != null) return Map.of("S", v.s());
        if (v.n() != null) return Map.of("N", v.n());
        if (v.bool() != null) return Map.of("BOOL", v.bool());
        if (Boolean.TRUE.equals(v.nul())) return Map.of("NULL", true);
        if (v.hasM()) return Map.of("M", ddbJson(v.m()));
        if (v.hasL()) return Map.of("L", v.l().stream().map(Events::ddbJson).toList());
        if (v.hasSs()) return Map.of("SS", v.ss());
        if (v.hasNs()) return Map.of("NS", v.ns());
        return Map.of("NULL", true);
    }
}
