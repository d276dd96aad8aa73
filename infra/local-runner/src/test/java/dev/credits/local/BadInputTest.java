package dev.credits.local;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/** Invariant 6: every bad input gets its 4xx in the spec's error shape, names the field, and changes nothing. */
@ContractTest
class BadInputTest {
    private static String account;
    private static BigDecimal balanceBefore;
    private static int entriesBefore;

    /** One row of the table: who sends what, and what must come back. */
    record Case(String name, String method, String path, String role, String contentType, String body,
                int status, String code, String field) {
        @Override public String toString() { return name; }
    }

    private static final String OK_AI = aiEvent("ok-1", "gpt-4o-mini", 10, 10);

    static Stream<Case> cases() {
        String u = "/v1/accounts/{id}/usage";
        String big = "{\"eventId\":\"big\",\"type\":\"workload_units\",\"units\":1,\"pad\":\"" + "x".repeat(9000) + "\"}";
        String deep = "{\"eventId\":\"deep\",\"type\":\"workload_units\",\"units\":1,\"x\":" + "[".repeat(40) + "]".repeat(40) + "}";
        return Stream.of(
                new Case("malformed JSON", "POST", u, "metering", "application/json", "{\"eventId\":", 400, "invalid_request", null),
                new Case("array body", "POST", u, "metering", "application/json", "[1,2]", 400, "invalid_request", null),
                new Case("empty body", "POST", u, "metering", "application/json", "", 400, "invalid_request", null),
                new Case("trailing garbage", "POST", u, "metering", "application/json", OK_AI + "x", 400, "invalid_request", null),
                new Case("text/plain", "POST", u, "metering", "text/plain", OK_AI, 415, "unsupported_media_type", null),
                new Case("no content type", "POST", u, "metering", null, OK_AI, 415, "unsupported_media_type", null),
                new Case("form encoded", "POST", u, "metering", "application/x-www-form-urlencoded", "a=b", 415, "unsupported_media_type", null),
                new Case("oversized body", "POST", u, "metering", "application/json", big, 413, "payload_too_large", null),
                new Case("deep nesting", "POST", u, "metering", "application/json", deep, 400, "invalid_request", null),
                new Case("duplicate key", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"d\",\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1}", 400, "invalid_request", null),
                new Case("tokens as string", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"s\",\"type\":\"ai_tokens\",\"model\":\"gpt-4o\",\"inputTokens\":\"12\",\"outputTokens\":1}", 400, "invalid_request", "inputTokens"),
                new Case("negative tokens", "POST", u, "metering", "application/json", aiEvent("n", "gpt-4o", -1, 5), 400, "invalid_request", "inputTokens"),
                new Case("fractional tokens", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"f\",\"type\":\"ai_tokens\",\"model\":\"gpt-4o\",\"inputTokens\":1.5,\"outputTokens\":1}", 400, "invalid_request", "inputTokens"),
                new Case("huge tokens", "POST", u, "metering", "application/json", aiEvent("h", "gpt-4o", 1, 10_000_000_000_000L), 400, "invalid_request", "outputTokens"),
                new Case("number past any range", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"r\",\"type\":\"workload_units\",\"units\":1e400}", 400, "invalid_request", "units"),
                new Case("zero tokens", "POST", u, "metering", "application/json", aiEvent("z", "gpt-4o", 0, 0), 400, "invalid_request", "inputTokens"),
                new Case("zero units", "POST", u, "metering", "application/json", unitsEvent("z", 0), 400, "invalid_request", "units"),
                new Case("unknown model", "POST", u, "metering", "application/json", aiEvent("m", "gpt-99-free", 10, 10), 400, "unknown_model", "model"),
                new Case("unknown unit kind", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"k\",\"type\":\"workload_units\",\"units\":1,\"unit\":\"quantum\"}", 400, "unknown_unit", "unit"),
                new Case("unknown type", "POST", u, "metering", "application/json", "{\"eventId\":\"t\",\"type\":\"free_stuff\"}", 400, "invalid_request", "type"),
                new Case("missing type", "POST", u, "metering", "application/json", "{\"eventId\":\"t\",\"units\":1}", 400, "invalid_request", "type"),
                new Case("missing eventId", "POST", u, "metering", "application/json", "{\"type\":\"workload_units\",\"units\":1}", 400, "invalid_request", "eventId"),
                new Case("eventId with a space", "POST", u, "metering", "application/json", unitsEvent("a b", 1), 400, "invalid_request", "eventId"),
                new Case("eventId too long", "POST", u, "metering", "application/json", unitsEvent("e".repeat(129), 1), 400, "invalid_request", "eventId"),
                new Case("unknown field (typo)", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"typo\",\"type\":\"ai_tokens\",\"model\":\"gpt-4o\",\"inputTokens\":1,\"outputToken\":1}", 400, "invalid_request", "outputToken"),
                new Case("bad occurredAt", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"o\",\"type\":\"workload_units\",\"units\":1,\"occurredAt\":\"yesterday\"}", 400, "invalid_request", "occurredAt"),
                new Case("bad account id", "POST", "/v1/accounts/bad.id/usage", "metering", "application/json", OK_AI, 400, "invalid_request", "id"),
                new Case("account id too long", "POST", "/v1/accounts/" + "a".repeat(65) + "/usage", "metering", "application/json", OK_AI, 400, "invalid_request", "id"),

                new Case("grant: 7 decimals", "POST", "/v1/accounts/{id}/grants", "admin", "application/json",
                        "{\"credits\":1.1234567,\"reason\":\"x\"}", 400, "invalid_request", "credits"),
                new Case("grant: negative", "POST", "/v1/accounts/{id}/grants", "admin", "application/json",
                        "{\"credits\":-1,\"reason\":\"x\"}", 400, "invalid_request", "credits"),
                new Case("grant: zero", "POST", "/v1/accounts/{id}/grants", "admin", "application/json",
                        "{\"credits\":0,\"reason\":\"x\"}", 400, "invalid_request", "credits"),
                new Case("grant: past long", "POST", "/v1/accounts/{id}/grants", "admin", "application/json",
                        "{\"credits\":100000000000000000000,\"reason\":\"x\"}", 400, "invalid_request", "credits"),
                new Case("grant: credits as string", "POST", "/v1/accounts/{id}/grants", "admin", "application/json",
                        "{\"credits\":\"5\",\"reason\":\"x\"}", 400, "invalid_request", "credits"),
                new Case("grant: no reason", "POST", "/v1/accounts/{id}/grants", "admin", "application/json",
                        "{\"credits\":5}", 400, "invalid_request", "reason"),

                new Case("limits: negative hard", "PUT", "/v1/accounts/{id}/limits", "owner", "application/json",
                        "{\"hardLimit\":-1}", 400, "invalid_request", "hardLimit"),
                new Case("limits: soft under hard", "PUT", "/v1/accounts/{id}/limits", "owner", "application/json",
                        "{\"hardLimit\":2,\"softLimit\":1}", 400, "invalid_request", "softLimit"),
                new Case("limits: bad email", "PUT", "/v1/accounts/{id}/limits", "owner", "application/json",
                        "{\"alertEmail\":\"not-an-email\"}", 400, "invalid_request", "alertEmail"),
                new Case("limits: nothing", "PUT", "/v1/accounts/{id}/limits", "owner", "application/json", "{}", 400, "invalid_request", null),
                new Case("limits: too many decimals", "PUT", "/v1/accounts/{id}/limits", "owner", "application/json",
                        "{\"softLimit\":0.0000001}", 400, "invalid_request", "softLimit"),

                new Case("history: limit 0", "GET", u + "?limit=0", "owner", null, null, 400, "invalid_request", "limit"),
                new Case("history: limit 501", "GET", u + "?limit=501", "owner", null, null, 400, "invalid_request", "limit"),
                new Case("history: limit abc", "GET", u + "?limit=abc", "owner", null, null, 400, "invalid_request", "limit"),
                new Case("history: forged cursor", "GET", u + "?cursor=bm90LWEtY3Vyc29y", "owner", null, null, 400, "invalid_request", "cursor"),
                new Case("history: bad type", "GET", u + "?type=refund", "owner", null, null, 400, "invalid_request", "type"),
                new Case("history: bad from", "GET", u + "?from=last-week", "owner", null, null, 400, "invalid_request", "from"),
                new Case("history: from after to", "GET", u + "?from=2026-11-20&to=2026-11-10", "owner", null, null, 400, "invalid_request", "from"),
                new Case("history: unknown parameter", "GET", u + "?sort=asc", "owner", null, null, 400, "invalid_request", "sort"),
                new Case("summary: 400 days", "GET", u + "/summary?from=2025-01-01&to=2026-02-05", "owner", null, null, 400, "invalid_request", "from"),
                new Case("summary: from after to", "GET", u + "/summary?from=2026-11-20&to=2026-11-10", "owner", null, null, 400, "invalid_request", "from"),
                new Case("summary: bad date", "GET", u + "/summary?to=2026-13-01", "owner", null, null, 400, "invalid_request", "to"),

                new Case("create: no id", "POST", "/v1/accounts", "admin", "application/json", "{\"plan\":\"x\"}", 400, "invalid_request", "accountId"),
                new Case("create: bad id", "POST", "/v1/accounts", "admin", "application/json", "{\"accountId\":\"a#b\"}", 400, "invalid_request", "accountId"),
                new Case("create: bad plan", "POST", "/v1/accounts", "admin", "application/json",
                        "{\"accountId\":\"bad-plan-acct\",\"plan\":\"a plan\"}", 400, "invalid_request", "plan"),
                new Case("close: body with fields", "POST", "/v1/accounts/{id}/close", "owner", "application/json",
                        "{\"force\":true}", 400, "invalid_request", "force"),
                new Case("no such route", "DELETE", "/v1/accounts/{id}", "admin", null, null, 404, "not_found", null),
                new Case("UTF-16 body", "POST", u, "metering", "application/json; charset=UTF-16", OK_AI, 415, "unsupported_media_type", null),
                new Case("occurredAt in year 1000000000", "POST", u, "metering", "application/json",
                        "{\"eventId\":\"far\",\"type\":\"workload_units\",\"units\":1,\"occurredAt\":\"+1000000000-12-31T23:59:59Z\"}", 400, "invalid_request", "occurredAt"),
                new Case("history: year -999999999", "GET", u + "?to=-999999999-01-01T00:00:00Z", "owner", null, null, 400, "invalid_request", "to"),
                new Case("history: from year -1000000000", "GET", u + "?from=-1000000000-01-01T00:00:00Z", "owner", null, null, 400, "invalid_request", "from"),
                new Case("summary: year -999999999", "GET", u + "/summary?from=-999999999-01-01&to=-999999999-01-05", "owner", null, null, 400, "invalid_request", "to"),
                new Case("grant: past the largest balance", "POST", "/v1/accounts/{id}/grants", "admin", "application/json",
                        "{\"credits\":1000000000000,\"reason\":\"x\"}", 400, "invalid_request", "credits"));
    }

    @BeforeAll
    static void fund() {
        account = fundedAccount("bad-input", "1");
        assertEquals(201, post("/v1/accounts/" + account + "/usage", metering(), OK_AI).status());
        balanceBefore = balance(account);
        entriesBefore = get("/v1/accounts/" + account + "/usage", admin()).items().size();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithItsCodeAndNothingChanges(Case c) {
        String token = switch (c.role()) {
            case "admin" -> admin();
            case "metering" -> metering();
            default -> owner(account);
        };
        Resp r = call(c.method(), c.path().replace("{id}", account), token, c.body(), c.contentType());
        assertEquals(c.status(), r.status(), c.name() + ": " + r.raw().body());
        assertNotNull(r.error(), "error shape: " + r.raw().body());
        assertEquals(c.code(), r.code());
        assertInstanceOf(String.class, r.error().get("message"));
        assertFalse(r.raw().body().contains("Exception") || r.raw().body().contains("\tat "), "no stack trace");
        if (c.field() != null) assertEquals(c.field(), r.error().get("field"), r.raw().body());
        assertEquals(0, balanceBefore.compareTo(balance(account)), "balance unchanged");
        Resp after = get("/v1/accounts/" + account + "/usage", admin());
        assertEquals(entriesBefore, after.items().size(), "no ledger entry");
        assertEquals(404, get("/v1/accounts/bad-plan-acct", admin()).status(), "no account created");
    }

    /** Headers past API Gateway's 10,240 bytes are refused by every function's shell too (431), and change nothing. */
    @Test
    void oversizedHeadersAreRefusedAndChangeNothing() {
        String pad = "x".repeat(dev.credits.core.http.HttpFunction.MAX_HEADER_BYTES);
        Resp r = callWithHeaders("POST", "/v1/accounts/" + account + "/usage", aiEvent("hdr-1", "gpt-4o-mini", 10, 10),
                "application/json", Map.of("Authorization", "Bearer " + metering(), "X-Padding", pad));
        assertEquals(431, r.status(), r.raw().body());
        assertEquals("headers_too_large", r.code());
        assertEquals(0, balanceBefore.compareTo(balance(account)), "balance unchanged");
        assertEquals(entriesBefore, get("/v1/accounts/" + account + "/usage", admin()).items().size(), "no ledger entry");
        // a large but allowed header set (a long token, a few tracing headers) still works
        Resp ok = callWithHeaders("GET", "/v1/accounts/" + account, null, null,
                Map.of("Authorization", "Bearer " + admin(), "X-Padding", "y".repeat(4_000)));
        assertEquals(200, ok.status(), ok.raw().body());
    }

    @Test
    void anEmptyRangeAfterTheCursorIsAnEmptyPageNotARetry() {
        Resp first = get("/v1/accounts/" + account + "/usage?limit=1", owner(account));
        String cursor = (String) first.body().get("nextCursor");
        assertNotNull(cursor);
        Resp r = get("/v1/accounts/" + account + "/usage?limit=5&cursor=" + cursor + "&from=2099-01-01", owner(account));
        assertEquals(200, r.status(), r.raw().body());
        assertEquals(0, r.items().size());
    }

    @Test
    void jsonErrorsDoNotLeakParserInternals() {
        Resp r = post("/v1/accounts/" + account + "/usage", metering(), "{\"eventId\":\"n\",\"units\":NaN}");
        assertEquals(400, r.status());
        String m = (String) r.error().get("message");
        assertFalse(m.contains("Feature") || m.contains("Constraints") || m.contains("jackson"), m);
    }

    @Test
    void malformedQueryValuesNeverCauseA500() throws Exception {
        for (String q : List.of("?limit=%00", "?from=%FF", "?cursor=%%%", "?type=,,,", "?limit=99999999999999999999",
                "?from=%E0%A4%A", "?limit=1&limit=2")) {
            // sent raw: java.net.http refuses to send some of these, a hostile client does not
            String response = rawGet("/v1/accounts/" + account + "/usage" + q, owner(account));
            int status = Integer.parseInt(response.substring(9, 12));
            assertTrue(status >= 400 && status < 500, q + " -> " + response);
            // (the JDK's HTTP server itself answers a URI it cannot parse with a plain 400, as API Gateway would)
        }
    }

    private static String rawGet(String pathAndQuery, String token) throws java.io.IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", runner().port())) {
            s.setSoTimeout(10_000);
            String req = "GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(req.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
