package dev.credits.local;

import dev.credits.core.log.Log;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;

/** Logs are one JSON object per line with a request id, and never hold a token, a Stripe secret or an email address. */
@ContractTest
class LogHygieneTest {

    @Test
    void noTokenSecretOrAddressReachesTheLogs() throws Exception {
        runner();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Log.redirect(new PrintStream(captured, true, StandardCharsets.UTF_8));
        String ownerToken;
        try {
            String id = fundedAccount("logs", "1");
            ownerToken = owner(id);
            put("/v1/accounts/" + id + "/limits", ownerToken, "{\"softLimit\":0.5,\"alertEmail\":\"secret.person@example.com\"}");
            post("/v1/accounts/" + id + "/usage", metering(), aiEvent("l1", "gpt-4o", 100_000, 20_000));
            post("/v1/accounts/" + id + "/usage", metering(), "{\"eventId\":\"bad\",\"type\":\"ai_tokens\"}");
            get("/v1/accounts/" + id + "/usage", ownerToken);
            get("/v1/accounts/" + id, "eyJhbGciOiJIUzI1NiJ9.forged.token");
            String payload = StripeEvents.session("checkout.session.completed", id, "cs_test_logs", "pi_logs", 10, 1000, "paid");
            StripeEvents.deliver(payload);
            StripeEvents.deliver(payload, "t=1,v1=deadbeef");
            drain();
        } finally {
            Log.redirect(System.out);
        }
        String logs = captured.toString(StandardCharsets.UTF_8);
        assertFalse(logs.isBlank(), "requests were logged");
        for (String line : logs.split("\n")) {
            if (line.isBlank()) continue;
            Map<String, Object> json = dev.credits.core.json.Json.parseObject(line);
            assertNotNull(json.get("requestId"), line);
            assertNotNull(json.get("event"), line);
        }
        assertFalse(logs.contains("eyJ"), "no JWT (header or payload) in the logs");
        assertFalse(logs.contains(ownerToken.substring(ownerToken.lastIndexOf('.') + 1)), "no token signature");
        assertFalse(logs.contains("whsec_") || logs.contains(TestStack.WEBHOOK_SECRET), "no webhook secret");
        assertFalse(logs.contains("sk_test") || logs.contains("sk_live"), "no Stripe key");
        assertFalse(logs.contains("secret.person@example.com"), "no email address");
        assertFalse(logs.contains("deadbeef"), "not even a forged signature");
    }
}
