package dev.credits.local;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Invariant 5: no caller reads or changes another account. Every route against no token, an expired token, a forged
 * token, another account's owner, and a token without the route's role; the victim account never changes.
 */
@ContractTest
class AuthorizationTest {
    private static String victim;
    private static String intruder;
    private static BigDecimal victimBalance;

    record Route(String method, String path, String body, List<String> allowed) {
        @Override public String toString() { return method + " " + path; }
    }

    static Stream<Route> routes() {
        return Stream.of(
                new Route("POST", "/v1/accounts", "{\"accountId\":\"authz-created\"}", List.of("admin")),
                new Route("GET", "/v1/accounts/{id}", null, List.of("owner", "admin")),
                new Route("PUT", "/v1/accounts/{id}/limits", "{\"hardLimit\":3}", List.of("owner", "admin")),
                new Route("POST", "/v1/accounts/{id}/usage", unitsEvent("authz-evt", 10_000), List.of("metering", "admin")),
                new Route("GET", "/v1/accounts/{id}/usage", null, List.of("owner", "admin")),
                new Route("GET", "/v1/accounts/{id}/usage/summary", null, List.of("owner", "admin")),
                new Route("POST", "/v1/accounts/{id}/grants", "{\"credits\":100,\"reason\":\"steal\"}", List.of("admin")),
                new Route("POST", "/v1/accounts/{id}/close", null, List.of("owner", "admin")),
                new Route("POST", "/v1/accounts/{id}/usage/batch", "{\"events\":[" + unitsEvent("authz-b", 10_000) + "]}", List.of("metering", "admin")),
                new Route("POST", "/v1/accounts/{id}/holds", "{\"holdId\":\"authz-h\",\"model\":\"gpt-4o\",\"inputTokens\":1,\"maxOutputTokens\":1}", List.of("metering", "admin")),
                new Route("GET", "/v1/accounts/{id}/holds/authz-h", null, List.of("owner", "metering", "admin")),
                new Route("POST", "/v1/accounts/{id}/holds/authz-h/capture", "{\"captureId\":\"c\",\"inputTokens\":1,\"outputTokens\":1}", List.of("metering", "admin")),
                new Route("POST", "/v1/accounts/{id}/holds/authz-h/release", null, List.of("metering", "admin")),
                new Route("POST", "/v1/accounts/{id}/topups", "{\"credits\":10}", List.of("owner")));
    }

    @BeforeAll
    static void accounts() {
        victim = fundedAccount("victim", "5");
        intruder = fundedAccount("intruder", "5");
        victimBalance = balance(victim);
    }

    private static LocalJwt wrongKey() {
        return new LocalJwt("some-other-secret", Clock.systemUTC());
    }

    private static LocalJwt past() {
        return new LocalJwt(LocalJwt.DEFAULT_SECRET, Clock.offset(Clock.systemUTC(), Duration.ofHours(-2)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("routes")
    void refusedUnlessTheTokenIsValidAndAllowed(Route r) {
        String path = r.path().replace("{id}", victim);
        List<String[]> attempts = new ArrayList<>();
        attempts.add(new String[]{"no token", null, "401"});
        attempts.add(new String[]{"garbage token", "not.a.jwt", "401"});
        attempts.add(new String[]{"expired owner token", past().issue("o", victim, List.of(), 60), "401"});
        attempts.add(new String[]{"expired admin token", past().issue("a", null, List.of("credits/admin"), 60), "401"});
        attempts.add(new String[]{"forged admin token", wrongKey().issue("a", null, List.of("credits/admin"), 3600), "401"});
        attempts.add(new String[]{"another account's owner", owner(intruder), "403"});
        attempts.add(new String[]{"owner with a made-up scope", runner().jwt().issue("o", intruder, List.of("credits/superuser"), 3600), "403"});
        if (!r.allowed().contains("owner")) attempts.add(new String[]{"the account's own owner", owner(victim), "403"});
        if (!r.allowed().contains("metering")) attempts.add(new String[]{"metering", metering(), "403"});
        for (String[] a : attempts) {
            Resp resp = call(r.method(), path, a[1], r.body());
            assertEquals(Integer.parseInt(a[2]), resp.status(), a[0] + " on " + r + ": " + resp.raw().body());
            assertEquals(a[2].equals("401") ? "unauthenticated" : "forbidden", resp.code(), a[0]);
            assertFalse(resp.raw().body().contains(victim) && r.method().equals("GET") && resp.raw().body().contains("balance"),
                    "no data of the victim leaks");
        }
        assertEquals(0, victimBalance.compareTo(balance(victim)), "the victim's balance never changed");
        assertEquals("ACTIVE", get("/v1/accounts/" + victim, admin()).body().get("status"));
        assertEquals(404, get("/v1/accounts/authz-created", admin()).status());
    }

    @Test
    void anOwnerReadsOnlyTheirOwnAccount() {
        assertEquals(200, get("/v1/accounts/" + intruder, owner(intruder)).status());
        assertEquals(200, get("/v1/accounts/" + intruder + "/usage", owner(intruder)).status());
        assertEquals(403, get("/v1/accounts/" + victim + "/usage", owner(intruder)).status());
        // a metering token records usage for any account but reads none
        assertEquals(403, get("/v1/accounts/" + intruder, metering()).status());
    }
}
