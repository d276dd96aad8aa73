package dev.credits.core.http;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import dev.credits.core.json.Json;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The parts of an API Gateway HTTP API (payload 2.0) event a handler uses, validated. */
public final class Request {
    private final APIGatewayV2HTTPEvent event;

    public Request(APIGatewayV2HTTPEvent event) {
        this.event = event;
    }

    public String routeKey() {
        return event.getRouteKey() == null ? "" : event.getRouteKey();
    }

    public String requestId() {
        var rc = event.getRequestContext();
        return rc == null || rc.getRequestId() == null ? "-" : rc.getRequestId();
    }

    public String pathParam(String name) {
        Map<String, String> p = event.getPathParameters();
        return p == null ? null : p.get(name);
    }

    public String query(String name) {
        Map<String, String> q = event.getQueryStringParameters();
        return q == null ? null : q.get(name);
    }

    public Set<String> queryNames() {
        Map<String, String> q = event.getQueryStringParameters();
        return q == null ? Set.of() : q.keySet();
    }

    public String header(String name) {
        Map<String, String> h = event.getHeaders();
        if (h == null) return null;
        String v = h.get(name.toLowerCase(Locale.ROOT));
        if (v != null) return v;
        for (Map.Entry<String, String> e : h.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) return e.getValue();
        }
        return null;
    }

    /** The caller from the authorizer's JWT claims; 401 if there are none. */
    public Caller caller() {
        var rc = event.getRequestContext();
        var auth = rc == null ? null : rc.getAuthorizer();
        var jwt = auth == null ? null : auth.getJwt();
        if (jwt == null || jwt.getClaims() == null || jwt.getClaims().isEmpty()) {
            throw new ApiException(401, "unauthenticated", "A valid bearer token is required.");
        }
        Map<String, String> claims = jwt.getClaims();
        Set<String> scopes = new HashSet<>();
        List<String> listed = jwt.getScopes();
        if (listed != null) scopes.addAll(listed);
        String scopeClaim = claims.get("scope");
        if (scopeClaim != null) scopes.addAll(Arrays.asList(scopeClaim.trim().split("\\s+")));
        return new Caller(claims.get("sub"), claims.get(Caller.ACCOUNT_CLAIM), scopes);
    }

    /** The raw body text, base64-decoded when API Gateway encoded it. */
    public String rawBody() {
        String b = event.getBody();
        if (b == null) return "";
        if (event.getIsBase64Encoded()) {
            try {
                return new String(Base64.getDecoder().decode(b), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalidBody("The body is not valid base64.");
            }
        }
        return b;
    }

    /**
     * The JSON object body: 415 unless the content type is JSON, 413 past {@code maxBytes}, 400 unless it is
     * one well-formed JSON object.
     */
    public Map<String, Object> jsonBody(int maxBytes) {
        String ct = header("content-type");
        String mediaType = ct == null ? "" : ct.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw new ApiException(415, "unsupported_media_type", "Send the body as Content-Type: application/json.");
        }
        String[] params = ct.split(";");
        for (int i = 1; i < params.length; i++) {
            String[] kv = params[i].trim().split("=", 2);
            if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("charset")
                    && !kv[1].trim().replace("\"", "").equalsIgnoreCase("utf-8")) {
                throw new ApiException(415, "unsupported_media_type", "Send JSON in UTF-8.");
            }
        }
        String body = rawBody();
        if (body.length() > maxBytes || body.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
            throw new ApiException(413, "payload_too_large", "The body is larger than " + maxBytes + " bytes.");
        }
        try {
            return Json.parseObject(body);
        } catch (Json.MalformedJsonException e) {
            throw ApiException.invalidBody("The body is not a valid JSON object: " + e.getMessage());
        }
    }

    /** The {id} path parameter, validated; 400 names the field. */
    public String accountId() {
        String id = pathParam("id");
        if (!dev.credits.core.domain.AccountId.isValid(id)) {
            throw ApiException.invalid("id", "must be 1 to 64 of A-Z a-z 0-9 _ -");
        }
        return id;
    }
}
