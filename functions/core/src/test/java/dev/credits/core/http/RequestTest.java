package dev.credits.core.http;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.RequestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RequestTest {

    private static APIGatewayV2HTTPEvent event(String contentType, String body) {
        APIGatewayV2HTTPEvent e = new APIGatewayV2HTTPEvent();
        Map<String, String> headers = new HashMap<>();
        if (contentType != null) headers.put("content-type", contentType);
        e.setHeaders(headers);
        e.setBody(body);
        return e;
    }

    private static void assertStatus(int status, String code, Runnable call) {
        ApiException e = assertThrows(ApiException.class, call::run);
        assertEquals(status, e.status());
        assertEquals(code, e.code());
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ;x=y"})
    void acceptsJsonContentTypes(String ct) {
        Map<String, Object> body = new Request(event(ct, "{\"units\": 3}")).jsonBody(1024);
        assertEquals(Map.of("units", new BigDecimal("3")), body);
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "application/json-patch+json", ""})
    void refusesOtherContentTypesWith415(String ct) {
        assertStatus(415, "unsupported_media_type", () -> new Request(event(ct, "{}")).jsonBody(1024));
    }

    @Test
    void refusesAMissingContentTypeWith415() {
        assertStatus(415, "unsupported_media_type", () -> new Request(event(null, "{}")).jsonBody(1024));
    }

    @Test
    void refusesOversizedBodiesWith413CountingBytes() {
        String ascii = "{\"k\": \"" + "a".repeat(100) + "\"}";
        assertStatus(413, "payload_too_large", () -> new Request(event("application/json", ascii)).jsonBody(100));
        new Request(event("application/json", ascii)).jsonBody(ascii.length());
        // 40 characters, 80 bytes in UTF-8
        String wide = "{\"k\": \"" + "\u00e9".repeat(40) + "\"}";
        assertStatus(413, "payload_too_large",
                () -> new Request(event("application/json", wide)).jsonBody(wide.length() + 10));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[]", "{", "{\"a\":1,\"a\":2}", "{} {}", "null"})
    void refusesBodiesThatAreNotOneJsonObjectWith400(String body) {
        assertStatus(400, "invalid_request", () -> new Request(event("application/json", body)).jsonBody(1024));
    }

    @Test
    void decodesBase64Bodies() {
        APIGatewayV2HTTPEvent e = event("application/json",
                Base64.getEncoder().encodeToString("{\"units\": 2}".getBytes(StandardCharsets.UTF_8)));
        e.setIsBase64Encoded(true);
        assertEquals(Map.of("units", new BigDecimal("2")), new Request(e).jsonBody(1024));

        APIGatewayV2HTTPEvent bad = event("application/json", "%%% not base64");
        bad.setIsBase64Encoded(true);
        assertStatus(400, "invalid_request", () -> new Request(bad).rawBody());
    }

    @Test
    void findsHeadersWhateverTheirCase() {
        APIGatewayV2HTTPEvent e = new APIGatewayV2HTTPEvent();
        e.setHeaders(Map.of("Content-Type", "application/json", "X-Trace", "t1"));
        Request r = new Request(e);
        assertEquals("application/json", r.header("content-type"));
        assertEquals("t1", r.header("x-trace"));
        assertNull(r.header("authorization"));
        assertNull(new Request(new APIGatewayV2HTTPEvent()).header("content-type"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"acct-1", "A", "a_b-C9"})
    void acceptsValidAccountIds(String id) {
        APIGatewayV2HTTPEvent e = new APIGatewayV2HTTPEvent();
        e.setPathParameters(Map.of("id", id));
        assertEquals(id, new Request(e).accountId());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a#1", "a b", "a/b", "\u00e9t\u00e9"})
    void refusesInvalidAccountIdsNamingId(String id) {
        APIGatewayV2HTTPEvent e = new APIGatewayV2HTTPEvent();
        e.setPathParameters(Map.of("id", id));
        ApiException ex = assertThrows(ApiException.class, () -> new Request(e).accountId());
        assertEquals(400, ex.status());
        assertEquals("id", ex.details().get("field"));
    }

    @Test
    void refusesAMissingAccountId() {
        ApiException ex = assertThrows(ApiException.class, () -> new Request(new APIGatewayV2HTTPEvent()).accountId());
        assertEquals("id", ex.details().get("field"));
    }

    @Test
    void callerWithoutClaimsIs401() {
        assertStatus(401, "unauthenticated", () -> new Request(new APIGatewayV2HTTPEvent()).caller());
        APIGatewayV2HTTPEvent e = withClaims(Map.of(), null);
        assertStatus(401, "unauthenticated", () -> new Request(e).caller());
    }

    @Test
    void callerReadsAccountAndScopes() {
        Caller owner = new Request(withClaims(Map.of("sub", "u1", "account_id", "acct-1"), null)).caller();
        assertEquals("acct-1", owner.accountId());
        assertEquals(Set.of(), owner.scopes());

        Caller metering = new Request(withClaims(Map.of("sub", "svc", "scope", " credits/metering  other "),
                List.of("credits/admin"))).caller();
        assertEquals(Set.of("credits/metering", "other", "credits/admin"), metering.scopes());
    }

    private static APIGatewayV2HTTPEvent withClaims(Map<String, String> claims, List<String> scopes) {
        RequestContext.Authorizer.JWT jwt = new RequestContext.Authorizer.JWT();
        jwt.setClaims(claims);
        jwt.setScopes(scopes);
        RequestContext.Authorizer auth = new RequestContext.Authorizer();
        auth.setJwt(jwt);
        RequestContext rc = new RequestContext();
        rc.setAuthorizer(auth);
        APIGatewayV2HTTPEvent e = new APIGatewayV2HTTPEvent();
        e.setRequestContext(rc);
        return e;
    }
}
