package dev.credits.payments;

import dev.credits.core.http.ApiException;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** When a Stripe secret is read, and what a caller sees while it cannot be (see {@link Secrets} for why). */
class SecretsTest {
    /** A clock the test moves. */
    static final class MovingClock extends Clock {
        Instant now = Instant.parse("2026-12-03T12:00:00Z");
        void advance(Duration d) { now = now.plus(d); }
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    /** Secrets Manager as a list of answers: a value, null (no value yet), or a failure. */
    static final class Manager implements Secrets.Fetch {
        Object answer;
        final List<String> asked = new ArrayList<>();
        @Override public String fetch(String arn) {
            asked.add(arn);
            if (answer instanceof RuntimeException e) throw e;
            return (String) answer;
        }
    }

    private final MovingClock clock = new MovingClock();
    private final Manager manager = new Manager();
    private final Secrets.Secret secret = new Secrets.Refreshing("STRIPE_API_KEY", "arn:key", manager, clock);

    @Test
    void nothingIsReadUntilFirstUseSoInitSucceedsWithAnEmptySecret() {
        // Init: the secret is named, not read (no client is built, no request is sent, nothing can fail here)
        Secrets.Secret s = Secrets.of(Map.of("STRIPE_API_KEY_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:k"),
                "STRIPE_API_KEY", clock);
        assertNotNull(s);
        assertEquals(List.of(), manager.asked);
        manager.answer = null; // created empty by the stack
        ApiException e = assertThrows(ApiException.class, secret::value);
        assertEquals(503, e.status());
        assertEquals(List.of("arn:key"), manager.asked, "the first use reads it");
        manager.answer = "sk_live_first";
        assertEquals("sk_live_first", secret.value(), "once filled the next call works, with no deploy");
    }

    @Test
    void aRotatedValueTakesEffectWithinTheRefreshInterval() {
        manager.answer = "sk_live_old";
        assertEquals("sk_live_old", secret.value());
        manager.answer = "sk_live_new"; // rotated in Secrets Manager
        clock.advance(Secrets.REFRESH.minusSeconds(1));
        assertEquals("sk_live_old", secret.value(), "cached within the interval");
        assertEquals(1, manager.asked.size());
        clock.advance(Duration.ofSeconds(1));
        assertEquals("sk_live_new", secret.value(), "the rotation has taken effect");
        assertEquals(2, manager.asked.size());
    }

    @Test
    void aManagerOutageServesTheLastValueForAWhileThenA503() {
        manager.answer = "whsec_1";
        assertEquals("whsec_1", secret.value());
        manager.answer = new IllegalStateException("Secrets Manager unreachable");
        clock.advance(Secrets.REFRESH);
        assertEquals("whsec_1", secret.value(), "stale but usable: a brownout does not stop payments");
        clock.advance(Secrets.STALE_LIMIT);
        ApiException e = assertThrows(ApiException.class, secret::value);
        assertEquals(503, e.status());
        assertEquals("unavailable", e.code());
    }

    @Test
    void aSecretEmptiedAfterUseIsNotServedFromTheCacheOnceRefreshed() {
        manager.answer = "whsec_1";
        secret.value();
        manager.answer = "  ";
        clock.advance(Secrets.REFRESH);
        assertEquals(503, assertThrows(ApiException.class, secret::value).status());
    }

    @Test
    void aDerivedObjectIsBuiltAgainOnlyWhenTheValueChanges() {
        List<String> built = new ArrayList<>();
        manager.answer = "k1";
        Supplier<StringBuilder> client = Secrets.derived(secret, v -> { built.add(v); return new StringBuilder(v); });
        StringBuilder first = client.get();
        clock.advance(Secrets.REFRESH);
        assertSame(first, client.get(), "same value, same object");
        manager.answer = "k2";
        clock.advance(Secrets.REFRESH);
        assertEquals("k2", client.get().toString());
        assertEquals(List.of("k1", "k2"), built);
    }

    @Test
    void locallyTheValueComesFromTheEnvironmentAndAMissingOneFailsAtInit() {
        assertEquals("sk_test_x", Secrets.of(Map.of("STRIPE_API_KEY", " sk_test_x "), "STRIPE_API_KEY", clock).value());
        assertThrows(IllegalStateException.class, () -> Secrets.of(Map.of(), "STRIPE_API_KEY", clock));
    }
}
