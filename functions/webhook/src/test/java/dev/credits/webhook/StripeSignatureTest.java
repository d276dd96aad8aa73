package dev.credits.webhook;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.*;

/** Signature cases with a fixed clock, in the manner of stripe-java's WebhookTest. */
class StripeSignatureTest {
    private static final String SECRET = "whsec_test_secret";
    private static final String PAYLOAD = "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    private static final long T = 1_795_514_400L;
    private static final Clock AT_T = Clock.fixed(Instant.ofEpochSecond(T), ZoneOffset.UTC);

    private static StripeSignature at(Clock clock) {
        return new StripeSignature(SECRET, 300, clock);
    }

    private static String header(long t, String... sigs) {
        StringBuilder b = new StringBuilder("t=" + t);
        for (String s : sigs) b.append(",v1=").append(s);
        return b.toString();
    }

    @Test
    void aValidSignatureVerifies() {
        StripeSignature s = at(AT_T);
        assertNull(s.problem(PAYLOAD, header(T, s.sign(T, PAYLOAD))));
        assertNull(s.problem(PAYLOAD, s.header(PAYLOAD)));
    }

    @Test
    void theKnownVectorMatchesStripesScheme() {
        // HMAC-SHA256("whsec_test_secret", "1795514400." + PAYLOAD), computed independently (openssl dgst -sha256 -hmac)
        assertEquals("92b32d7e26f7db17c54317cd66929028c1b12d4b1197773991befc74d0ace824",
                new StripeSignature(SECRET, 300, AT_T).sign(T, PAYLOAD));
    }

    @Test
    void aWrongSecretIsRefused() {
        String sig = new StripeSignature("whsec_wrong", 300, AT_T).sign(T, PAYLOAD);
        assertEquals("no signature matches the payload", at(AT_T).problem(PAYLOAD, header(T, sig)));
    }

    @Test
    void aTamperedBodyIsRefused() {
        StripeSignature s = at(AT_T);
        String sig = s.sign(T, PAYLOAD);
        assertNotNull(s.problem(PAYLOAD.replace("evt_test_webhook", "evt_test_webhooK"), header(T, sig)));
        assertNotNull(s.problem(PAYLOAD + " ", header(T, sig)), "even whitespace");
    }

    @Test
    void aStaleOrFutureTimestampIsRefusedAndTheEdgeIsAccepted() {
        StripeSignature s = at(AT_T);
        long old = T - 301;
        assertEquals("timestamp outside the tolerance", s.problem(PAYLOAD, header(old, s.sign(old, PAYLOAD))));
        long edge = T - 300;
        assertNull(s.problem(PAYLOAD, header(edge, s.sign(edge, PAYLOAD))));
        long future = T + 301;
        assertNotNull(s.problem(PAYLOAD, header(future, s.sign(future, PAYLOAD))));
        // a zero tolerance turns the check off, as in stripe-java
        assertNull(new StripeSignature(SECRET, 0, AT_T).problem(PAYLOAD, header(old, s.sign(old, PAYLOAD))));
    }

    @Test
    void aMissingOrMalformedHeaderIsRefused() {
        StripeSignature s = at(AT_T);
        assertEquals("missing Stripe-Signature header", s.problem(PAYLOAD, null));
        assertEquals("missing Stripe-Signature header", s.problem(PAYLOAD, " "));
        assertEquals("no timestamp in Stripe-Signature", s.problem(PAYLOAD, "v1=" + s.sign(T, PAYLOAD)));
        assertEquals("no v1 signature in Stripe-Signature", s.problem(PAYLOAD, "t=" + T + ",v0=" + s.sign(T, PAYLOAD)));
        assertEquals("malformed timestamp", s.problem(PAYLOAD, "t=abc,v1=" + s.sign(T, PAYLOAD)));
        assertNotNull(s.problem(PAYLOAD, "garbage"));
    }

    @Test
    void severalV1SignaturesPassIfAnyMatches() {
        StripeSignature s = at(AT_T);
        String good = s.sign(T, PAYLOAD);
        String bad = new StripeSignature("whsec_rolled_out", 300, AT_T).sign(T, PAYLOAD);
        assertNull(s.problem(PAYLOAD, header(T, bad, good)));
        assertNull(s.problem(PAYLOAD, header(T, good, bad)));
        assertNotNull(s.problem(PAYLOAD, header(T, bad, bad)));
    }

    @Test
    void anEmptySecretIsAConfigurationError() {
        assertThrows(IllegalStateException.class, () -> new StripeSignature("", 300, AT_T));
    }
}
