package dev.credits.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.store.Clients;
import dev.credits.payments.Secrets;
import dev.credits.webhook.StripeSignature;
import dev.credits.webhook.StripeWebhookHandler;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static dev.credits.local.TestStack.balance;
import static dev.credits.local.TestStack.fundedAccount;
import static dev.credits.local.TestStack.runner;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The webhook function's signing secret as deployed: named by its ARN, read from Secrets Manager (moto) on first use,
 * never at Init. A function built while the secret is still empty (as the stack creates it) starts, answers 503 with
 * Retry-After until the secret is set, then works with no redeploy; a rotated value takes effect once the refresh
 * interval has passed.
 */
class SecretsRotationTest {
    private static final Clients.Timeouts TIMEOUTS = new Clients.Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(5),
            Duration.ofSeconds(5), Duration.ofSeconds(10));

    @Test
    void anEmptySecretMeans503UntilItIsSetAndARotationTakesEffectWithinTheInterval() {
        String moto = TestStack.messagingEndpoint();
        assumeTrue(moto != null && !StackBackend.localstack(), "needs moto server (MOTO_ENDPOINT), as make test starts it");
        runner(); // the stack, and the stand-ins' keys in the default credentials chain
        try (SecretsManagerClient sm = Clients.configure(SecretsManagerClient.builder(), "us-east-1", moto, TIMEOUTS).build()) {
            String arn = sm.createSecret(b -> b.name("webhook-signing-" + UUID.randomUUID())).arn();
            Map<String, String> env = new HashMap<>(runner().functionEnv());
            env.remove("STRIPE_WEBHOOK_SECRET");
            env.put("STRIPE_WEBHOOK_SECRET_ARN", arn);
            env.put("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto);

            StripeWebhookHandler function = new StripeWebhookHandler(env); // Init: nothing read, nothing fails
            String account = fundedAccount("secret", null);
            String payload = StripeEvents.session("checkout.session.completed", account, "cs_" + UUID.randomUUID(),
                    "pi_" + UUID.randomUUID(), 7, 700, "paid");
            StripeSignature first = new StripeSignature("whsec_first", 300, Clock.systemUTC());

            APIGatewayV2HTTPResponse before = function.handleRequest(event(payload, first.header(payload)), null);
            assertEquals(503, before.getStatusCode(), before.getBody());
            assertNotNull(before.getHeaders().get("retry-after"), "Stripe is told when to retry");
            assertEquals(0, BigDecimal.ZERO.compareTo(balance(account)), "nothing credited");

            sm.putSecretValue(b -> b.secretId(arn).secretString("whsec_first"));
            APIGatewayV2HTTPResponse after = function.handleRequest(event(payload, first.header(payload)), null);
            assertEquals(200, after.getStatusCode(), after.getBody());
            assertEquals(0, new BigDecimal("7").compareTo(balance(account)), "set without a deploy: the retry is credited");

            // rotation, on a clock the test moves, through the same Secrets Manager API
            MovingClock clock = new MovingClock();
            Secrets.Secret secret = Secrets.of(env, "STRIPE_WEBHOOK_SECRET", clock);
            assertEquals("whsec_first", secret.value());
            sm.putSecretValue(b -> b.secretId(arn).secretString("whsec_second"));
            clock.advance(Secrets.REFRESH.minusSeconds(1));
            assertEquals("whsec_first", secret.value(), "still the cached value within the interval");
            clock.advance(Duration.ofSeconds(1));
            assertEquals("whsec_second", secret.value(), "the rotated value, within " + Secrets.REFRESH);
        }
    }

    private static APIGatewayV2HTTPEvent event(String payload, String signature) {
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey("POST /v1/stripe/webhook")
                .withRawPath("/v1/stripe/webhook")
                .withHeaders(Map.of("content-type", "application/json", "stripe-signature", signature))
                .withBody(payload).withIsBase64Encoded(false).build();
    }

    static final class MovingClock extends Clock {
        private Instant now = Instant.parse("2026-12-03T12:00:00Z");
        void advance(Duration d) { now = now.plus(d); }
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }
}
