package dev.credits.payments;

import dev.credits.core.http.ApiException;
import dev.credits.core.log.Log;
import dev.credits.core.store.Clients;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Stripe keys: from AWS Secrets Manager when deployed ({@code <NAME>_ARN} names the secret), or straight from the
 * environment in the local runner ({@code <NAME>}). Never logged.
 *
 * <p>Why not read once at cold start: with SnapStart, Init runs when a version is published, so a secret read there
 * fails the publish while the secret is still empty (the stack creates it empty; an operator fills it after the
 * deploy), and once read it is frozen into the snapshot, so rotating a leaked key would change nothing until an
 * unrelated deploy. So a secret is fetched on first use, after restore, and again once {@link #REFRESH} has passed:
 * a rotated value takes effect within that time. Until a secret can be read the function answers 503 with
 * Retry-After and logs {@code secret_unavailable} (or {@code secret_empty}) with the secret's name.
 */
public final class Secrets {
    /** How long a fetched value is used before it is fetched again: a rotation takes effect within this. */
    public static final Duration REFRESH = Duration.ofMinutes(5);
    /** How long a value may still be used when Secrets Manager cannot be reached to refresh it. */
    public static final Duration STALE_LIMIT = Duration.ofHours(1);
    /** How long a caller is asked to wait before retrying while a secret cannot be read. */
    static final int RETRY_AFTER_SECONDS = 30;

    private Secrets() {}

    /** One secret's current value. */
    public interface Secret {
        /** The value now; an {@link ApiException} 503 (logged) when it cannot be read or is empty. */
        String value();
    }

    /** Fetches a secret's value by its ARN (Secrets Manager's GetSecretValue; null when it has none). */
    @FunctionalInterface
    public interface Fetch {
        String fetch(String arn);
    }

    /** The secret {@code name} as this environment gives it. Builds nothing and fetches nothing. */
    public static Secret of(Map<String, String> env, String name, Clock clock) {
        String direct = env.get(name);
        if (direct != null && !direct.isBlank()) {
            String v = direct.trim();
            return () -> v;
        }
        String arn = env.get(name + "_ARN");
        if (arn == null || arn.isBlank()) throw new IllegalStateException(name + "_ARN (or, locally, " + name + ") is not set");
        return new Refreshing(name, arn, new SecretsManagerFetch(env), clock);
    }

    /**
     * Something built from a secret's value (a Stripe client, a signature checker), built again only when the value
     * changes; each get asks the secret first, so it refreshes as the secret does.
     */
    public static <T> Supplier<T> derived(Secret secret, Function<String, T> build) {
        return new Supplier<>() {
            private String builtFrom;
            private T built;

            @Override
            public synchronized T get() {
                String v = secret.value();
                if (!v.equals(builtFrom)) {
                    built = build.apply(v);
                    builtFrom = v;
                }
                return built;
            }
        };
    }

    /** A secret in Secrets Manager: fetched on first use, refreshed after {@link #REFRESH}, stale-tolerant for a while. */
    static final class Refreshing implements Secret {
        private final String name;
        private final String arn;
        private final Fetch fetch;
        private final Clock clock;
        private String cached;
        private Instant fetchedAt;

        Refreshing(String name, String arn, Fetch fetch, Clock clock) {
            this.name = name;
            this.arn = arn;
            this.fetch = fetch;
            this.clock = clock;
        }

        @Override
        public synchronized String value() {
            Instant now = clock.instant();
            if (cached != null && now.isBefore(fetchedAt.plus(REFRESH))) return cached;
            String fresh;
            try {
                fresh = fetch.fetch(arn);
            } catch (RuntimeException e) {
                if (cached != null && now.isBefore(fetchedAt.plus(STALE_LIMIT))) {
                    Log.warn("secret_refresh_failed", "-", "secret", name, "cause", e.getClass().getName());
                    return cached;
                }
                Log.error("secret_unavailable", "-", "secret", name, "cause", e.getClass().getName());
                throw unavailable();
            }
            if (fresh == null || fresh.isBlank()) {
                Log.error("secret_empty", "-", "secret", name, "hint", "put the value in the secret " + name + "_ARN names");
                throw unavailable();
            }
            cached = fresh.trim();
            fetchedAt = now;
            return cached;
        }
    }

    private static ApiException unavailable() {
        return new ApiException(503, "unavailable", "The service is not ready to take payments yet; retry later.",
                Map.of(), RETRY_AFTER_SECONDS);
    }

    /** GetSecretValue through a client built on first use (never during Init), then kept for the instance's life. */
    static final class SecretsManagerFetch implements Fetch {
        private static final Clients.Timeouts TIMEOUTS = new Clients.Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(3),
                Duration.ofSeconds(3), Duration.ofSeconds(5));
        private final Map<String, String> env;
        private SecretsManagerClient client;

        SecretsManagerFetch(Map<String, String> env) {
            this.env = Map.copyOf(env);
        }

        @Override
        public synchronized String fetch(String arn) {
            if (client == null) {
                client = Clients.configure(SecretsManagerClient.builder(), env.getOrDefault("AWS_REGION", "us-east-1"),
                        env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER"), TIMEOUTS).build();
            }
            return client.getSecretValue(b -> b.secretId(arn)).secretString();
        }
    }
}
