package dev.credits.local;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.Map;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Starting a top-up creates a real Checkout Session request through stripe-java against stripe-mock (started by the
 * test command), which validates every parameter against Stripe's OpenAPI document: a wrong parameter fails here.
 */
@ContractTest
class TopupsTest {

    @BeforeAll
    static void mock() {
        assumeTrue(stripeMock() != null, "STRIPE_MOCK_URL is not set: the test command starts stripe-mock and sets it");
    }

    @Test
    void anOwnerGetsACheckoutUrlPricedServerSide() {
        String acct = fundedAccount("buy", null);
        Resp r = post("/v1/accounts/" + acct + "/topups", owner(acct), "{\"credits\":25,\"topupId\":\"t-1\"}");
        assertEquals(201, r.status(), r.raw().body());
        assertTrue(((String) r.body().get("checkoutSessionId")).startsWith("cs_"), r.raw().body());
        assertTrue(((String) r.body().get("url")).startsWith("https://"), r.raw().body());
        assertEquals(0, new BigDecimal("2500").compareTo(r.num("amount")), "25 credits at 100 cents each");
        assertEquals("usd", r.body().get("currency"));
        assertEquals(0, balance(acct).signum(), "nothing is credited before Stripe confirms the payment");
    }

    @Test
    void outOfRangeOrMalformedAmountsAreRefusedBeforeStripeIsCalled() {
        String acct = fundedAccount("buy-bad", null);
        for (Map.Entry<String, String> c : Map.of(
                "{\"credits\":4}", "credits", "{\"credits\":10001}", "credits", "{\"credits\":10.5}", "credits",
                "{\"credits\":\"10\"}", "credits", "{}", "credits", "{\"credits\":10,\"price\":1}", "price",
                "{\"credits\":10,\"topupId\":\"has space\"}", "topupId").entrySet()) {
            Resp r = post("/v1/accounts/" + acct + "/topups", owner(acct), c.getKey());
            assertEquals(400, r.status(), c.getKey() + " -> " + r.raw().body());
            assertEquals(c.getValue(), r.error().get("field"), c.getKey());
        }
    }

    @Test
    void closedUnknownAndOtherPeoplesAccountsAreRefused() {
        String acct = fundedAccount("buy-closed", null);
        String other = fundedAccount("buy-other", null);
        assertEquals(403, post("/v1/accounts/" + acct + "/topups", owner(other), "{\"credits\":10}").status());
        assertEquals(403, post("/v1/accounts/" + acct + "/topups", metering(), "{\"credits\":10}").status());
        assertEquals(401, post("/v1/accounts/" + acct + "/topups", null, "{\"credits\":10}").status());
        assertEquals(404, post("/v1/accounts/no-such-acct/topups", owner("no-such-acct"), "{\"credits\":10}").status());
        post("/v1/accounts/" + acct + "/close", admin(), null);
        Resp closed = post("/v1/accounts/" + acct + "/topups", owner(acct), "{\"credits\":10}");
        assertEquals(403, closed.status());
        assertEquals("account_closed", closed.code());
    }
}
