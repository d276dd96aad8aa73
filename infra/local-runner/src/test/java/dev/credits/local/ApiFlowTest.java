package dev.credits.local;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/** The spec's flow, over HTTP against the local runner: create, grant, use until the hard limit, replay, read, close. */
@ContractTest
class ApiFlowTest {

    @Test
    void wholeFlowFromCreateToClose() {
        String id = newAccountId("flow");
        Resp created = post("/v1/accounts", admin(), "{\"accountId\":\"" + id + "\",\"softLimit\":0.5,\"plan\":\"starter\"}");
        assertEquals(201, created.status(), created.raw().body());
        assertEquals("ACTIVE", created.body().get("status"));
        assertEquals(0, created.num("balance").signum());
        assertEquals(new BigDecimal("0.5"), created.num("softLimit"));

        Resp again = post("/v1/accounts", admin(), "{\"accountId\":\"" + id + "\"}");
        assertEquals(409, again.status());
        assertEquals("account_exists", again.code());

        Resp grant = post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":1,\"reason\":\"welcome\"}");
        assertEquals(201, grant.status(), grant.raw().body());
        assertEquals(0, new BigDecimal("1").compareTo(grant.num("balance")));

        // gpt-4o: 2.50 per 1M input, 10.00 per 1M output -> 100000 in + 20000 out = 0.25 + 0.2 = 0.45 credits
        Resp u1 = post("/v1/accounts/" + id + "/usage", metering(), aiEvent("e1", "gpt-4o", 100_000, 20_000));
        assertEquals(201, u1.status(), u1.raw().body());
        assertEquals(0, new BigDecimal("0.45").compareTo(u1.num("charged")));
        assertEquals(0, new BigDecimal("0.55").compareTo(u1.num("balance")));
        assertEquals("2026-11-01.1", u1.body().get("priceBookVersion"));
        assertEquals(Map.of("inputPer1M", new BigDecimal("2.5"), "outputPer1M", new BigDecimal("10")), u1.body().get("rates"));

        Resp u2 = post("/v1/accounts/" + id + "/usage", metering(), aiEvent("e2", "gpt-4o", 100_000, 20_000));
        assertEquals(201, u2.status());
        assertEquals(0, new BigDecimal("0.1").compareTo(u2.num("balance")));

        Resp refused = post("/v1/accounts/" + id + "/usage", metering(), aiEvent("e3", "gpt-4o", 100_000, 20_000));
        assertEquals(402, refused.status());
        assertEquals("hard_limit_reached", refused.code());
        assertEquals(0, new BigDecimal("0.1").compareTo((BigDecimal) refused.error().get("balance")));
        assertEquals(0, BigDecimal.ZERO.compareTo((BigDecimal) refused.error().get("hardLimit")));
        assertTrue(((String) refused.error().get("message")).contains("0.45"));

        // a refused event leaves no charge, and may be retried after a top-up (here: a grant)
        assertEquals(0, new BigDecimal("0.1").compareTo(balance(id)));
        post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":1,\"reason\":\"top up\"}");
        Resp retried = post("/v1/accounts/" + id + "/usage", metering(), aiEvent("e3", "gpt-4o", 100_000, 20_000));
        assertEquals(201, retried.status(), retried.raw().body());
        assertEquals(0, new BigDecimal("0.65").compareTo(retried.num("balance")));

        // replay: same eventId and body -> first result, nothing charged
        Resp replay = post("/v1/accounts/" + id + "/usage", metering(), aiEvent("e1", "gpt-4o", 100_000, 20_000));
        assertEquals(200, replay.status());
        assertEquals(Boolean.TRUE, replay.body().get("replayed"));
        assertEquals(u1.body().get("recordedAt"), replay.body().get("recordedAt"));
        assertEquals(0, new BigDecimal("0.45").compareTo(replay.num("charged")));
        assertEquals(0, new BigDecimal("0.65").compareTo(balance(id)));
        // same eventId, different body -> 409, nothing charged
        Resp conflict = post("/v1/accounts/" + id + "/usage", metering(), aiEvent("e1", "gpt-4o", 100_001, 20_000));
        assertEquals(409, conflict.status());
        assertEquals("idempotency_conflict", conflict.code());
        assertEquals(0, new BigDecimal("0.65").compareTo(balance(id)));

        Resp wu = post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("w1", 3));
        assertEquals(201, wu.status());
        assertEquals(0, new BigDecimal("0.0003").compareTo(wu.num("charged")));

        // history: newest first, every balance change once
        Resp history = get("/v1/accounts/" + id + "/usage", owner(id));
        assertEquals(200, history.status());
        List<Map<String, Object>> items = history.items();
        assertEquals(List.of("usage#w1", "usage#e3", "grant", "usage#e2", "usage#e1", "grant"),
                items.stream().map(m -> ((String) m.get("entryId")).startsWith("grant#") ? "grant" : (String) m.get("entryId")).toList());
        BigDecimal sum = items.stream().map(m -> (BigDecimal) m.get("amount")).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertEquals(0, sum.compareTo(balance(id)), "conservation: the ledger sums to the balance");

        // overview: per-day totals from the aggregates
        drain();
        Resp summary = get("/v1/accounts/" + id + "/usage/summary", owner(id));
        assertEquals(200, summary.status(), summary.raw().body());
        @SuppressWarnings("unchecked") Map<String, Object> totals = (Map<String, Object>) summary.body().get("totals");
        assertEquals(0, new BigDecimal("1.3503").compareTo((BigDecimal) totals.get("credits")));
        @SuppressWarnings("unchecked") Map<String, Object> ai = (Map<String, Object>) totals.get("aiTokens");
        assertEquals(0, new BigDecimal("300000").compareTo((BigDecimal) ai.get("inputTokens")));
        assertEquals(0, new BigDecimal("3").compareTo((BigDecimal) ai.get("events")));
        assertEquals(30, ((List<?>) summary.body().get("days")).size());

        // close: forfeits the balance by a ledger entry, refuses usage and grants afterwards, history stays readable
        Resp closed = post("/v1/accounts/" + id + "/close", owner(id), null);
        assertEquals(200, closed.status(), closed.raw().body());
        assertEquals("CLOSED", closed.body().get("status"));
        assertEquals(0, new BigDecimal("0.6497").compareTo(closed.num("forfeited")));
        assertEquals(0, closed.num("balance").signum());
        assertEquals("account_closed", post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("w2", 1)).code());
        assertEquals("account_closed", post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":1,\"reason\":\"x\"}").code());
        assertEquals(403, post("/v1/accounts/" + id + "/usage", metering(), unitsEvent("w2", 1)).status());
        Resp afterClose = get("/v1/accounts/" + id + "/usage?type=forfeit", owner(id));
        assertEquals(1, afterClose.items().size());
        assertEquals(0, new BigDecimal("-0.6497").compareTo((BigDecimal) afterClose.items().get(0).get("amount")));
        // closing twice is harmless
        assertEquals(200, post("/v1/accounts/" + id + "/close", admin(), null).status());
        assertEquals(0, balance(id).signum());
    }

    @Test
    void hardLimitAboveZeroKeepsAFloorAndLoweringItReleasesCredits() {
        String id = fundedAccount("floor", "1");
        Resp set = put("/v1/accounts/" + id + "/limits", owner(id), "{\"hardLimit\":0.6,\"softLimit\":0.8,\"alertEmail\":\"ops@example.com\"}");
        assertEquals(200, set.status(), set.raw().body());
        assertEquals(0, new BigDecimal("0.4").compareTo(set.num("spendable")));
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), aiEvent("a", "gpt-4o", 100_000, 0)).status()); // 0.25
        Resp refused = post("/v1/accounts/" + id + "/usage", metering(), aiEvent("b", "gpt-4o", 100_000, 0));
        assertEquals(402, refused.status());
        assertEquals(0, new BigDecimal("0.75").compareTo(balance(id)));
        Resp lowered = put("/v1/accounts/" + id + "/limits", owner(id), "{\"hardLimit\":0}");
        assertEquals(200, lowered.status(), lowered.raw().body());
        assertEquals(201, post("/v1/accounts/" + id + "/usage", metering(), aiEvent("b", "gpt-4o", 100_000, 0)).status());
        // soft limit must stay above the hard limit
        Resp bad = put("/v1/accounts/" + id + "/limits", owner(id), "{\"hardLimit\":0.9}");
        assertEquals(400, bad.status());
        assertEquals("softLimit", bad.error().get("field"));
        Resp account = get("/v1/accounts/" + id, owner(id));
        assertEquals("ops@example.com", account.body().get("alertEmail"));
        assertEquals(0, BigDecimal.ZERO.compareTo(account.num("hardLimit")));
        // clearing the soft limit and the email
        Resp cleared = put("/v1/accounts/" + id + "/limits", owner(id), "{\"softLimit\":null,\"alertEmail\":null}");
        assertEquals(200, cleared.status());
        assertSame(dev.credits.core.json.Json.NULL, cleared.body().get("softLimit"));
        assertSame(dev.credits.core.json.Json.NULL, cleared.body().get("alertEmail"));
    }

    @Test
    void grantsWithAGrantIdAreIdempotent() {
        String id = fundedAccount("grant", null);
        String body = "{\"credits\":2.5,\"reason\":\"promo\",\"grantId\":\"promo-1\"}";
        assertEquals(201, post("/v1/accounts/" + id + "/grants", admin(), body).status());
        Resp again = post("/v1/accounts/" + id + "/grants", admin(), body);
        assertEquals(200, again.status());
        assertEquals(Boolean.TRUE, again.body().get("replayed"));
        assertEquals(0, new BigDecimal("2.5").compareTo(balance(id)));
        Resp other = post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":3,\"reason\":\"promo\",\"grantId\":\"promo-1\"}");
        assertEquals(409, other.status());
        assertEquals(0, new BigDecimal("2.5").compareTo(balance(id)));
    }

    @Test
    void unknownAccountsAre404() {
        assertEquals("account_not_found", post("/v1/accounts/nobody-here/usage", metering(), unitsEvent("x", 1)).code());
        assertEquals(404, get("/v1/accounts/nobody-here", admin()).status());
        assertEquals(404, get("/v1/accounts/nobody-here/usage", admin()).status());
        assertEquals(404, get("/v1/accounts/nobody-here/usage/summary", admin()).status());
        assertEquals(404, put("/v1/accounts/nobody-here/limits", admin(), "{\"hardLimit\":1}").status());
        assertEquals(404, post("/v1/accounts/nobody-here/grants", admin(), "{\"credits\":1,\"reason\":\"x\"}").status());
        assertEquals(404, post("/v1/accounts/nobody-here/close", admin(), null).status());
    }
}
